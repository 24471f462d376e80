"""A small closed-loop load generator in Python, for what wrk and ghz can't drive.

`run(make_op, ...)` starts `processes` spawned processes with `threads` threads
each; every thread calls `op(rng)` back to back until the shared deadline and
times each call that completes before it (calls are bounded by their own
timeouts, 5 s here). `make_op` runs once per process (open clients there, after
the spawn) and must be picklable: a module-level function or a
functools.partial of one. The operations used by the benchmark are below.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Op = Callable[[random.Random], object]


@dataclass(frozen=True)
class LoadStats:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run(make_op: Callable[..., Op], *, seconds: float, processes: int = 2, threads: int = 16,
        pass_worker: bool = False) -> LoadStats:
    """`pass_worker`: call `make_op(worker)` with the process's index (0..processes-1),
    e.g. to give each process its own range of unique values."""
    ctx = multiprocessing.get_context("spawn")  # never fork a process that holds gRPC channels
    barrier = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    workers = [ctx.Process(target=_process_main, args=(make_op, threads, seconds, barrier, results, seed, pass_worker),
                           daemon=True)
               for seed in range(processes)]
    for worker in workers:
        worker.start()
    try:
        barrier.wait(timeout=60)  # every process has its clients open: go
        collected = [results.get(timeout=seconds + 60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
                worker.join()
    latencies = sorted(lat for lats, _errors in collected for lat in lats)
    errors = sum(errors for _lats, errors in collected)
    return LoadStats(requests=len(latencies), errors=errors, seconds=seconds,
                     p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000)


def _process_main(make_op, threads: int, seconds: float, barrier, results, seed: int,
                  pass_worker: bool = False) -> None:
    op = make_op(seed) if pass_worker else make_op()
    barrier.wait(timeout=60)
    deadline = time.monotonic() + seconds
    per_thread: list[tuple[list[float], int]] = []
    lock = threading.Lock()

    def loop(thread_seed: int) -> None:
        rng = random.Random(thread_seed)
        lats: list[float] = []
        errors = 0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                op(rng)
                failed = False
            except Exception:  # noqa: BLE001 - an error is a data point here, not a crash
                failed = True
            if time.monotonic() > deadline:
                break  # like wrk and ghz: a call still in flight when the time is up doesn't count
            if failed:
                errors += 1
            else:
                lats.append(time.perf_counter() - start)
        with lock:
            per_thread.append((lats, errors))

    pool = [threading.Thread(target=loop, args=(seed * 1000 + i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put(([lat for lats, _ in per_thread for lat in lats], sum(e for _, e in per_thread)))


# --- operations -------------------------------------------------------------

def mongo_find_one(uri: str, database: str, collection: str, ids: list[str]) -> Op:
    import pymongo

    coll = pymongo.MongoClient(uri, maxPoolSize=64, socketTimeoutMS=5000)[database][collection]

    def op(rng: random.Random) -> object:
        doc = coll.find_one({"_id": rng.choice(ids)})
        if doc is None:
            raise LookupError("not found")
        return doc

    return op


def mongo_insert_one(uri: str, database: str, collection: str, template: dict) -> Op:
    """insert_one of a copy of `template` under a fresh random _id."""
    import secrets

    import pymongo

    coll = pymongo.MongoClient(uri, maxPoolSize=64, socketTimeoutMS=5000)[database][collection]
    return lambda rng: coll.insert_one({**template, "_id": "bench_" + secrets.token_hex(12)})


def grpc_get_customer(target: str, token: str, ids: list[str]) -> Op:
    import grpc
    from crm.customer.v1 import customer_service_pb2 as pb
    from crm.customer.v1 import customer_service_pb2_grpc

    stub = customer_service_pb2_grpc.CustomerServiceStub(grpc.insecure_channel(target))
    metadata = [("authorization", f"Bearer {token}")]
    return lambda rng: stub.GetCustomer(pb.GetCustomerRequest(id=rng.choice(ids)), metadata=metadata, timeout=5)


def grpc_health_check(target: str, service: str) -> Op:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(target))
    request = health_pb2.HealthCheckRequest(service=service)
    return lambda rng: stub.Check(request, timeout=5)


def grpc_create_customer(target: str, token: str, template: dict, phone_prefix: str, worker: int) -> Op:
    """CreateCustomer of `template` (a Customer as JSON) with a phone no one has:
    +86, `phone_prefix` (3 digits no demo phone uses), the worker's digit and a
    7-digit counter (unique per process and run)."""
    import itertools

    import grpc
    from crm.customer.v1 import customer_service_pb2 as pb
    from crm.customer.v1 import customer_service_pb2_grpc
    from google.protobuf import json_format

    stub = customer_service_pb2_grpc.CustomerServiceStub(grpc.insecure_channel(target))
    metadata = [("authorization", f"Bearer {token}")]
    base = json_format.ParseDict(template, pb.Customer())
    counter = itertools.count()  # next() is atomic under the GIL

    def op(rng: random.Random) -> object:
        n = next(counter)
        customer = pb.Customer()
        customer.CopyFrom(base)
        del customer.phones[:]
        customer.phones.append(f"+86{phone_prefix}{worker % 10}{n % 10_000_000:07d}")
        customer.owner_id = f"rep-{n % 20 + 1:03d}"
        return stub.CreateCustomer(pb.CreateCustomerRequest(customer=customer), metadata=metadata, timeout=5)

    return op

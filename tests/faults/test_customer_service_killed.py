"""The customer service killed with SIGKILL while it writes: after a restart
every customer that exists has had its customer.created event seen exactly
once by a consumer, and no event exists for a customer that does not
(DESIGN section 5: a producer never loses an event after its own write,
and never publishes one for a write that did not happen)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import grpc
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import customer_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.events.consumer import EventConsumer
from crm_kit.events.once import RedisOnce
from crm_kit.localstores import free_port
from crm_kit.mongo import connect
from tests.conftest import SECRET, token

ROUNDS = 3
WRITERS = 6


def start_service(port: int, stores, database: str) -> subprocess.Popen:
    env = {**os.environ, "CUSTOMER_GRPC_ADDR": f"127.0.0.1:{port}", "CUSTOMER_METRICS_PORT": "0",
           "CUSTOMER_MONGODB_URI": stores.mongodb_uri, "CUSTOMER_MONGODB_DATABASE": database,
           "EVENTS_REDIS_URL": stores.events_redis_url, "EVENTS_ENABLED": "true", "CRM_JWT_DEV_SECRET": SECRET,
           "CUSTOMER_POOL_RELEASE_INTERVAL_SECONDS": "0", "CUSTOMER_ABANDONED_WRITE_SECONDS": "2",
           "CRM_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "crm_customer.main"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                    return proc
            except grpc.RpcError:
                time.sleep(0.1)
        proc.kill()
        raise RuntimeError("the customer service did not start")
    finally:
        channel.close()


def write_until_refused(port: int, team: str, stop: threading.Event) -> None:
    metadata = [("authorization", f"Bearer {token('rep-fault', 'rep', team=team)}")]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
        while not stop.is_set():
            number = f"+86139{random.randrange(10**8):08d}"
            try:
                stub.CreateCustomer(pb.CreateCustomerRequest(customer=pb.Customer(
                    display_name="故障测试", phones=[number])), metadata=metadata, timeout=2)
            except grpc.RpcError:
                return  # the service is gone


@pytest.mark.e2e
def test_killed_between_write_and_relay_loses_no_event_and_invents_none(stores):
    database = f"crm_customer_fault_{uuid.uuid4().hex[:8]}"
    team = f"team-fault-{uuid.uuid4().hex[:6]}"
    port = free_port()
    for _round in range(ROUNDS):
        proc = start_service(port, stores, database)
        stop = threading.Event()
        writers = [threading.Thread(target=write_until_refused, args=(port, team, stop)) for _ in range(WRITERS)]
        for w in writers:
            w.start()
        time.sleep(random.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)  # mid-write: claims without documents, intents not relayed
        proc.wait()
        stop.set()
        for w in writers:
            w.join()
    db = connect(stores.mongodb_uri, "fault-test")[database]
    print(f"after {ROUNDS} kills: {db['outbox'].count_documents({})} intents not relayed")
    # A restart: its sweep completes what the dead writers claimed and publishes what they did not.
    proc = start_service(port, stores, database)
    try:
        def claimed_but_pending() -> list:
            return [i for i in db["outbox"].find({})
                    if any(db[i["collection"]].find_one({"_id": c}) is not None for c in i.get("claims", [i.get("claim")]))]

        deadline = time.monotonic() + 60
        while claimed_but_pending() and time.monotonic() < deadline:
            time.sleep(0.2)
        # Left: only intents of writers killed before they claimed (dropped once old); nothing to publish.
        assert claimed_but_pending() == []

        # A consumer that counts each customer.created of this test's team, exactly once per event id.
        events = redis.Redis.from_url(stores.events_redis_url)
        group = f"fault-{uuid.uuid4().hex[:6]}"
        once = RedisOnce(events, group)
        seen_key = f"fault:{group}:seen"

        def count(envelope) -> None:
            if envelope.type == ev.CUSTOMER_CREATED and ev.payload_of(envelope).team_id == team:
                once.apply(envelope.event_id, [("HINCRBY", seen_key, envelope.subject_id, 1)])

        consumer = EventConsumer(events, group, "c1", ["events:customer"], count, start_id="0")
        while consumer.poll_once(block_ms=200):
            pass
        seen = {k.decode(): int(v) for k, v in events.hgetall(seen_key).items()}
        stored = {d["_id"] for d in db["customers"].find({"team_id": team}, {"_id": 1})}
        assert stored, "no customer was written before the kills"
        assert set(seen) == stored  # every stored customer's event, and none for a customer not stored
        assert set(seen.values()) == {1}  # each exactly once
    finally:
        proc.kill()
        proc.wait()
        db.client.drop_database(database)
        db.client.close()

"""The customer suite: the customer service and its gateway routes.

  (a) gateway GET /api/v1/customers/{id}           floor (d1)
  (a0) the same with the gateway's rate limits off (gateway restarted with
      GATEWAY_RATE_LIMIT_ENABLED=false), then (a1) on again: the limiter's
      cost, mean (a), (a1) / (a0) >= 0.9. (d1) itself is a probe, exempt
      from limits, so the cost is measured on the hot limited route, and per
      request (the gateway's RateLimiter.check timed in this process, client
      plus Redis CPU, leasing as a default role budget does) against the
      platform CPU of one (d1) request: <= 10 %.
  (b) gateway GET /api/v1/customers/lookup?phone=  floor (d1); p99 vs (a)
  (c) gRPC GetCustomer to the customer service     floor (d2); also vs (d3)
  (e) gateway GET /api/v1/customers/lookup?email=  floor (d1); p99 vs (a)
  (g) gateway POST /api/v1/customers/{id}/interactions  floor (d1)
  (f) gateway GET /api/v1/customers?owner_id=&stage=: one client, single
      requests (the owner's book)
  (h0) gRPC CreateCustomer, unique phones, the customer service restarted with
      EVENTS_ENABLED=false;  (h) the same with events on (restarted again):
      (h) / (h0) >= 0.8
  (i) during (h): now - occurred_at of every customer.created event an
      EventConsumer (group "bench") in this process handles: p50, p99 < 1 s
  (k) gateway GET /api/v1/customers/360?phone=: p99 <= 2x p99 of (a); measured
      when the gateway's OpenAPI lists the route, otherwise left out (said so);
      then (k0) GET by id and (k1) the card, one client each: their p99s
      side by side, without queueing (no target)
  (j) CSV import with events on: `crm import`'s own function, --import-rows
      new demo customers (default as many as seeded), rows/s >= 2,000
"""

from __future__ import annotations

import functools
import os
import random
import sys
import threading
import time
from urllib.parse import quote

import harness
import pyload
from crm_cli import csv_io
from crm_cli.demo import MOBILE_PREFIXES, demo_customer, demo_phone
from crm_cli.seed import _to_pb
from crm_cli.transfer import import_csv
from crm_gateway.ratelimit import RateLimiter, RateLimitSettings
from crm_kit.events import bus
from crm_kit.events.consumer import EventConsumer
from crm_kit.events.envelope import CUSTOMER_CREATED, occurred_at, payload_of
from google.protobuf import json_format
from harness import (
    CUSTOMER_SERVICE,
    P99_RATIO_MAX,
    Bench,
    Report,
    Result,
    cpu_delta,
    cpu_seconds,
    log,
    ratio,
)

NAME = "customer"

RATE_LIMIT_COST_MAX = 0.10  # limits on may cost (a) at most 10 % of its throughput
EVENTS_WRITE_RATIO_MIN = 0.8  # creates/s with events on against off
EVENT_LATENCY_P99_MAX_MS = 1000.0
CARD_360_ROUTE = "/api/v1/customers/360"
CARD_360_P99_RATIO_MAX = 2.0
IMPORT_FIRST_INDEX = 10_000_000  # demo customers from here on were never seeded
IMPORT_ROWS_MIN_PER_S = 2000.0
# Mobile prefixes no demo phone uses: each CreateCustomer run (warm-ups too) takes
# the next one, so every phone it sends is new.
CREATE_PREFIXES = ["130", "131", "132", "133", "134", "135", "152", "153", "155", "156", "157", "180", "181",
                   "182", "183", "184", "185", "187", "189"]
assert not set(CREATE_PREFIXES) & set(MOBILE_PREFIXES)


def run(bench: Bench, report: Report) -> None:
    measure = functools.partial(bench.measure, suite=NAME)
    a = report.add(measure("a", "gateway GET /api/v1/customers/{id}", lambda: gateway_get_by_id(bench), floor="d1"))
    rate_limit_cost(bench, report, a)
    b = report.add(measure("b", "gateway GET /api/v1/customers/lookup?phone=",
                           lambda: gateway_lookup_by_phone(bench), floor="d1"))
    report.check("(b) p99 / (a) p99", ratio(b.p99_ms, a.p99_ms), "<=", P99_RATIO_MAX, row="b")
    c = report.add(measure("c", "gRPC GetCustomer (customer service)", lambda: grpc_get_customer(bench), floor="d2"))
    if "d3" in report.results:  # issue 6: GetCustomer against the store read it makes
        report.check("(c) / (d3) throughput", ratio(c.rps, report.results["d3"].rps), ">=", 0.7, row="c",
                     against="(d3)")
    e = report.add(measure("e", "gateway GET /api/v1/customers/lookup?email=",
                           lambda: gateway_lookup_by_email(bench), floor="d1"))
    report.check("(e) p99 / (a) p99", ratio(e.p99_ms, a.p99_ms), "<=", P99_RATIO_MAX, row="e")
    report.add(measure("g", "gateway POST /api/v1/customers/{id}/interactions",
                       lambda: gateway_record_interaction(bench), floor="d1"))
    report.single_calls = single_calls(bench)
    report.add(list_page_single(bench))
    events_scenarios(bench, report)
    card_360(bench, report, a)
    csv_import(bench, report)


# --- gateway reads and writes -------------------------------------------------------

def gateway_get_by_id(bench: Bench, clients: int = harness.CONCURRENCY):
    return bench.http([f"/api/v1/customers/{cid}" for cid in bench.ids], "paths-by-id.txt", clients=clients)


def gateway_lookup_by_phone(bench: Bench):
    phones = (demo_phone(n) for n in range(bench.args.customers))
    return bench.http([f"/api/v1/customers/lookup?phone={quote(p, safe='')}" for p in phones], "paths-by-phone.txt")


def gateway_lookup_by_email(bench: Bench):
    """About a quarter of the demo customers have an e-mail: look those up."""
    emails = [e for n in range(bench.args.customers) for e in demo_customer(n)["emails"][:1]]
    return bench.http([f"/api/v1/customers/lookup?email={quote(e, safe='')}" for e in emails], "paths-by-email.txt")


def gateway_record_interaction(bench: Bench):
    """An inbound call logged on a random customer, each POST with its own Idempotency-Key."""
    return bench.http_post([f"/api/v1/customers/{cid}/interactions" for cid in bench.ids], "paths-interactions.txt",
                           {"channel": "call", "direction": "inbound", "summary": "客户来电询问订单配送 (bench)"})


def grpc_get_customer(bench: Bench):
    ids = random.Random(1).sample(bench.ids, len(bench.ids))
    data_file = bench.work / "ghz-get-customer.json"  # ghz sends the array's messages round-robin
    data_file.write_text(harness.json.dumps([{"id": cid} for cid in ids]))
    python_op = functools.partial(pyload.grpc_get_customer, bench.platform.target("customer"), bench.token, ids)
    return bench.grpc("customer", f"{CUSTOMER_SERVICE}.GetCustomer", python_op, data_file=data_file,
                      metadata={"authorization": f"Bearer {bench.token}"})


def rate_limit_cost(bench: Bench, report: Report, limited: Result) -> None:
    """(a0): (a) again with the gateway restarted with rate limits off, then
    (a1) once more with them on (on, off, on: drift over the run cancels).
    The floor route (d1) is a probe and never limited, so its own on/off
    ratio would be 1 by construction; the limiter's cost is measured where it
    is paid, and, per request, against what a (d1) floor request costs."""
    bench.restart_with("gateway", {"GATEWAY_RATE_LIMIT_ENABLED": "false"})
    try:
        off = report.add(bench.measure("a0", "the same, gateway rate limits off", lambda: gateway_get_by_id(bench),
                                       suite=NAME))
    finally:
        bench.restart_with("gateway")
    again = report.add(bench.measure("a1", "the same, rate limits on again", lambda: gateway_get_by_id(bench),
                                     suite=NAME))
    on_rps = (limited.rps + again.rps) / 2
    report.check("(a) rate limits on / off throughput", ratio(on_rps, off.rps), ">=", 1 - RATE_LIMIT_COST_MAX,
                 row="a1", against="mean (a), (a1) / (a0)")
    # A check's cost depends on how many requests a worker leases at once: measured at the lease of a
    # default role budget (what production pays), and at the bench's own (what (a) and (a1) paid).
    default_budget = RateLimitSettings().per_role["rep"]
    per_check = limiter_cpu_per_check(bench, default_budget)
    at_bench_budget = limiter_cpu_per_check(bench, int(bench.platform.env.get("GATEWAY_RATE_LIMIT_ADMIN", 0)))
    floor = report.results.get("d1")
    floor_us = (sum(v for k, v in floor.cpu_cores.items() if k != "bench") / floor.rps * 1e6
                if floor is not None and floor.rps else float("nan"))
    share = ratio(per_check["cpu_us"], floor_us)
    report.check("limiter CPU per request / (d1) CPU per request", share, "<=", RATE_LIMIT_COST_MAX, row="a1",
                 against=f"(d1) {floor_us:,.0f} µs")
    report.extra["rate_limits"] = {"on_rps": [limited.rps, again.rps], "off_rps": off.rps,
                                   "throughput_ratio": round(ratio(on_rps, off.rps), 3),
                                   "d1_platform_cpu_us_per_request": round(floor_us, 1), **per_check,
                                   "at_bench_budget": at_bench_budget, "limiter_share_of_d1": round(share, 3)}
    report.notes.append(
        f"**Rate limits** stay on for the whole bench (admin budget {_admin_budget(bench)} a window: no "
        f"429s). Their cost on (a): {limited.rps:,.0f} and {again.rps:,.0f} req/s on, {off.rps:,.0f} off = "
        f"{ratio(on_rps, off.rps):.2f} (target ≥ {1 - RATE_LIMIT_COST_MAX:.2f}). One check (the gateway's "
        f"RateLimiter, {per_check['checks']:,} in a row from this process against the gateway's Redis, "
        f"leasing {per_check['lease']} requests a round trip as a default budget of {default_budget:,} does) "
        f"costs {per_check['cpu_us']:.0f} µs of CPU ({per_check['client_cpu_us']:.0f} µs client, "
        f"{per_check['redis_cpu_us']:.0f} µs Redis; {per_check['wall_us']:.0f} µs wall) = {share:.0%} of the "
        f"{floor_us:,.0f} µs of platform CPU a (d1) floor request costs ((d1) is a probe and never limited itself). "
        f"At the bench's budget (leases of {at_bench_budget['lease']}): {at_bench_budget['cpu_us']:.0f} µs.")


def _admin_budget(bench: Bench) -> str:
    return f"{int(bench.platform.env.get('GATEWAY_RATE_LIMIT_ADMIN', 0)):,}"


def limiter_cpu_per_check(bench: Bench, budget: int, checks: int = 5000) -> dict:
    """The gateway's own RateLimiter.check, one after another on a key of its
    own, leasing as a budget of `budget` does (the quota itself is set out of
    reach, so no check is refused): client CPU (this thread) plus the Redis
    server's CPU, per check."""
    limiter = RateLimiter(RateLimitSettings(per_role={role: 10**9 for role in RateLimitSettings().per_role},
                                            expensive=10**9), bench.platform.env["GATEWAY_REDIS_URL"])
    limiter.LEASE_MAX = limiter.lease_size(budget)
    redis_pids = bench.platform.store_pids().get("redis", [])
    probe = f"sub:bench-limiter-probe-{budget}"
    for _ in range(200):  # warm-up: connection, script load
        limiter.check("admin", probe)
    bench.settle()
    redis_before, cpu_before, wall_before = cpu_seconds(redis_pids), time.thread_time(), time.perf_counter()
    for _ in range(checks):
        limiter.check("admin", probe)
    wall = time.perf_counter() - wall_before
    client, server = time.thread_time() - cpu_before, cpu_seconds(redis_pids) - redis_before
    limiter.client.close()
    return {"checks": checks, "lease": limiter.LEASE_MAX, "client_cpu_us": round(client / checks * 1e6, 1),
            "redis_cpu_us": round(server / checks * 1e6, 1), "cpu_us": round((client + server) / checks * 1e6, 1),
            "wall_us": round(wall / checks * 1e6, 1)}


# --- single requests ------------------------------------------------------------------

def single_calls(bench: Bench, repeats: int = 5) -> list[dict]:
    """Latency of one request at a time for operations that are not on the
    hot path, at full size: an owner-filtered list page and a partial update
    (writes by `_id` only)."""
    rows = []
    probes = {
        "GET /api/v1/customers?owner_id=rep-001&page_size=50": lambda i: bench.timed(
            "GET", "/api/v1/customers?owner_id=rep-001&page_size=50"),
        "PATCH /api/v1/customers/{id} (display_name)": lambda i: bench.timed(
            "PATCH", f"/api/v1/customers/{bench.ids[i]}", {"display_name": f"bench {i}"}, {"If-Match": '"1"'}),
    }
    for label, probe in probes.items():
        bench.settle()
        samples = [probe(i) for i in range(repeats)]
        millis = sorted(ms for ms, _ in samples)
        rows.append({"operation": label, "repeats": repeats, "median_ms": round(millis[len(millis) // 2], 1),
                     "max_ms": round(millis[-1], 1), "statuses": sorted({st for _, st in samples})})
        log(f"{label}: median {rows[-1]['median_ms']} ms, statuses {rows[-1]['statuses']}")
    return rows


def list_page_single(bench: Bench) -> Result:
    """(f) one page of a list filtered by owner and stage, one request at a
    time, read from the owner's book (two reads by `_id` per entry until a
    page of matches is found): measured, not load-tested."""
    from crm_cli.demo import DEMO_REPS, STAGES

    rng = random.Random("list-page")
    paths = [f"/api/v1/customers?owner_id={rng.choice(DEMO_REPS)}&stage={rng.choice(STAGES)}&page_size=50"
             for _ in range(bench.args.list_repeats)]
    label = "gateway GET /api/v1/customers?owner_id=&stage= (1 client; the owner's book)"
    return bench.one_at_a_time("f", label, paths, NAME)


# --- events: creates on vs off, write-to-effect latency ---------------------------------

def create_template() -> dict:
    """A demo person without e-mail, as CreateCustomer's Customer in JSON."""
    customer = json_format.MessageToDict(_to_pb({**demo_customer(0), "emails": [], "kind": "person"}),
                                         preserving_proto_field_name=True)
    customer["display_name"] = "压测客户"
    return customer


def grpc_create_customers(bench: Bench, prefixes):
    """CreateCustomer with a phone no one has, owners rep-001..rep-020 in turn;
    every run (the warm-up too) takes the next prefix from `prefixes`."""
    target, template = bench.platform.target("customer"), create_template()
    auth = {"authorization": f"Bearer {bench.token}"}
    if bench.ghz:
        def ghz_run(seconds: float):
            data = {"customer": {**template, "phones": [f"+86{next(prefixes)}{{{{printf `%08d` .RequestNumber}}}}"],
                                 "owner_id": "rep-{{printf `%03d` (add1 (mod .RequestNumber 20))}}"}}
            return harness.ghz_load(bench.ghz, bench.protoset, target, f"{CUSTOMER_SERVICE}.CreateCustomer", seconds,
                                    data=data, metadata=auth)
        return "ghz", ghz_run

    def python_run(seconds: float):
        op = functools.partial(pyload.grpc_create_customer, target, bench.token, template, next(prefixes))
        return harness.python_load(op, seconds, pass_worker=True)
    return "python-grpc", python_run


class CreatedLatency:
    """An EventConsumer (group "bench") on events:customer in this process: for
    each customer.created it handles, its effect is to note the customer id and
    now - occurred_at (the event is stamped when the service makes it, before
    the write)."""

    def __init__(self, redis_url: str):
        self.redis = bus.connect(redis_url)
        self.stream = bus.stream_for("customer")
        self.samples: list[tuple[float, float]] = []  # (occurred_at, seconds to the effect)
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.consumer = EventConsumer(self.redis, "bench", f"bench-{os.getpid()}", [self.stream], self.handle,
                                      start_id="$", count=100, block_ms=200)

    def handle(self, env) -> None:
        if env.type != CUSTOMER_CREATED:
            return
        customer_id = payload_of(env).customer_id
        at = occurred_at(env).timestamp()
        with self.lock:
            self.seen.add(customer_id)
            self.samples.append((at, time.time() - at))

    def start(self) -> None:
        self.consumer.ensure_groups()  # from "$": only events from now on
        self.consumer.start()

    def drain(self, limit: float = 60.0) -> float:
        """Wait until the group has every entry delivered and acknowledged."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            group = next((g for g in self.redis.xinfo_groups(self.stream) if bus.text(g["name"]) == "bench"), None)
            if group is not None and not group.get("lag") and not group.get("pending"):
                break
            time.sleep(0.1)
        return time.monotonic() - started

    def stop(self) -> None:
        self.consumer.stop(timeout=5)
        self.redis.close()

    def latencies_ms(self, window: tuple[float, float]) -> list[float]:
        with self.lock:
            return sorted(lat * 1000 for at, lat in self.samples if window[0] <= at <= window[1])


def events_scenarios(bench: Bench, report: Report) -> None:
    prefixes = iter(CREATE_PREFIXES)
    prepare = lambda: grpc_create_customers(bench, prefixes)
    bench.restart_with("customer", {"EVENTS_ENABLED": "false"})
    try:
        off = report.add(bench.measure("h0", "gRPC CreateCustomer, events off", prepare, suite=NAME))
    finally:
        bench.restart_with("customer")
    probe = CreatedLatency(bench.platform.env["EVENTS_REDIS_URL"])
    probe.start()
    try:
        on = report.add(bench.measure("h", "gRPC CreateCustomer, events on (+ consumer (i))", prepare, suite=NAME))
        window = bench.last_window
        drained = probe.drain()
    finally:
        probe.stop()
    report.check("(h) events on / (h0) off, creates/s", ratio(on.rps, off.rps), ">=", EVENTS_WRITE_RATIO_MIN,
                 row="h", against="(h0)")
    millis = probe.latencies_ms(window)
    seconds = window[1] - window[0]
    latency = Result(key="i", label="customer write → consumer effect (customer.created, during (h))",
                     tool="EventConsumer group bench", requests=len(millis), errors=0,
                     rps=round(len(millis) / seconds, 1) if seconds else 0.0,
                     p50_ms=round(pyload.percentile(millis, 50), 2), p99_ms=round(pyload.percentile(millis, 99), 2),
                     cpu_cores=on.cpu_cores, suite=NAME, unit="events/s")
    report.add(latency)
    report.check("(i) write → effect p99, ms", latency.p99_ms, "<", EVENT_LATENCY_P99_MAX_MS, row="i",
                 against=f"at (h) {on.rps:,.0f}/s")
    report.extra["events"] = {"creates_on_rps": on.rps, "creates_off_rps": off.rps,
                              "events_in_window": len(millis), "creates_in_window": on.requests,
                              "max_ms": round(millis[-1], 1) if millis else None, "drain_s": round(drained, 2),
                              "customers_seen": len(probe.seen)}
    log(f"(i) {len(millis):,} customer.created events: p50 {latency.p50_ms} ms, p99 {latency.p99_ms} ms "
        f"(drained in {drained:.1f}s)")


# --- the 360 card -------------------------------------------------------------------------

def gateway_card(bench: Bench, clients: int = harness.CONCURRENCY):
    phones = (demo_phone(n) for n in range(bench.args.customers))
    return bench.http([f"{CARD_360_ROUTE}?phone={quote(p, safe='')}" for p in phones], "paths-360.txt",
                      clients=clients)


def card_360(bench: Bench, report: Report, a: Result) -> None:
    """(k) when the gateway serves the 360 card (its OpenAPI lists the route)."""
    if CARD_360_ROUTE not in bench.gateway_routes():
        log(f"(k), (k0), (k1): {CARD_360_ROUTE} is not in the gateway's OpenAPI: not measured")
        report.notes.append(f"(k) the 360 card (`GET {CARD_360_ROUTE}?phone=`, p99 ≤ {CARD_360_P99_RATIO_MAX:g}× "
                            f"(a)), and (k0) and (k1) with it, are not measured: the gateway does not serve the "
                            f"route yet.")
        return
    k = report.add(bench.measure("k", f"gateway GET {CARD_360_ROUTE}?phone=", lambda: gateway_card(bench),
                                 suite=NAME))
    report.check("(k) p99 / (a) p99", ratio(k.p99_ms, a.p99_ms), "<=", CARD_360_P99_RATIO_MAX, row="k",
                 against="(a) p99")
    # The same two with one client: each request's own latency, no queue. At 32 clients on two cores a
    # p99 follows CPU per request; with one it shows the card's own time: its work, and by phone its
    # chain (the overview with the lookup, then the sections side by side), against a GET's one call.
    k0 = report.add(bench.measure("k0", "gateway GET /api/v1/customers/{id}, one client",
                                  lambda: gateway_get_by_id(bench, clients=1), suite=NAME))
    k1 = report.add(bench.measure("k1", f"gateway GET {CARD_360_ROUTE}?phone=, one client",
                                  lambda: gateway_card(bench, clients=1), suite=NAME))
    report.notes.append(f"(k0) and (k1) are one client sending one request at a time, no queue: the 360 card's p99 "
                        f"is {ratio(k1.p99_ms, k0.p99_ms):.2f}× a GET's ({k1.p99_ms:g} against {k0.p99_ms:g} ms; "
                        f"p50 {k1.p50_ms:g} against {k0.p50_ms:g} ms). No target: it shows what (k) is made of "
                        f"without queueing, where at {harness.CONCURRENCY} clients its p99 follows CPU per request.")


# --- CSV import -----------------------------------------------------------------------------

def _csv_customer(d: dict) -> dict:
    """A demo customer as the columns `crm export` writes (and `crm import` reads)."""
    return {**d, "province": d["region"]["province"], "city": d["region"]["city"],
            "birthday": {"leap_month": False, **d["birthday"]} if d.get("birthday") else None}


def csv_import(bench: Bench, report: Report) -> None:
    """(j) Import new demo customers (an index range the seeding never used)
    from a CSV file through the function `crm import` runs, events on."""
    count = bench.args.import_rows if bench.args.import_rows is not None else bench.args.customers
    path = bench.work / "import.csv"
    first = IMPORT_FIRST_INDEX
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv_io.write_export(f, (_csv_customer(demo_customer(n)) for n in range(first, first + count)))
    log(f"(j) CSV import: {count:,} rows ({path.stat().st_size / 1e6:.1f} MB) through ImportCustomers, events on")
    bench.settle()
    groups = {**bench.groups(), "bench": [os.getpid()]}
    cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    started = time.perf_counter()
    summary = import_csv(bench.platform.target("customer"), bench.token, path, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - started
    rate = count / seconds
    cpu = cpu_delta(cpu_before, groups, seconds)
    log(f"(j) CSV import: {summary.totals()}, {rate:,.0f} rows/s")
    seeding = report.seeding["rows_per_s"]
    imp = report.importing = {
        "rows": count, "seconds": round(seconds, 2), "rows_per_s": round(rate, 1), "events": True,
        "outcomes": dict(summary.counts), "failed": summary.failed, "floor_rows_per_s": seeding,
        "ratio_to_seeding": round(rate / seeding, 2), "cpu_cores": cpu}
    report.add(Result(key="j", label="CSV import, events on (`crm import`, ImportCustomers)", tool="crm_cli.transfer",
                      requests=count, errors=summary.failed, rps=round(rate, 1), p50_ms=float("nan"),
                      p99_ms=float("nan"), cpu_cores=cpu, suite=NAME, unit="rows/s"))
    report.check("(j) CSV import with events on, rows/s", imp["rows_per_s"], ">=", IMPORT_ROWS_MIN_PER_S, row="j",
                 against=f"seeding {seeding:,.0f} rows/s")
    report.check("(j) CSV import, rows failed", imp["failed"], "<=", 0, row="j", against="—")
    report.notes.append(
        f"**(j) CSV import** (`crm import`, ImportCustomers in chunks of 1,000, upsert by phone, events on): "
        f"{imp['rows']:,} new customers in {imp['seconds']:.1f} s = **{imp['rows_per_s']:,.0f} rows/s** (target ≥ "
        f"{IMPORT_ROWS_MIN_PER_S:,.0f}; floor: seeding through BatchCreateCustomers {seeding:,.0f} rows/s, ratio "
        f"{imp['ratio_to_seeding']:.2f}); outcomes " + ", ".join(f"{k} {v:,}" for k, v in sorted(imp["outcomes"].items()))
        + "; CPU cores " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items() if v >= 0.01) + ".")
    report.notes.append(
        "(f) is one client sending one request at a time: a list filtered by owner and stage reads the owner's book "
        "by `_id` until a page of matches is found (on MongoDB the `owner_stage_id` index could serve it; a sorted "
        "scan on FerretDB's SQLite back end took 15 s and more a page).")

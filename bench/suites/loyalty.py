"""The loyalty suite: the points ledger's event consumer, redemptions through
the gateway, and a festival greeting run.

  (l0) floor: the award script itself, called straight against the ledger's
       Redis from one client (AccountService.award_orders in this process: the
       same EVALSHA calls the consumer makes, pipelined 100 a round trip as it
       does, without the stream, the consumer group and the acks)
  (l1) awards per second from a backlog of BACKLOG order.paid events: the
       loyalty service is stopped, the events are XADDed to events:sales (to
       the bench's seeded customers), the service starts, and the time until
       its "loyalty-accounts" group has every entry delivered and acked is
       the drain time; vs (l0). (l1r): account reads through the gateway,
       one at a time, while it drains
  (l2) gateway POST /api/v1/customers/{id}/loyalty/redemptions, a 1-point
       reward with ample stock, 32 clients: p50, p99 (points and stock taken
       in one script), vs (d1)
  (l3) a festival run (Mid-Autumn, lunar 8/15 of this year) over every seeded
       customer, one in SMS_CONSENT_EVERY (5) with SMS consent since it was
       recorded (crm_cli.demo): started, then polled
       (GetGreetingRun, once a second, within RUN_LIMIT_S) until it has ended;
       time to finish (the run's own started_at to finished_at); then
       checked: exactly one greeting per consenting customer in the sink,
       none for the others, and a second run sends nothing new.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import urllib.request
import uuid

import grpc
import pymongo
import redis

from crm.common.v1 import common_pb2
from crm.events.v1 import events_pb2
from crm.loyalty.v1 import greeting_service_pb2 as gpb, greeting_service_pb2_grpc
from crm.loyalty.v1 import loyalty_service_pb2 as lpb, loyalty_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.events.bus import stream_for
from crm_kit.grpc_client import open_channel
import pyload
from harness import Bench, Report, Result, log, ratio

NAME = "loyalty"
BACKLOG = 100_000
FLOOR_CALLS = 20_000
AWARD_MINOR = 12_345  # fen per order: 123 points at the lowest tier
GROUP = "loyalty-accounts"
CONSUMER_BATCH = 100  # entries the loyalty consumer reads, and awards in one pipelined round trip
DRAIN_LIMIT_S = 900
RUN_POLL_S = 1.0  # between two GetGreetingRun of a festival run
RUN_LIMIT_S = 900  # a festival run that has not ended by then fails the suite


def run(bench: Bench, report: Report) -> None:
    backlog = min(BACKLOG, max(1000, bench.args.customers * 10))
    floor = report.add(award_floor(bench, min(FLOOR_CALLS, backlog)))
    drained, awarded, reads = drain_backlog(bench, backlog)
    report.add(drained)
    if reads is not None:
        report.add(reads)
    report.check("(l1) / (l0) awards per second", ratio(drained.rps, floor.rps), ">=", 0.5, row="l1",
                 against="(l0)")
    report.add(bench.measure("l2", "gateway POST /api/v1/customers/{id}/loyalty/redemptions",
                             lambda: redemptions(bench, awarded), floor="d1", suite=NAME))
    festival(bench, report)


def metadata(bench: Bench) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {bench.token}")]


# --- (l0) the script alone -----------------------------------------------------------------

def award_floor(bench: Bench, calls: int) -> Result:
    """AccountService.award_order straight against the ledger's Redis, one client."""
    from crm_kit.redis_store import RedisSettings
    from crm_loyalty.bootstrap import build
    from crm_loyalty.settings import LoyaltySettings
    from crm_kit.grpc_server import ServerSettings

    from crm_kit.auth import AuthSettings

    auth = AuthSettings(issuer="crm", audience="crm", dev_secret=bench.platform.env["CRM_JWT_DEV_SECRET"],
                        jwks_file=None)
    server = ServerSettings(name="loyalty", listen_addr="127.0.0.1:0", metrics_port=0, workers=1, grace_seconds=1.0,
                            log_level="WARNING", auth=auth)  # never started: the floor calls the service in-process
    settings = LoyaltySettings(server=server, store=RedisSettings(bench.platform.env["LOYALTY_REDIS_URL"]))
    app = build(settings)
    accounts = app.features["accounts"]
    run_id = uuid.uuid4().hex[:8]
    # The seeded customers (made-up ones would be accounts the festival run walks, with no customer record).
    customers = bench.ids[:min(calls, 5000)]
    paid = [(customers[n % len(customers)], f"ord_benchfloor{run_id}{n:07d}", AWARD_MINOR, "CNY")
            for n in range(calls)]
    log(f"(l0) floor: {calls:,} award script calls straight to the ledger Redis, one client, "
        f"{CONSUMER_BATCH} a round trip as the consumer sends them")
    started = time.perf_counter()
    for first in range(0, calls, CONSUMER_BATCH):
        accounts.award_orders(paid[first:first + CONSUMER_BATCH])
    seconds = time.perf_counter() - started
    rate = calls / seconds
    log(f"(l0) {rate:,.0f} awards/s")
    return Result(key="l0", label="floor: the award script, straight to the ledger Redis (1 client, 100 a trip)",
                  tool="python redis-py EVALSHA", requests=calls, errors=0, rps=round(rate, 1),
                  p50_ms=float("nan"), p99_ms=float("nan"), suite=NAME, unit="awards/s")


# --- (l1) draining a backlog of order.paid ----------------------------------------------------

def drain_backlog(bench: Bench, count: int) -> tuple[Result, list[str], Result | None]:
    """(the result, the customers the backlog gave points to, account reads meanwhile)."""
    platform = bench.platform
    events = redis.Redis.from_url(platform.env["EVENTS_REDIS_URL"])
    stream = stream_for("sales")
    platform.kill("loyalty")
    log(f"(l1) loyalty stopped; XADD {count:,} order.paid events to {stream}")
    rng = random.Random("backlog")
    awarded = set()
    pipe = events.pipeline(transaction=False)
    for n in range(count):
        customer = rng.choice(bench.ids)
        awarded.add(customer)
        order_id = f"ord_bench{n:08d}{uuid.uuid4().hex[:8]}"
        env = ev.new_event(ev.ORDER_PAID, order_id, events_pb2.OrderPaid(
            order_id=order_id, customer_id=customer,
            total=common_pb2.Money(minor_units=AWARD_MINOR, currency_code="CNY")), "sales")
        pipe.xadd(stream, {"id": env.event_id, "type": env.type, "data": ev.encode(env)})
        if n % 1000 == 999:
            pipe.execute()
    pipe.execute()
    before = group_state(events, stream)
    log(f"(l1) backlog in place ({before}); starting loyalty")
    started = time.monotonic()
    platform.start_service("loyalty")
    platform.wait_ready()
    ready = time.monotonic() - started
    reads: list[tuple[float, int]] = []  # an account read through the gateway now and then while it drains
    while True:
        state = group_state(events, stream)
        if state["lag"] == 0 and state["pending"] == 0:
            break
        if time.monotonic() - started > DRAIN_LIMIT_S:
            raise RuntimeError(f"the backlog did not drain within {DRAIN_LIMIT_S}s: {state}")
        reads.append(bench.timed("GET", f"/api/v1/customers/{rng.choice(bench.ids)}/loyalty"))
        time.sleep(0.2)
    seconds = time.monotonic() - started
    rate = count / seconds
    log(f"(l1) {count:,} awards in {seconds:.1f}s (service ready after {ready:.1f}s): {rate:,.0f} awards/s")
    bench.settle()
    if reads:
        millis = sorted(ms for ms, _ in reads)
        bench_reads = Result(key="l1r", label="gateway GET /api/v1/customers/{id}/loyalty while (l1) drains",
                             tool="python urllib, 1 client", requests=len(reads),
                             errors=sum(1 for _, status in reads if status != 200),
                             rps=round(len(reads) / seconds, 2), p50_ms=round(pyload.percentile(millis, 50), 2),
                             p99_ms=round(pyload.percentile(millis, 99), 2), suite=NAME)
        log(f"(l1r) account reads while draining: p50 {bench_reads.p50_ms} ms, p99 {bench_reads.p99_ms} ms, "
            f"{bench_reads.errors} of {len(reads)} not 200")
    else:
        bench_reads = None
    return Result(key="l1", label=f"awards from a backlog of {count:,} order.paid (start to drained)",
                  tool="loyalty consumer", requests=count, errors=0, rps=round(rate, 1), p50_ms=float("nan"),
                  p99_ms=float("nan"), suite=NAME, unit="awards/s"), sorted(awarded), bench_reads


def group_state(events: redis.Redis, stream: str) -> dict:
    """The accounts group's lag (entries not yet delivered) and pending (delivered, not acked)."""
    for group in events.xinfo_groups(stream):
        name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
        if name == GROUP:
            lag = group.get("lag")
            if lag is None:  # unknown after a trim or deletion: compare the last delivered id with the last one
                last = events.xinfo_stream(stream)["last-generated-id"]
                lag = 0 if group["last-delivered-id"] == last else 1
            return {"lag": int(lag), "pending": int(group["pending"])}
    return {"lag": -1, "pending": -1}  # the group is made when the service starts


# --- (l2) redemptions ----------------------------------------------------------------------------

def redemptions(bench: Bench, awarded: list[str]):
    stub = loyalty_service_pb2_grpc.LoyaltyServiceStub(open_channel(bench.platform.target("loyalty"),
                                                                    "crm.loyalty.v1.LoyaltyService"))
    reward = stub.CreateReward(lpb.CreateRewardRequest(reward=lpb.Reward(
        name="bench sticker", points_cost=1, stock=10_000_000), request_id=f"bench-{uuid.uuid4().hex}"),
        metadata=metadata(bench))
    # Customers the backlog gave points to (each award is 123 points: plenty of 1-point redemptions).
    rng = random.Random("redeem")
    paths = [f"/api/v1/customers/{rng.choice(awarded)}/loyalty/redemptions" for _ in range(5000)]
    return bench.http_post(paths, "paths-redeem.txt", {"reward_id": reward.reward_id})


# --- (l3) the festival run --------------------------------------------------------------------

def mid_autumn(year: int) -> dt.date:
    from lunardate import LunarDate

    return LunarDate(year, 8, 15).to_solar_date()


def sms_consenting(bench: Bench) -> int:
    """Customers the run will find (they have a loyalty account) whose SMS consent is granted now: found in
    the customer store (one scan, untimed; the demo data gives one customer in SMS_CONSENT_EVERY consent
    when it is recorded), then their accounts asked of the ledger Redis. The customers (h0) made with events
    off never told loyalty about themselves, so they have no account and no run greets them."""
    from crm_loyalty.accounts.store import account_keys

    with pymongo.MongoClient(bench.mongo_uri) as client:
        ids = [d["_id"] for d in client[bench.mongo_db]["customers"].find({"consent_sms.state": "granted"},
                                                                          {"_id": 1})]
    ledger = redis.Redis.from_url(bench.platform.env["LOYALTY_REDIS_URL"])
    pipe = ledger.pipeline(transaction=False)
    for customer_id in ids:
        pipe.exists(account_keys(customer_id)[0])
    with_account = sum(pipe.execute())
    if with_account < len(ids):
        log(f"(l3) {len(ids) - with_account:,} customers with SMS consent have no loyalty account")
    return with_account


def sink_messages(bench: Bench) -> list[dict]:
    with urllib.request.urlopen(bench.platform.sink_url + "/messages", timeout=120) as resp:
        return json.loads(resp.read())


def greeting_run(bench: Bench, stub, request: gpb.RunGreetingsRequest) -> gpb.RunGreetingsResponse:
    """Starts a greeting run (it answers at once) and polls it until it has
    ended; a run that stopped early or did not end in RUN_LIMIT_S fails."""
    limit = time.monotonic() + RUN_LIMIT_S
    try:
        run = stub.RunGreetings(request, metadata=metadata(bench), timeout=30)
        while not run.HasField("finished_at"):
            if time.monotonic() > limit:
                raise RuntimeError(f"the festival run {run.run_id} did not end within {RUN_LIMIT_S}s "
                                   f"({run.customers:,} customers so far)")
            time.sleep(RUN_POLL_S)
            run = stub.GetGreetingRun(gpb.GetGreetingRunRequest(run_id=run.run_id), metadata=metadata(bench),
                                      timeout=30)
    except grpc.RpcError as err:
        raise RuntimeError(f"the festival run failed: {err.code().name}: {err.details()}") from None
    if run.stopped_reason:
        raise RuntimeError(f"the festival run {run.run_id} stopped ({run.stopped_reason}) after "
                           f"{run.customers:,} customers")
    return run


def festival(bench: Bench, report: Report) -> None:
    consenting = sms_consenting(bench)
    log(f"(l3) {consenting:,} customers have SMS consent")
    day = mid_autumn(dt.date.today().year)
    stub = greeting_service_pb2_grpc.GreetingServiceStub(open_channel(bench.platform.target("loyalty"),
                                                                      "crm.loyalty.v1.GreetingService"))
    sent_before = len(sink_messages(bench))
    request = gpb.RunGreetingsRequest(on_date=common_pb2.Date(year=day.year, month=day.month, day=day.day))
    bench.settle()
    log(f"(l3) festival run for {day} over {len(bench.ids):,} customers")
    first = greeting_run(bench, stub, request)
    seconds = max((first.finished_at.ToDatetime() - first.started_at.ToDatetime()).total_seconds(), 1e-3)
    second = greeting_run(bench, stub, request)
    messages = sink_messages(bench)[sent_before:]
    greeted = [m for m in messages if m.get("channel") == "sms"]
    by_message = {m.get("message_id") for m in greeted}
    log(f"(l3) {first.customers:,} customers in {seconds:.1f}s: sent {first.sent:,}, skipped {first.skipped:,}, "
        f"failed {first.failed:,}; second run sent {second.sent:,} (already done {second.already_done:,}); "
        f"sink got {len(greeted):,} SMS")
    report.add(Result(key="l3", label=f"festival run (Mid-Autumn {day}) over {first.customers:,} customers",
                      tool="GreetingService/RunGreetings", requests=first.customers, errors=first.failed,
                      rps=round(first.customers / seconds, 1), p50_ms=float("nan"), p99_ms=float("nan"),
                      suite=NAME, unit="customers/s"))
    report.extra["loyalty_festival"] = {
        "date": day.isoformat(), "customers": first.customers, "seconds": round(seconds, 1),
        "consenting": consenting, "sent": first.sent, "skipped": first.skipped, "failed": first.failed,
        "second_run_sent": second.sent, "second_run_already_done": second.already_done,
        "sink_sms": len(greeted), "sink_distinct_message_ids": len(by_message)}
    report.notes.append(
        f"**Festival run:** Mid-Autumn ({day}) over {first.customers:,} customers in {seconds:.1f} s; "
        f"{first.sent:,} greetings sent to the {consenting:,} customers with SMS consent, {first.skipped:,} "
        f"skipped without it, {first.failed:,} failed; the sink received {len(greeted):,} SMS "
        f"({len(by_message):,} distinct message ids); a second run sent {second.sent:,}.")
    # Birthdays falling on the day are greeted too: at least every consenting customer is.
    report.check("(l3) greetings sent / customers with SMS consent", ratio(first.sent, consenting), ">=", 1.0,
                 row="l3")
    report.check("(l3) customers skipped without consent", first.skipped, ">=",
                 len(bench.ids) - consenting, row="l3")
    report.check("(l3) distinct SMS in the sink - greetings sent (exactly once)", len(by_message) - first.sent,
                 "<=", 0, row="l3")
    report.check("(l3) greetings sent - distinct SMS in the sink (none lost)", first.sent - len(by_message),
                 "<=", 0, row="l3")
    report.check("(l3) greetings the second run sent", second.sent, "<=", 0, row="l3")

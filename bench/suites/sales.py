"""The sales suite: the sales service and its gateway routes.

  seeding  --orders confirmed orders of --order-lines lines each (default
           50,000 x 20 = 1,000,000 lines), dated over the last year, for
           --orders / ORDERS_PER_BUYER customers (10 orders each: a year's
           history; an import batch then asks about 50 customers, not 250),
           through the sales service's own API (sales_seed.seed_orders,
           ImportOrders), with their payment plans: orders/s, lines/s
  (s0) floor: pymongo insert_one of an order-sized document (5 lines)
       straight to FerretDB: the store's own insert rate
  (s1) gateway POST /api/v1/orders, a draft of 5 lines for a random customer:
       vs (d1) and vs (s0)
  (s2) gateway GET /api/v1/customers/360?phone= of the customers with orders
       (the sales section included): p99 <= 2x the p99 of a customer GET by id,
       (a) of the customer suite when it ran, else measured here as (s2a)
  (s3) gateway GET /api/v1/receivables/ageing?rep_id= (one rep's book), one
       request at a time: p50, p99
  (s4) the same for the whole team (?team_id=): p50, p99
  profitability (issue 9), after the roll-ups caught up with the seeding (the
  wait is reported):
  (p)  gateway GET /api/v1/profitability/contribution, every customer over
       12 months (one page of 100; the service reads and ranks them all), one
       at a time: p50 <= 1 s; beside (p0), pymongo `_id` reads of the quarter and
       month customer buckets it merges (the store's floor)
  (q)  gateway GET /api/v1/profitability/series/customer/{id}, 24 months, one
       at a time: p99 <= 20 ms; beside (q0), a pymongo `_id` read of a series
  (r)  roll-up lag: a receipt recorded (gRPC RecordReceipt) until the
       customer's series shows its cash (gRPC GetContributionSeries polled),
       while new orders of the last day are confirmed in the background at
       the bench's order rate (what (s1) measured the gateway taking, in
       orders/s, of (s1)'s 5 lines; imported a second's worth at a time):
       p99 < 2 s. An importer
       going flat out (~250 orders/s) outruns the roll-up consumer's
       worst-case ~240 orders/s, and the lag then only grows
  A hook (PROFIT_EXTRA) runs further profitability scenarios when their
  module exists (P3's rep statement).
"""

from __future__ import annotations

import functools
import random
import sys
import time
from urllib.parse import quote

import pymongo
import pyload
from crm_cli import sales_seed
from crm_cli.demo import DEMO_REPS, DEMO_TEAM
from harness import Bench, Report, log, ratio

NAME = "sales"
ORDERS_PER_BUYER = 10
CARD_P99_RATIO_MAX = 2.0
# Lines of an order (s1) posts, and of those (r)'s background confirms at (s1)'s rate: the same orders.
S1_LINES = 5
AGEING_REPEATS = 10


def run(bench: Bench, report: Report) -> None:
    measure = functools.partial(bench.measure, suite=NAME)
    products = sales_seed.seed_catalogue(bench.platform.target("sales"), bench.token)
    buyers = random.Random("buyers").sample(bench.ids, max(1, min(len(bench.ids),
                                                                  bench.args.orders // ORDERS_PER_BUYER)))
    seeded = seed(bench, products, buyers)
    report.extra["sales_seeding"] = seeded
    report.notes.append(
        f"**Sales seeding:** {seeded['orders']:,} orders with {seeded['lines']:,} lines for {seeded['customers']:,} "
        f"customers in {seeded['seconds']:.1f} s "
        f"= **{seeded['orders_per_s']:,.0f} orders/s** ({seeded['lines_per_s']:,.0f} lines/s) through the sales "
        f"service (outcomes: {sales_seed.summary(seeded['outcomes'])}).")
    bench.settle(limit=600)  # plans and events of the seeded orders catch up first
    s0 = report.add(measure("s0", "floor: FerretDB insert_one of an order (5 lines)", lambda: store_insert(bench)))
    s1 = report.add(measure("s1", "gateway POST /api/v1/orders (5 lines)", lambda: create_orders(bench, products),
                            floor="d1"))
    report.check("(s1) / (s0) throughput", ratio(s1.rps, s0.rps), ">=", 0.5, row="s1", against="(s0)")
    card = report.add(measure("s2", "gateway GET /api/v1/customers/360?phone= (with sales)",
                              lambda: card_360(bench, buyers)))
    single = report.results.get("a")
    if single is None:
        from suites.customer import gateway_get_by_id

        single = report.add(measure("s2a", "gateway GET /api/v1/customers/{id}", lambda: gateway_get_by_id(bench),
                                    floor="d1"))
    report.check(f"(s2) p99 / ({single.key}) p99", ratio(card.p99_ms, single.p99_ms), "<=", CARD_P99_RATIO_MAX,
                 row="s2", against=f"({single.key})")
    rng = random.Random("ageing")
    report.add(bench.one_at_a_time("s3", "gateway GET /api/v1/receivables/ageing?rep_id= (one rep's book)",
                             [f"/api/v1/receivables/ageing?rep_id={rng.choice(DEMO_REPS)}"
                              for _ in range(AGEING_REPEATS)], NAME))
    report.add(bench.one_at_a_time("s4", "gateway GET /api/v1/receivables/ageing?team_id= (the whole team)",
                                   [f"/api/v1/receivables/ageing?team_id={DEMO_TEAM}"] * AGEING_REPEATS, NAME))
    profitability(bench, report, products, buyers, seeded["orders"])


def seed(bench: Bench, products: list[str], buyers: list[str]) -> dict:
    count, lines = bench.args.orders, bench.args.order_lines
    log(f"seeding {count:,} orders of {lines} lines through the sales service")
    started = time.perf_counter()
    outcomes = sales_seed.seed_orders(bench.platform.target("sales"), bench.token, buyers, products, count,
                                      lines=lines, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - started
    made = outcomes.get("CONFIRMED", 0)
    log(f"seeded {made:,} orders in {seconds:.1f}s ({made / seconds:,.0f} orders/s): {sales_seed.summary(outcomes)}")
    return {"orders": made, "lines": made * lines, "customers": len(buyers), "seconds": round(seconds, 1),
            "orders_per_s": round(made / seconds, 1), "lines_per_s": round(made * lines / seconds, 1),
            "outcomes": dict(outcomes)}


def store_insert(bench: Bench):
    template = {"customer_id": "cus_bench", "state": "draft", "lines": [
        {"line_id": f"ln{n}", "product_id": "prd_bench", "sku": "BENCH", "quantity": 2, "unit_price": 39800,
         "discount": 0, "unit_cost": 9800, "currency": "CNY"} for n in range(1, 6)], "total": 398000}
    op = functools.partial(pyload.mongo_insert_one, bench.mongo_uri, bench.mongo_db, "bench_order_inserts", template)
    from harness import python_load

    return "python-pymongo", functools.partial(python_load, op)


def create_orders(bench: Bench, products: list[str]):
    rng = random.Random("create-orders")
    bodies = [{"customer_id": rng.choice(bench.ids), "lines": [
        {"product": p, "quantity": rng.randint(1, 5)} for p in rng.sample(products, min(S1_LINES, len(products)))]}
        for _ in range(2000)]
    return bench.http_post_bodies("/api/v1/orders", bodies, "bodies-orders.txt")


def card_360(bench: Bench, buyers: list[str]):
    """By the first phone of each customer with orders."""
    wanted = set(buyers)
    with pymongo.MongoClient(bench.mongo_uri) as client:  # one scan of the customers for their phones
        phones = [d["phones"][0] for d in client[bench.mongo_db]["customers"].find({}, {"phones": 1})
                  if d["_id"] in wanted and d.get("phones")]
    return bench.http([f"/api/v1/customers/360?phone={quote(p, safe='')}" for p in phones], "paths-360-sales.txt")


# --- profitability (issue 9) -------------------------------------------------------------

REPORT_REPEATS, SERIES_REPEATS, LAG_RECEIPTS = 10, 200, 40
REPORT_P50_MAX_MS, SERIES_P99_MAX_MS, LAG_P99_MAX_S = 1000.0, 20.0, 2.0
# Further scenarios: module names under suites/ with run_profitability(bench, report) (P3's rep statement).
PROFIT_EXTRA = ("sales_commission",)


def _profit_stubs(bench: Bench):
    import grpc

    from crm.sales.v1 import payment_service_pb2_grpc, profitability_service_pb2_grpc

    channel = grpc.insecure_channel(bench.platform.target("sales"))
    return (profitability_service_pb2_grpc.ProfitabilityServiceStub(channel),
            payment_service_pb2_grpc.PaymentServiceStub(channel), [("authorization", f"Bearer {bench.token}")])


def _months_back(n: int) -> tuple[str, str]:
    from datetime import datetime, timezone

    from crm_sales.profitability.months import Month, business_zone

    end = Month.of(datetime.now(timezone.utc), business_zone())
    return str(end.plus(-(n - 1))), str(end)


def wait_for_rollups(bench: Bench, orders: int, limit: float = 900.0) -> float:
    """Until the report over the last 13 months counts every seeded order: seconds waited."""
    from crm.sales.v1 import profitability_service_pb2 as pb

    profit, _payments, metadata = _profit_stubs(bench)
    start, end = _months_back(13)
    started = time.monotonic()
    counted = -1
    while time.monotonic() - started < limit:
        report = profit.GetContributionReport(pb.GetContributionReportRequest(
            start_month=start, end_month=end, page_size=1), metadata=metadata, timeout=60)
        counted = report.total.order_count
        if counted >= orders:
            break
        time.sleep(2.0)
    waited = time.monotonic() - started
    log(f"roll-ups counted {counted:,} of {orders:,} seeded orders after {waited:.1f}s")
    return waited


def store_reads(bench: Bench, ids: list[str], repeats: int) -> list[float]:
    """Milliseconds of pymongo `_id` reads of roll-up documents (the store's floor)."""
    import os

    database = bench.platform.env.get("SALES_MONGODB_DATABASE", os.environ.get("SALES_MONGODB_DATABASE", "crm_sales"))
    out = []
    with pymongo.MongoClient(bench.platform.env.get("SALES_MONGODB_URI", bench.mongo_uri)) as client:
        documents = client[database]["profit_rollups"]
        for _ in range(repeats):
            started = time.perf_counter()
            for doc_id in ids:
                documents.find_one({"_id": doc_id})
            out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def profitability(bench: Bench, report: Report, products: list[str], buyers: list[str], orders: int) -> None:
    from crm_sales.profitability.months import Month
    from crm_sales.profitability.rollups.service import bucket_ids_of
    from crm_sales.profitability.rollups.store import series_id

    waited = wait_for_rollups(bench, orders)
    report.notes.append(f"**Profit roll-ups** caught up with the seeding {waited:.0f} s after it ended "
                        "(consumer group sales-profitability).")
    start12, end = _months_back(12)
    start24, _ = _months_back(24)
    p = report.add(bench.one_at_a_time(
        "p", "gateway GET /api/v1/profitability/contribution (all customers, 12 months)",
        [f"/api/v1/profitability/contribution?start_month={start12}&end_month={end}&page_size=100"] * REPORT_REPEATS,
        NAME))
    report.check("(p) p50, ms", p.p50_ms, "<=", REPORT_P50_MAX_MS, row="p")
    floor = store_reads(bench, bucket_ids_of("customer", "CNY", Month.parse(start12), Month.parse(end)), 5)
    report.notes.append(f"(p0) floor: pymongo `_id` reads of the report's customer buckets (quarters and "
                        f"months x 16 shards), one after the other: median {floor[len(floor) // 2]:.0f} ms.")
    rng = random.Random("series")
    q = report.add(bench.one_at_a_time(
        "q", "gateway GET /api/v1/profitability/series/customer/{id} (24 months)",
        [f"/api/v1/profitability/series/customer/{rng.choice(buyers)}?start_month={start24}&end_month={end}"
         for _ in range(SERIES_REPEATS)], NAME))
    report.check("(q) p99, ms", q.p99_ms, "<=", SERIES_P99_MAX_MS, row="q")
    q0 = store_reads(bench, [series_id("CNY", rng.choice(buyers)) for _ in range(1)], 100)
    report.notes.append(f"(q0) floor: a pymongo `_id` read of one series document: p50 {q0[50]:.1f} ms, "
                        f"p99 {q0[98]:.1f} ms.")
    order_rate = report.results["s1"].rps if "s1" in report.results else 100.0
    lags = rollup_lag(bench, products, buyers, order_rate)
    report.notes.append(f"(r) measured while {max(1, round(order_rate))} orders/s ((s1)'s rate) were confirmed "
                        "in the background.")
    if lags:
        from harness import Result

        millis = sorted(lag * 1000 for lag in lags)
        r = report.add(Result(key="r", label="roll-up lag: RecordReceipt to the series showing it, under imports",
                              tool="python grpc, 1 client", requests=len(millis), errors=0,
                              rps=round(len(millis) * 1000 / max(sum(millis), 1.0), 2),
                              p50_ms=round(pyload.percentile(millis, 50), 1),
                              p99_ms=round(pyload.percentile(millis, 99), 1), suite=NAME, unit="receipts/s"))
        report.check("(r) roll-up lag p99, s", r.p99_ms / 1000, "<", LAG_P99_MAX_S, row="r")
    import importlib

    for name in PROFIT_EXTRA:
        try:
            extra = importlib.import_module(f"suites.{name}")
        except ImportError:
            continue
        if hasattr(extra, "run_profitability"):
            extra.run_profitability(bench, report)


def rollup_lag(bench: Bench, products: list[str], buyers: list[str], order_rate: float) -> list[float]:
    """Seconds from RecordReceipt's answer until the customer's current month shows the cash, for receipts on
    seeded orders, while a background thread confirms `order_rate` orders a second (imported each second)."""
    import os
    import threading

    from crm.common.v1 import common_pb2
    from crm.sales.v1 import payment_service_pb2 as ppb
    from crm.sales.v1 import profitability_service_pb2 as pb

    profit, payments, metadata = _profit_stubs(bench)
    database = bench.platform.env.get("SALES_MONGODB_DATABASE", os.environ.get("SALES_MONGODB_DATABASE", "crm_sales"))
    with pymongo.MongoClient(bench.platform.env.get("SALES_MONGODB_URI", bench.mongo_uri)) as client:
        picked = [(d["_id"], d["customer_id"], d.get("currency_code", "CNY"))
                  for d in client[database]["orders"].find({"state": "confirmed"}, {"customer_id": 1,
                                                                                   "currency_code": 1}).limit(
                      LAG_RECEIPTS)]
    stop = threading.Event()

    def background() -> None:
        # New orders of the last day (a seed of their own each round: the seeding's request ids would import
        # nothing), a second's worth at the bench's order rate, in the current month as live sales are.
        per_second = max(1, round(order_rate))
        round_ = 0
        while not stop.is_set():
            round_ += 1
            began = time.monotonic()
            sales_seed.seed_orders(bench.platform.target("sales"), bench.token, buyers, products, per_second,
                                   lines=S1_LINES, progress=False, seed=10_000 + round_, ordered_within_days=1)
            stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))

    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    _start, month = _months_back(1)
    lags = []
    try:
        for order_id, customer_id, currency in picked:
            def cash() -> int:
                s = profit.GetContributionSeries(pb.GetContributionSeriesRequest(
                    id=customer_id, start_month=month, end_month=month, currency_code=currency),
                    metadata=metadata, timeout=10)
                return s.total.cash_minor_units

            before = cash()
            try:
                payments.RecordReceipt(ppb.RecordReceiptRequest(
                    order_id=order_id, method=ppb.PAYMENT_METHOD_BANK_TRANSFER,
                    amount=common_pb2.Money(minor_units=1, currency_code=currency)), metadata=metadata, timeout=10)
            except Exception as err:  # noqa: BLE001 - a fully paid order: skip it
                log(f"(r) receipt on {order_id} refused: {getattr(err, 'details', lambda: err)()}")
                continue
            recorded = time.monotonic()
            while cash() < before + 1 and time.monotonic() - recorded < 30:
                time.sleep(0.02)
            lags.append(time.monotonic() - recorded)
    finally:
        stop.set()
        thread.join(timeout=120)
    return lags

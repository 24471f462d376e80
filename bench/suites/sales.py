"""The sales suite: the sales service and its gateway routes.

  seeding  --orders confirmed orders of --order-lines lines each (default
           200,000 x 5 = 1,000,000 lines), dated over the last year, for one
           seeded customer in five (ORDERS_PER_BUYER = 10 orders each: a
           year's history; an import batch then asks about 50 customers, not
           250), through the sales service's own API (sales_seed.seed_orders,
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
        {"product": p, "quantity": rng.randint(1, 5)} for p in rng.sample(products, min(5, len(products)))]}
        for _ in range(2000)]
    return bench.http_post_bodies("/api/v1/orders", bodies, "bodies-orders.txt")


def card_360(bench: Bench, buyers: list[str]):
    """By the first phone of each customer with orders."""
    wanted = set(buyers)
    with pymongo.MongoClient(bench.mongo_uri) as client:  # one scan of the customers for their phones
        phones = [d["phones"][0] for d in client[bench.mongo_db]["customers"].find({}, {"phones": 1})
                  if d["_id"] in wanted and d.get("phones")]
    return bench.http([f"/api/v1/customers/360?phone={quote(p, safe='')}" for p in phones], "paths-360-sales.txt")

"""Measure the profit roll-up layout on a local FerretDB (not the full bench):
fill 24 months (and their quarters) of customer buckets for N customers, then time
- the contribution report over 12 months (every bucket read by _id, merged),
- one customer's 24-month series (one series document),
- one bucket write (a month shard rewritten, as the consumer does),
for a few shard counts.

    .venv/bin/python bench/rollup_layout.py --customers 20000 --shards 8,16,32
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from crm_kit.localstores import start_local_stores
from crm_kit.mongo import connect

from crm_sales.profitability.months import Month, business_zone, months_between
from crm_sales.profitability.rollups import events as rollup_events
from crm_sales.profitability.rollups import store as rollup_store
from crm_sales.profitability.rollups.model import CUSTOMER, Figures
from crm_sales.profitability.rollups.service import RollupService
from crm_sales.profitability.rollups.store import Change, RollupStore, Row, bucket_id, series_id, shard_of


def fill(store: RollupStore, customers: list[str], months: list[Month], active: float, rng: random.Random) -> None:
    docs: dict[str, dict[str, Row]] = {}
    for c in customers:
        series: dict[str, Row] = {}
        for m in months:
            if rng.random() > active:
                continue
            f = Figures(revenue=rng.randint(10_000, 9_000_000), cost=rng.randint(5_000, 5_000_000),
                        orders=rng.randint(1, 3), cash=rng.randint(0, 5_000_000))
            owner, team = f"rep-{rng.randrange(200):03d}", f"team-{rng.randrange(20):02d}"
            docs.setdefault(bucket_id(CUSTOMER, "CNY", m, shard_of(c, CUSTOMER)), {})[c] = Row(
                f, owner, team, "浙江", "", "1767225600000")
            quarter = docs.setdefault(bucket_id(CUSTOMER, "CNY", m.quarter, shard_of(c, CUSTOMER)), {})
            previous = quarter.get(c)
            quarter[c] = Row(f + (previous.figures if previous else Figures()), owner, team, "浙江", "",
                             "1767225600000")
            series[str(m)] = Row(f)
        docs.setdefault(series_id("CNY", c), {}).update({f"{c}|{m}": row for m, row in series.items()})
    for doc_id, rows in docs.items():
        store.replace(doc_id, rows)


def _confirmed(customer_id: str, rng: random.Random):
    from datetime import datetime, timezone

    from crm.common.v1 import common_pb2
    from crm.events.v1 import events_pb2
    from crm_kit.events import envelope as ev

    lines = [events_pb2.LineFigures(line_id=f"ln{n}", product_id=f"prd_{rng.randrange(40):02d}", margin_grade="B",
                                    quantity=2, revenue_minor_units=rng.randint(1000, 90000),
                                    cost_minor_units=rng.randint(500, 50000)) for n in range(5)]
    payload = events_pb2.OrderConfirmed(order_id=f"ord_{rng.getrandbits(96):024x}", customer_id=customer_id,
                                        owner_id=f"rep-{rng.randrange(200):03d}", team_id="team-01",
                                        total=common_pb2.Money(minor_units=1, currency_code="CNY"), lines=lines)
    payload.confirmed_at.FromDatetime(datetime(2026, rng.randint(1, 12), rng.randint(1, 28), 4, tzinfo=timezone.utc))
    return ev.new_event(ev.ORDER_CONFIRMED, payload.order_id, payload, "sales")


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * q))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--shards", default="8,16,32")
    parser.add_argument("--active", type=float, default=0.6, help="share of customers with orders in a month")
    args = parser.parse_args()
    rng = random.Random(7)
    customers = [f"cus_{rng.getrandbits(128):032x}"[:30] for _ in range(args.customers)]
    months = months_between(Month(2025, 1), Month(2026, 12))
    with tempfile.TemporaryDirectory() as tmp:
        local = start_local_stores(Path(tmp))
        try:
            for shards in (int(s) for s in args.shards.split(",")):
                rollup_store.SHARDS[CUSTOMER] = shards
                db = connect(local.mongodb_uri, "rollup-layout")[f"layout_{shards}"]
                store = RollupStore(db, timedelta(seconds=30))
                t0 = time.perf_counter()
                fill(store, customers, months, args.active, rng)
                filled = time.perf_counter() - t0
                service = RollupService(store, None)
                report = []
                for _ in range(5):
                    t = time.perf_counter()
                    got = service.customers(Month(2026, 1), Month(2026, 12), "CNY")
                    report.append(time.perf_counter() - t)
                ragged = []
                for _ in range(3):
                    t = time.perf_counter()
                    service.customers(Month(2025, 12), Month(2026, 11), "CNY")
                    ragged.append(time.perf_counter() - t)
                from concurrent.futures import ThreadPoolExecutor

                from crm_sales.profitability.rollups.service import READS_IN_FLIGHT, bucket_ids_of
                ids = bucket_ids_of(CUSTOMER, "CNY", Month(2026, 1), Month(2026, 12))
                t = time.perf_counter()
                with ThreadPoolExecutor(READS_IN_FLIGHT) as pool:
                    texts = list(pool.map(store.text, ids))
                reads = time.perf_counter() - t
                stored = sum(len(d.get("rows", b"")) for d in store.documents.find({"_id": {"$in": ids}}))
                print(f"  12 months: {len(ids)} buckets read in {reads * 1000:.0f} ms, {stored / 1e6:.2f} MB stored, "
                      f"{sum(map(len, texts)) / 1e6:.2f} MB of rows", flush=True)
                series = []
                for c in rng.sample(customers, 200):
                    t = time.perf_counter()
                    service.customer_series(c, Month(2025, 1), Month(2026, 12), "CNY")
                    series.append(time.perf_counter() - t)
                one_read, writes = [], []
                for _ in range(30):
                    doc = bucket_id(CUSTOMER, "CNY", Month(2026, rng.randint(1, 12)), rng.randrange(shards))
                    t = time.perf_counter()
                    store.rows(doc)
                    one_read.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    store.apply(doc, [(f"evt_{rng.getrandbits(64):016x}", [Change(customers[0], Figures(cash=1))])])
                    writes.append(time.perf_counter() - t)
                # The consumer's catch-up rate on an import: reads of 2,000 order.confirmed over 12 months.
                events = [_confirmed(rng.choice(customers), rng) for _ in range(2000)]
                t = time.perf_counter()
                written = rollup_events.apply_batch(store, events, business_zone())
                applied = time.perf_counter() - t
                print(f"  a read of 2,000 imported orders over 12 months: {written} documents written in "
                      f"{applied:.1f} s = {2000 / applied:.0f} orders/s", flush=True)
                print(f"  12 months not quarter-aligned (2025-12..2026-11): median "
                      f"{statistics.median(ragged) * 1000:.0f} ms", flush=True)
                print(f"shards={shards:3d} customers={len(got):6d} fill={filled:6.1f}s "
                      f"report12m median={statistics.median(report) * 1000:7.1f}ms max={max(report) * 1000:7.1f}ms "
                      f"series24m p50={p(series, .5):5.1f}ms p99={p(series, .99):5.1f}ms "
                      f"bucket read p50={p(one_read, .5):5.1f}ms write p50={p(writes, .5):6.1f}ms "
                      f"p99={p(writes, .99):6.1f}ms", flush=True)
        finally:
            local.stop()


if __name__ == "__main__":
    main()

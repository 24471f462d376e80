"""Demo sales data through the sales service's own gRPC API, for `make run`
and the benchmark: a catalogue spanning every margin grade, orders with
lines, imported as confirmed history over the last year (payment plans due
from their order dates), and receipts.

Everything goes through the service (its rules, numbering and events), so
seeded data is what users would have made; nothing is written to the store
directly.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tqdm import tqdm

from crm.common.v1 import common_pb2
from crm.sales.v1 import order_service_pb2 as opb, order_service_pb2_grpc
from crm.sales.v1 import payment_service_pb2 as paypb, payment_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_kit.grpc_client import open_channel

# (SKU, name, unit, list price, unit cost) in fen: margin rates from 70 % to a loss, so every grade has products.
CATALOGUE = [
    ("TEA-OOLONG-500", "安溪铁观音 500g", "盒", 398_00, 98_00),
    ("TEA-PUER-357", "普洱茶饼 357g", "饼", 268_00, 88_00),
    ("SET-TEA-01", "青瓷茶具套装", "套", 599_00, 280_00),
    ("SVC-INSTALL", "上门安装服务", "次", 200_00, 90_00),
    ("FILTER-RO-01", "RO 反渗透滤芯", "个", 159_00, 95_00),
    ("PURIFIER-X5", "净水器 X5", "台", 2_999_00, 1_950_00),
    ("KETTLE-01", "智能恒温水壶", "个", 329_00, 260_00),
    ("CUP-GLASS-6", "玻璃杯 6 只装", "套", 89_00, 79_00),
    ("GIFT-BOX-01", "中秋礼盒", "盒", 188_00, 181_00),
    ("CLEARANCE-01", "清仓水杯", "个", 19_00, 25_00),
]
# Orders per ImportOrders call (the service's maximum) and tries per batch.
IMPORT_BATCH = 500
BATCH_ATTEMPTS = 3
# Customers per batch: enough for the run to reach every customer, within these bounds. Each one
# costs the batch a question to the customer service and a book entry or two (measured on two
# cores: 397 orders/s at 50 customers per batch, 182 at 250).
CUSTOMERS_PER_BATCH = (50, 250)
RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED)
PAYMENT_METHODS = [paypb.PAYMENT_METHOD_BANK_TRANSFER, paypb.PAYMENT_METHOD_ALIPAY, paypb.PAYMENT_METHOD_WECHAT_PAY,
                   paypb.PAYMENT_METHOD_CASH, paypb.PAYMENT_METHOD_CHEQUE]


@dataclass(frozen=True)
class SeededOrder:
    id: str
    total: int
    currency: str


def _metadata(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def seed_catalogue(target: str, token: str) -> list[str]:
    """The demo products' ids in CATALOGUE's order, created once (a re-run finds them by SKU)."""
    stub = product_service_pb2_grpc.ProductServiceStub(open_channel(target, "crm.sales.v1.ProductService",
                                                                    default_timeout=30.0))
    ids: dict[str, str] = {}
    for sku, name, unit, price, cost in CATALOGUE:
        product = ppb.Product(sku=sku, name=name, unit=unit, active=True,
                              list_price=common_pb2.Money(minor_units=price, currency_code="CNY"),
                              unit_cost=common_pb2.Money(minor_units=cost, currency_code="CNY"))
        try:
            ids[sku] = stub.CreateProduct(ppb.CreateProductRequest(product=product), metadata=_metadata(token)).id
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
    missing = {sku for sku, *_ in CATALOGUE} - ids.keys()
    if missing:
        # GetProduct takes an id only: the ones that exist are found by walking the catalogue, once.
        ids.update(_ids_by_sku(stub, token, missing))
    lost = missing - ids.keys()
    if lost:  # the SKU is taken, yet no product listed holds it
        raise RuntimeError(f"demo products {', '.join(sorted(lost))} exist but were not found in the catalogue")
    return [ids[sku] for sku, *_ in CATALOGUE]


def _ids_by_sku(stub: product_service_pb2_grpc.ProductServiceStub, token: str, skus: set[str]) -> dict[str, str]:
    """product id by SKU for those of `skus` in the catalogue (every page until all are found)."""
    found: dict[str, str] = {}
    page_token = ""
    while True:
        page = stub.ListProducts(ppb.ListProductsRequest(page_size=200, page_token=page_token),
                                 metadata=_metadata(token))
        found.update({p.sku: p.id for p in page.products if p.sku in skus})
        page_token = page.next_page_token
        if not page_token or found.keys() >= skus:
            return found


def order_lines(rng: random.Random, products: list[str], lines: int) -> list[opb.OrderLineInput]:
    return [opb.OrderLineInput(product=product, quantity=rng.randint(1, 5))
            for product in rng.sample(products, min(lines, len(products)))]


def seed_orders(target: str, token: str, customers: list[str], products: list[str], count: int, *,
                lines: int = 5, threads: int = 16, seed: int = 7, progress: bool = True,
                on_order: Callable[[SeededOrder, random.Random], None] | None = None,
                ordered_within_days: int = 365) -> Counter:
    """`count` confirmed orders of `lines` lines each for the customers
    (every one reached when the count allows), ordered at random times over the last `ordered_within_days` days (up to
    today's midnight UTC); outcomes by status code ("CONFIRMED" when all
    went well). Imported as history (ImportOrders, IMPORT_BATCH per call:
    a handful of bulk writes per batch instead of a few per order), so
    their plans are due from their order dates. A re-run on the same day
    imports nothing twice (per-order request ids), and a batch that failed
    as a whole is re-sent. `on_order` runs for each order of a batch once
    the batch is in, on up to `threads` threads."""
    channel = open_channel(target, "crm.sales.v1.OrderService", default_timeout=120.0)
    stub = order_service_pb2_grpc.OrderServiceStub(channel)
    metadata = _metadata(token)
    outcomes: Counter = Counter()
    lock = threading.Lock()
    # Fixed for the day, so the same seed asks for the same orders (same content per request id).
    until = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    spread = max(ordered_within_days, 1) * 86_400

    def item(n: int, buyers: list[str]) -> tuple[opb.ImportOrderItem, random.Random]:
        rng = random.Random(seed * 1_000_003 + n)
        ordered_at = Timestamp()
        ordered_at.FromDatetime(until - timedelta(seconds=rng.randrange(spread)))
        return opb.ImportOrderItem(request_id=f"seed-{seed}-{n}", customer_id=rng.choice(buyers),
                                   lines=order_lines(rng, products, lines), ordered_at=ordered_at), rng

    # A batch's orders go to a slice of the customers (as a migration exports history customer by
    # customer): the service asks each customer once per batch and lists its orders in one go.
    shuffled = random.Random(seed).sample(customers, len(customers))
    fewest, most = CUSTOMERS_PER_BATCH
    per_batch = min(len(shuffled), max(fewest, min(most, -(-len(shuffled) * IMPORT_BATCH // max(count, 1)))))

    def one_batch(first: int) -> list[str]:
        start = first // IMPORT_BATCH * per_batch % max(len(shuffled), 1)
        buyers = (shuffled[start:] + shuffled[:start])[:per_batch]
        made = [item(n, buyers) for n in range(first, min(first + IMPORT_BATCH, count))]
        request = opb.ImportOrdersRequest(orders=[i for i, _rng in made])
        for attempt in range(BATCH_ATTEMPTS):
            try:
                results = stub.ImportOrders(request, metadata=metadata).results
                break
            except grpc.RpcError as err:  # safe to re-send: nothing is imported twice
                if err.code() not in RETRIED or attempt == BATCH_ATTEMPTS - 1:
                    return [err.code().name] * len(made)
                time.sleep(1.0 * (attempt + 1))
        if on_order is not None:
            seeded = [(SeededOrder(r.order_id, r.total.minor_units, r.total.currency_code), rng)
                      for r, (_item, rng) in zip(results, made) if not r.error_code]
            list(hooks.map(lambda pair: on_order(*pair), seeded))
        return [r.error_code or "CONFIRMED" for r in results]

    # One ImportOrders call at a time: more only contend for the store (measured: 397 orders/s with one
    # in flight, 364 with two, 347 with three on two cores). With `on_order`, the next batch imports
    # while the hooks of the previous one run.
    in_flight = 1 if on_order is None else 2
    with tqdm(total=count, unit="orders", disable=not progress, desc="orders") as bar, \
            ThreadPoolExecutor(in_flight) as pool, \
            ThreadPoolExecutor(max(1, threads)) as hooks:
        for batch in pool.map(one_batch, range(0, count, IMPORT_BATCH)):
            with lock:
                outcomes.update(batch)
            bar.update(len(batch))
    channel.close()
    return outcomes


def pay(target: str, token: str) -> Callable[[SeededOrder, random.Random], None]:
    """An `on_order` that pays most orders in full, some in part and leaves
    the rest owed (so the demo has overdue receivables once terms pass)."""
    stub = payment_service_pb2_grpc.PaymentServiceStub(open_channel(target, "crm.sales.v1.PaymentService",
                                                                    default_timeout=60.0))
    metadata = _metadata(token)

    def on_order(order: SeededOrder, rng: random.Random) -> None:
        share = rng.choice([100, 100, 100, 60, 0])
        amount = order.total * share // 100
        if amount:
            stub.RecordReceipt(paypb.RecordReceiptRequest(
                order_id=order.id, method=rng.choice(PAYMENT_METHODS), request_id=f"seed-pay-{order.id}",
                amount=common_pb2.Money(minor_units=amount, currency_code=order.currency)), metadata=metadata)

    return on_order


def summary(outcomes: Iterable) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(Counter(outcomes).items()))

"""Demo sales data through the sales service's own gRPC API, for `make run`
and the benchmark: a catalogue spanning every margin grade, orders with
lines, confirmed (their payment plans follow), and receipts.

Everything goes through the service (its rules, numbering and events), so
seeded data is what users would have made; nothing is written to the store
directly.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
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
    """The demo products' ids, created once (a re-run finds them by SKU)."""
    stub = product_service_pb2_grpc.ProductServiceStub(open_channel(target, "crm.sales.v1.ProductService",
                                                                    default_timeout=30.0))
    ids = []
    for sku, name, unit, price, cost in CATALOGUE:
        product = ppb.Product(sku=sku, name=name, unit=unit, active=True,
                              list_price=common_pb2.Money(minor_units=price, currency_code="CNY"),
                              unit_cost=common_pb2.Money(minor_units=cost, currency_code="CNY"))
        try:
            ids.append(stub.CreateProduct(ppb.CreateProductRequest(product=product), metadata=_metadata(token)).id)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
            ids.append(stub.GetProduct(ppb.GetProductRequest(id=sku), metadata=_metadata(token)).id)
    return ids


def order_lines(rng: random.Random, products: list[str], lines: int) -> list[opb.OrderLineInput]:
    return [opb.OrderLineInput(product=product, quantity=rng.randint(1, 5))
            for product in rng.sample(products, min(lines, len(products)))]


def seed_orders(target: str, token: str, customers: list[str], products: list[str], count: int, *,
                lines: int = 5, threads: int = 16, seed: int = 7, progress: bool = True,
                on_order: Callable[[SeededOrder, random.Random], None] | None = None) -> Counter:
    """`count` confirmed orders of `lines` lines each for random customers;
    outcomes by status code ("CONFIRMED" when all went well)."""
    channel = open_channel(target, "crm.sales.v1.OrderService", default_timeout=60.0)
    stub = order_service_pb2_grpc.OrderServiceStub(channel)
    metadata = _metadata(token)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def one(n: int) -> str:
        rng = random.Random(seed * 1_000_003 + n)
        try:
            order = stub.CreateOrder(opb.CreateOrderRequest(
                customer_id=rng.choice(customers), lines=order_lines(rng, products, lines),
                request_id=f"seed-{seed}-{n}"), metadata=metadata)
            if order.state == opb.ORDER_STATE_DRAFT:
                order = stub.ConfirmOrder(opb.ConfirmOrderRequest(id=order.id), metadata=metadata)
        except grpc.RpcError as err:
            return err.code().name
        if on_order is not None:
            on_order(SeededOrder(order.id, order.total.minor_units, order.total.currency_code), rng)
        return "CONFIRMED"

    with tqdm(total=count, unit="orders", disable=not progress, desc="orders") as bar, \
            ThreadPoolExecutor(threads) as pool:
        for outcome in pool.map(one, range(count)):
            with lock:
                outcomes[outcome] += 1
            bar.update(1)
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

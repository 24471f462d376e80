"""The demo data `make run` seeds into an empty platform tells the sales
story through the real services: every margin grade in the catalogue,
confirmed orders with plans, money owed and paid, contracts ending soon."""

from __future__ import annotations

import grpc

from crm.sales.v1 import customer_sales_service_pb2 as spb, customer_sales_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_cli import sales_seed
from crm_cli.sales_demo import CONTRACT_SHARE, seed_sales_demo
from tests.conftest import token
from tests.service.support import create


def test_the_sales_demo_covers_every_grade_and_leaves_money_owed(services, stub, phone):
    admin = token("demo-seed", "admin", team="team-demo-sales")
    customers = [create(stub, phone(), [("authorization", f"Bearer {admin}")], display_name=f"演示客户{n}").id
                 for n in range(CONTRACT_SHARE + 1)]
    done = seed_sales_demo(services.targets["customer"], services.targets["sales"], admin, orders_per_customer=2,
                           customers=customers, progress=False)
    assert done["orders"] == {"CONFIRMED": 2 * len(customers)} and done["contracts"] == 2
    metadata = [("authorization", f"Bearer {admin}")]
    with grpc.insecure_channel(services.targets["sales"]) as channel:
        products = product_service_pb2_grpc.ProductServiceStub(channel).ListProducts(
            ppb.ListProductsRequest(page_size=200), metadata=metadata).products
        demo_skus = {sku for sku, *_ in sales_seed.CATALOGUE}
        assert {p.grade for p in products if p.sku in demo_skus} == {"A", "B", "C", "D"}
        summaries = [customer_sales_service_pb2_grpc.CustomerSalesServiceStub(channel).GetCustomerSales(
            spb.GetCustomerSalesRequest(customer_id=c), metadata=metadata) for c in customers]
    # Every demo order is a confirmed order of a demo customer, dated over the last year.
    assert sum(len(s.open_orders) for s in summaries) == 2 * len(customers)
    ordered = sum(o.total.minor_units for s in summaries for o in s.open_orders)
    contracts = done["contracts"] * 12_000_00
    owed = sum(a.outstanding.minor_units for s in summaries for a in s.receivables)
    overdue = sum(a.overdue.minor_units for s in summaries for a in s.receivables)
    # Most orders paid, some in part, some not: less is owed than was ordered, more than the contracts alone.
    assert contracts < owed < ordered + contracts
    assert overdue > 0  # orders from months ago, on 30-day terms, left unpaid

"""The demo's sales story for `make run`: a catalogue across every margin
grade, a year of orders for the demo customers, most paid, some in part and
some not at all (overdue once their terms pass), and service contracts of
which some end within the next two months (renewal reminders to show);
then commission, targets, expenses and daily reports (profitability_demo.py).
Everything goes through the sales service's API (sales_seed.py)."""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone

import grpc

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm.sales.v1 import contract_service_pb2 as kpb, contract_service_pb2_grpc
from crm_kit.grpc_client import open_channel

from crm_cli import sales_seed

CONTRACT_SHARE = 20  # one customer in this many has a service contract


def customer_ids(customer_target: str, token: str) -> list[str]:
    """Every customer id the token may see, page by page."""
    stub = customer_service_pb2_grpc.CustomerServiceStub(open_channel(customer_target,
                                                                      "crm.customer.v1.CustomerService"))
    ids, page_token = [], ""
    while True:
        page = stub.ListCustomers(cpb.ListCustomersRequest(page_size=200, page_token=page_token),
                                  metadata=[("authorization", f"Bearer {token}")])
        ids += [c.id for c in page.customers]
        page_token = page.next_page_token
        if not page_token:
            return ids


def seed_contracts(sales_target: str, token: str, customers: list[str], rng: random.Random) -> int:
    """Signed one-year service contracts for every CONTRACT_SHARE-th customer,
    ending from 10 days to a year from now."""
    stub = contract_service_pb2_grpc.ContractServiceStub(open_channel(sales_target, "crm.sales.v1.ContractService",
                                                                      default_timeout=30.0))
    metadata = [("authorization", f"Bearer {token}")]
    today = datetime.now(timezone.utc).date()
    signed = 0
    for customer in customers[::CONTRACT_SHARE]:
        end = today + timedelta(days=rng.randint(10, 365))
        start = end - timedelta(days=365)
        contract = kpb.Contract(
            customer_id=customer, title="年度维保服务", value=common_pb2.Money(minor_units=12_000_00, currency_code="CNY"),
            start_date=common_pb2.Date(year=start.year, month=start.month, day=start.day),
            end_date=common_pb2.Date(year=end.year, month=end.month, day=end.day),
            renewal=kpb.RenewalTerms(auto_renew=rng.random() < 0.5, renewal_months=12, notice_days=30))
        try:
            made = stub.CreateContract(kpb.CreateContractRequest(contract=contract), metadata=metadata)
            stub.SignContract(kpb.SignContractRequest(id=made.id), metadata=metadata)
            signed += 1
        except grpc.RpcError as err:
            raise SystemExit(f"demo contracts failed: {err.code().name}: {err.details()}") from None
    return signed


def seed_sales_demo(customer_target: str, sales_target: str, token: str, *, orders_per_customer: int = 3,
                    customers: list[str] | None = None, progress: bool = True, mint=None) -> dict:
    """The sales story for `customers` (default: every customer the token sees), then the profitability
    story (profitability_demo.py; `mint(subject, role, team)` makes the reps' and managers' tokens, by
    default with the development secret)."""
    from crm_cli.profitability_demo import seed_commission_plan, seed_profitability_demo, seed_story

    zone = os.environ.get("SALES_TIMEZONE", "Asia/Shanghai")
    customers = customers if customers is not None else customer_ids(customer_target, token)
    seed_commission_plan(customer_target, sales_target, token, customers, timezone_name=zone)
    products = sales_seed.seed_catalogue(sales_target, token)
    outcomes = sales_seed.seed_orders(sales_target, token, customers, products, len(customers) * orders_per_customer,
                                      progress=progress, on_order=sales_seed.pay(sales_target, token))
    contracts = seed_contracts(sales_target, token, customers, random.Random(11))
    profitability = seed_profitability_demo(customer_target, sales_target, token, customers, mint=mint,
                                            timezone_name=zone)
    if len(customers) >= 2:
        by_sku = dict(zip((sku for sku, *_ in sales_seed.CATALOGUE), products))
        profitability["story"] = seed_story(sales_target, token, by_sku, customers[0], customers[1],
                                            timezone_name=zone)
    return {"products": len(products), "orders": dict(outcomes), "contracts": contracts,
            "profitability": profitability}

"""Seed demo customers through the customer service (BatchCreateCustomers),
so seeding obeys the same rules as every other write."""

from __future__ import annotations

import grpc
from tqdm import tqdm

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import customer_service_pb2_grpc
from crm_kit.grpc_client import open_channel

from google.protobuf import json_format

from crm_cli.demo import demo_customer

_KINDS = {"person": pb.CUSTOMER_KIND_PERSON, "company": pb.CUSTOMER_KIND_COMPANY}


def _to_pb(d: dict) -> pb.Customer:
    message = json_format.ParseDict({k: v for k, v in d.items() if k != "kind"}, pb.Customer())
    message.kind = _KINDS[d["kind"]]
    return message


def customer_count_is_zero(stub, token: str) -> bool:
    page = stub.ListCustomers(pb.ListCustomersRequest(page_size=1), metadata=[("authorization", f"Bearer {token}")])
    return len(page.customers) == 0


def seed_customers(target: str, token: str, count: int, *, start: int = 0, batch: int = 500,
                   progress: bool = True) -> dict[str, int]:
    """Create demo customers start..start+count-1; returns counts by outcome.
    Re-running is harmless: existing phones come back as ALREADY_EXISTS."""
    channel = open_channel(target, "crm.customer.v1.CustomerService", default_timeout=120.0)
    stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
    outcomes: dict[str, int] = {}
    metadata = [("authorization", f"Bearer {token}")]
    with tqdm(total=count, unit="customers", disable=not progress, desc="seeding") as bar:
        for first in range(start, start + count, batch):
            last = min(first + batch, start + count)
            request = pb.BatchCreateCustomersRequest(requests=[
                pb.CreateCustomerRequest(customer=_to_pb(demo_customer(n))) for n in range(first, last)])
            try:
                response = stub.BatchCreateCustomers(request, metadata=metadata)
            except grpc.RpcError as err:
                raise SystemExit(f"seeding failed: {err.code().name}: {err.details()}") from None
            for result in response.results:
                key = result.error_code or "CREATED"
                outcomes[key] = outcomes.get(key, 0) + 1
            bar.update(last - first)
    channel.close()
    return outcomes

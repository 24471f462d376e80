"""Helpers for calling the services over real gRPC in tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from datetime import datetime
from functools import partial

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import customer_service_pb2 as pb
from tests.conftest import token


def as_(subject="rep-a", role="rep", team="team-1", **kw):
    """Call metadata for a principal; everyone is in team-1 unless told otherwise."""
    return [("authorization", f"Bearer {token(subject, role, team=team, **kw)}")]


def as_in(team: str):
    """`as_` with another default team, for a module whose callers share one."""
    return partial(as_, team=team)


def create(stub, phone, who=None, **fields):
    customer = pb.Customer(display_name=fields.pop("display_name", "王小明"), phones=[phone] if phone else [], **fields)
    return stub.CreateCustomer(pb.CreateCustomerRequest(customer=customer), metadata=who or as_())


def race(n, call):
    """Run call(0..n-1) at once; each outcome is its result or its status code."""
    def attempt(i):
        try:
            return call(i)
        except grpc.RpcError as err:
            return err.code()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(attempt, range(n)))


def code_of(fn):
    with pytest.raises(grpc.RpcError) as err:
        fn()
    return err.value.code()


def ts(dt: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(dt)
    return out


def all_pages(fetch, field: str) -> list:
    """Every item of a paged list: fetch(page_token) answers one page, whose
    `field` holds the items, until its next_page_token is empty."""
    out, page_token = [], ""
    while True:
        page = fetch(page_token)
        out.extend(getattr(page, field))
        page_token = page.next_page_token
        if not page_token:
            return out

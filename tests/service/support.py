"""Helpers for calling the services over real gRPC in tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from crm.customer.v1 import customer_service_pb2 as pb
from tests.conftest import token


def as_(subject="rep-a", role="rep", team="team-1", **kw):
    """Call metadata for a principal; everyone is in team-1 unless told otherwise."""
    return [("authorization", f"Bearer {token(subject, role, team=team, **kw)}")]


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

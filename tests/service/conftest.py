from __future__ import annotations

import grpc
import pytest

from crm.customer.v1 import customer_service_pb2_grpc, interaction_service_pb2_grpc, visit_service_pb2_grpc


@pytest.fixture(scope="module")
def channel(services):
    """A channel to the customer service."""
    ch = grpc.insecure_channel(services.targets["customer"])
    yield ch
    ch.close()


@pytest.fixture(scope="module")
def stub(channel):
    return customer_service_pb2_grpc.CustomerServiceStub(channel)


@pytest.fixture(scope="module")
def log(channel):
    """The customer service's interaction log."""
    return interaction_service_pb2_grpc.InteractionServiceStub(channel)


@pytest.fixture(scope="module")
def visits(channel):
    """The customer service's scheduled visits."""
    return visit_service_pb2_grpc.VisitServiceStub(channel)

"""gRPC channels to the services, opened lazily in each worker process
(channels must not cross a gunicorn fork)."""

from __future__ import annotations

import threading

from grpc_health.v1 import health_pb2, health_pb2_grpc

from crm.customer.v1 import customer_service_pb2_grpc, interaction_service_pb2_grpc, visit_service_pb2_grpc
from crm_kit.grpc_client import open_channel

from crm_gateway.settings import GatewaySettings

SERVICE_NAMES = {
    "customer": "crm.customer.v1.CustomerService",
    "sales": "crm.sales.v1.SalesService",
    "support": "crm.support.v1.SupportService",
    "loyalty": "crm.loyalty.v1.LoyaltyService",
}
# Safe to retry on UNAVAILABLE: they change nothing.
IDEMPOTENT = {"customer": ("GetCustomer", "ListCustomers", "LookupCustomer",
                            "crm.customer.v1.InteractionService/ListInteractions",
                            "crm.customer.v1.InteractionService/GetInteractionSummary",
                            "crm.customer.v1.VisitService/GetVisit", "crm.customer.v1.VisitService/ListVisits")}


class Downstream:
    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._channels: dict = {}

    def channel(self, service: str):
        ch = self._channels.get(service)
        if ch is None:
            with self._lock:
                ch = self._channels.get(service)
                if ch is None:
                    ch = self._channels[service] = open_channel(
                        self.settings.targets[service], SERVICE_NAMES[service], IDEMPOTENT.get(service, ()),
                        default_timeout=self.settings.grpc_timeout_seconds)
        return ch

    @property
    def customers(self) -> customer_service_pb2_grpc.CustomerServiceStub:
        return customer_service_pb2_grpc.CustomerServiceStub(self.channel("customer"))

    @property
    def interactions(self) -> interaction_service_pb2_grpc.InteractionServiceStub:
        return interaction_service_pb2_grpc.InteractionServiceStub(self.channel("customer"))

    @property
    def visits(self) -> visit_service_pb2_grpc.VisitServiceStub:
        return visit_service_pb2_grpc.VisitServiceStub(self.channel("customer"))

    def check_health(self, timeout: float = 0.5) -> dict[str, str]:
        """Health of every service, asked in parallel: {name: SERVING | NOT_SERVING | UNAVAILABLE}."""
        calls = {}
        for name in SERVICE_NAMES:
            stub = health_pb2_grpc.HealthStub(self.channel(name))
            calls[name] = stub.Check.future(health_pb2.HealthCheckRequest(service=SERVICE_NAMES[name]), timeout=timeout)
        out = {}
        for name, call in calls.items():
            try:
                out[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(call.result().status)
            except Exception:  # noqa: BLE001 - any failure means "not ready"
                out[name] = "UNAVAILABLE"
        return out

    def check_one(self, service: str, timeout: float = 0.5) -> str:
        stub = health_pb2_grpc.HealthStub(self.channel(service))
        try:
            status = stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAMES[service]), timeout=timeout).status
            return health_pb2.HealthCheckResponse.ServingStatus.Name(status)
        except Exception:  # noqa: BLE001
            return "UNAVAILABLE"

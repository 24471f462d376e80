"""gRPC channels to the services, opened lazily in each worker process
(channels must not cross a gunicorn fork)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from grpc_health.v1 import health_pb2, health_pb2_grpc

from crm.customer.v1 import customer_service_pb2_grpc, interaction_service_pb2_grpc, overview_service_pb2_grpc, \
    visit_service_pb2_grpc
from crm_kit.grpc_client import open_channel

from crm_gateway.settings import GatewaySettings

# A worker's request threads (GATEWAY_THREADS, 8 by default) times the card's calling sections (2), with room:
# each call ends within the card's budget, so a slow service holds a thread for at most that long.
SIDE_BY_SIDE_THREADS = 32

SERVICE_NAMES = {
    "customer": "crm.customer.v1.CustomerService",
    "sales": "crm.sales.v1.OrderService",
    "support": "crm.support.v1.SupportService",
    "loyalty": "crm.loyalty.v1.LoyaltyService",
}
# Safe to retry on UNAVAILABLE: they change nothing.
IDEMPOTENT = {"customer": ("GetCustomer", "ListCustomers", "LookupCustomer",
                            "crm.customer.v1.InteractionService/ListInteractions",
                            "crm.customer.v1.InteractionService/GetInteractionSummary",
                            "crm.customer.v1.VisitService/GetVisit", "crm.customer.v1.VisitService/ListVisits",
                            "crm.customer.v1.CustomerOverviewService/GetCustomerOverview"),
              # Each sales feature adds its reads, named "crm.sales.v1.<Service>/<Method>".
              "sales": ("crm.sales.v1.ProductService/GetProduct", "crm.sales.v1.ProductService/ListProducts",
                        "crm.sales.v1.ProductService/GetProductGradeHistory",
                        "crm.sales.v1.OpportunityService/GetOpportunity",
                        "crm.sales.v1.OpportunityService/ListOpportunities",
                        "crm.sales.v1.OpportunityService/ListStages", "crm.sales.v1.OpportunityService/GetForecast",
                        "crm.sales.v1.OpportunityService/GetFunnel",
                        "crm.sales.v1.ContractService/GetContract",
                        "crm.sales.v1.ContractService/ListCustomerContracts",
                        "crm.sales.v1.ContractService/ListExpiringContracts",
                        "crm.sales.v1.OrderService/GetOrder", "crm.sales.v1.OrderService/ListCustomerOrders",
                        "crm.sales.v1.PaymentService/GetPaymentPlan", "crm.sales.v1.PaymentService/GetAgeing",
                        "crm.sales.v1.CustomerSalesService/GetCustomerSales"),
              "loyalty": ("GetAccount", "ListLedger", "GetReward", "ListRewards", "ListRedemptions",
                          "crm.loyalty.v1.GreetingService/ListGreetingTemplates",
                          "crm.loyalty.v1.GreetingService/ListGreetingDeliveries")}


class Downstream:
    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._channels: dict = {}
        self._stubs: dict = {}
        self._pool: ThreadPoolExecutor | None = None

    def channel(self, service: str):
        """The channel to `service` ("customer") or to one part of it
        ("customer.interactions": its own target when configured, else the
        service's channel, shared)."""
        name = service if service in self.settings.targets else service.partition(".")[0]
        ch = self._channels.get(name)
        if ch is None:
            with self._lock:
                ch = self._channels.get(name)
                if ch is None:
                    base = name.partition(".")[0]
                    ch = self._channels[name] = open_channel(
                        self.settings.targets[name], SERVICE_NAMES[base], IDEMPOTENT.get(base, ()),
                        default_timeout=self.settings.grpc_timeout_seconds)
        return ch

    def side_by_side(self) -> ThreadPoolExecutor:
        """Threads for blocking calls made side by side (the card's
        sections), made on first use, in the worker process that uses them.
        Blocking calls, not grpc futures: a future starts a polling thread
        per call when none runs, about 0.3 ms of CPU each."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(SIDE_BY_SIDE_THREADS, thread_name_prefix="downstream")
        return self._pool

    def stub(self, service: str, stub_class):
        """One stub per (service, class), made once: building a stub binds
        every method of the service (16 for CustomerService), which cost
        about 0.1 ms per request when done per request."""
        key = (service, stub_class)
        found = self._stubs.get(key)
        if found is None:
            found = self._stubs[key] = stub_class(self.channel(service))
        return found

    @property
    def customers(self) -> customer_service_pb2_grpc.CustomerServiceStub:
        return self.stub("customer", customer_service_pb2_grpc.CustomerServiceStub)

    @property
    def interactions(self) -> interaction_service_pb2_grpc.InteractionServiceStub:
        return self.stub("customer.interactions", interaction_service_pb2_grpc.InteractionServiceStub)

    @property
    def visits(self) -> visit_service_pb2_grpc.VisitServiceStub:
        return self.stub("customer.visits", visit_service_pb2_grpc.VisitServiceStub)

    @property
    def overview(self) -> overview_service_pb2_grpc.CustomerOverviewServiceStub:
        return self.stub("customer", overview_service_pb2_grpc.CustomerOverviewServiceStub)

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

"""The composition root: every store, service, servicer, job and event
consumer of the sales process, wired in one place. Tests build the same
graph (`build`) with their own database, outbox or customer directory."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from pymongo.database import Database

from crm.sales.v1 import sales_service_pb2, sales_service_pb2_grpc
from crm_kit import mongo
from crm_kit.events.outbox import Outbox
from crm_kit.grpc_server import ServiceHost

from crm_sales.customers import CustomerDirectory
from crm_sales.settings import SalesSettings

PRODUCER = "sales"

# Each feature adds its indexes, gRPC service names and servicer registration here.
INDEXES: dict = {}
# The empty SalesService answers health checks until the orders feature lands (then OrderService does).
SERVICE_NAMES: list[str] = [sales_service_pb2.DESCRIPTOR.services_by_name["SalesService"].full_name]


@dataclass
class SalesApp:
    db: Database
    outbox: Outbox
    customers: CustomerDirectory
    # Feature services by name ("products", "orders", ...), for tests and tools.
    features: dict = field(default_factory=dict)
    registrations: list = field(default_factory=list)
    jobs: list = field(default_factory=list)

    def register(self, server: grpc.Server) -> None:
        for add in self.registrations:
            add(server)


def build(settings: SalesSettings, db: Database | None = None, outbox: Outbox | None = None,
          customers: CustomerDirectory | None = None) -> SalesApp:
    db = db if db is not None else settings.store.open("crm-sales")
    mongo.ensure_indexes(db, INDEXES)
    if outbox is None:
        outbox = Outbox.from_settings(db, settings.events, PRODUCER) if settings.events.enabled \
            else Outbox.disabled(PRODUCER)
    customers = customers or CustomerDirectory.connect(settings.customer_target)
    app = SalesApp(db, outbox, customers)
    app.registrations.append(lambda server: sales_service_pb2_grpc.add_SalesServiceServicer_to_server(
        sales_service_pb2_grpc.SalesServiceServicer(), server))
    # The outbox relay starts and stops with the server (it drains on SIGTERM).
    app.jobs.append(outbox)
    # --- features are wired below, one block each -------------------------------
    return app


def build_host(settings: SalesSettings) -> ServiceHost:
    app = build(settings)
    return ServiceHost(settings.server, SERVICE_NAMES, app.register, jobs=tuple(app.jobs))

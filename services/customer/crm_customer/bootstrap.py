"""The composition root: every store, service, servicer, job and event
relay of the customer process, wired in one place. Tests build the same
graph (`build`) with their own database or outbox."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

import grpc
from pymongo.database import Database

from crm.customer.v1 import customer_service_pb2, customer_service_pb2_grpc, interaction_service_pb2, \
    interaction_service_pb2_grpc, overview_service_pb2, overview_service_pb2_grpc, visit_service_pb2, \
    visit_service_pb2_grpc
from crm_kit import mongo
from crm_kit.customer_directory import CustomerGrants
from crm_kit.events.outbox import Outbox
from crm_kit.grpc_server import ServiceHost
from crm_kit.jobs import PeriodicJob
from crm_kit.persistence.presence import RUNS as PRESENCE_RUNS, Presence

from crm_customer import activity
from crm_customer.customers import events as customer_events
from crm_customer.customers import store as customer_store
from crm_customer.customers.events import PRODUCER
from crm_customer.customers.imports import CustomerImport
from crm_customer.customers.service import CustomerService, PrivacyPart
from crm_customer.customers.servicer import CustomerServicer
from crm_customer.interactions import store as interaction_store
from crm_customer.interactions.service import InteractionService
from crm_customer.interactions.servicer import InteractionServicer
from crm_customer.overview.service import OverviewService
from crm_customer.overview.servicer import OverviewServicer
from crm_customer.settings import CustomerSettings
from crm_customer.visits import store as visit_store
from crm_customer.visits.service import VisitService
from crm_customer.visits.servicer import VisitServicer

INDEXES = {**customer_store.INDEXES, **interaction_store.INDEXES, **visit_store.INDEXES, **activity.INDEXES}
SERVICE_NAMES = [
    customer_service_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name,
    interaction_service_pb2.DESCRIPTOR.services_by_name["InteractionService"].full_name,
    visit_service_pb2.DESCRIPTOR.services_by_name["VisitService"].full_name,
    overview_service_pb2.DESCRIPTOR.services_by_name["CustomerOverviewService"].full_name,
]


@dataclass
class CustomerApp:
    db: Database
    outbox: Outbox
    customers: CustomerService
    importer: CustomerImport
    interactions: InteractionService
    visits: VisitService
    jobs: tuple
    grants: CustomerGrants | None = None  # signs the overview's customer grant
    activity: Presence | None = None  # who has an interaction or a listed visit (crm_customer.activity)

    def register(self, server: grpc.Server) -> None:
        customer_service_pb2_grpc.add_CustomerServiceServicer_to_server(
            CustomerServicer(self.customers, self.importer), server)
        interaction_service_pb2_grpc.add_InteractionServiceServicer_to_server(
            InteractionServicer(self.interactions), server)
        visit_service_pb2_grpc.add_VisitServiceServicer_to_server(VisitServicer(self.visits), server)
        overview_service_pb2_grpc.add_CustomerOverviewServiceServicer_to_server(
            OverviewServicer(OverviewService(self.customers, self.interactions, self.visits, self.activity),
                             self.grants), server)


def build(settings: CustomerSettings, db: Database | None = None, outbox: Outbox | None = None) -> CustomerApp:
    db = db if db is not None else settings.store.open("crm-customer")
    mongo.ensure_indexes(db, INDEXES)
    if outbox is None:
        outbox = Outbox.from_settings(db, settings.events, PRODUCER) if settings.events.enabled \
            else Outbox.disabled(PRODUCER)
    store = customer_store.CustomerStore(db, outbox, timedelta(seconds=settings.abandoned_write_seconds))
    customers = CustomerService(store, settings.default_phone_region,
                                settings.protection_days)
    customers.backfill_books()  # data from before owner books existed; a no-op afterwards
    interactions = InteractionService(interaction_store.InteractionStore(db, outbox), customers)
    visits = VisitService(visit_store.VisitStore(db), customers, interactions)
    # A customer's export includes both; erasing the customer erases both first; visits follow the owner.
    customers.privacy_parts += [PrivacyPart("interactions", interactions.export, interactions.erase),
                                PrivacyPart("visits", visits.export, visits.erase)]
    customers.owner_followers.append(visits.follow_owner)
    # Every replica runs it; the release is idempotent (revision claims), so overlaps are harmless.
    pool_release = PeriodicJob("pool_release", settings.pool_release_interval_seconds,
                               lambda: customers.release_inactive(None))
    # Activity marks (crm_customer.activity) are trusted after this process's first backfill, which runs at start.
    # Logs and visit lists are read through their hints only, so a first link an old writer left without one
    # reads as empty with or without a mark: the backfill scans the hints, not the largest collection's links.
    presence = activity.activity_presence(db, enabled=settings.presence_backfill_seconds > 0)
    backfill = PeriodicJob("customer_activity_backfill", settings.presence_backfill_seconds,
                           lambda: presence.backfill([(interactions.store.chain, interaction_store.LOG_PREFIX),
                                                      (visits.store.customer_lists, visit_store.CUSTOMER_PREFIX)],
                                                     first_links=False),
                           first_run_after=0, runs=PRESENCE_RUNS)
    jobs = [outbox, pool_release, backfill]
    if settings.events.enabled:
        # the value grade sales gives each customer (customer.value_grade_changed, group customer-value-grades)
        jobs.append(customer_events.value_grade_follower(settings.events.open(), customers,
                                                         f"{socket.gethostname()}-{os.getpid()}"))
    # The outbox relay starts and stops with the server (it drains on SIGTERM).
    return CustomerApp(db, outbox, customers, CustomerImport(customers), interactions, visits,
                       jobs=tuple(jobs), grants=CustomerGrants.of(settings.server.auth), activity=presence)


def build_host(settings: CustomerSettings) -> ServiceHost:
    app = build(settings)
    return ServiceHost(settings.server, SERVICE_NAMES, app.register, jobs=app.jobs)

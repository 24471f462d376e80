"""The composition root: every store, service, servicer, job and event
consumer of the sales process, wired in one place. Tests build the same
graph (`build`) with their own database, outbox or customer directory."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

import grpc
from pymongo.database import Database

from crm.sales.v1 import order_service_pb2, order_service_pb2_grpc
from crm.sales.v1 import contract_service_pb2, contract_service_pb2_grpc
from crm.sales.v1 import product_service_pb2, product_service_pb2_grpc
from crm.sales.v1 import opportunity_service_pb2, opportunity_service_pb2_grpc
from crm.sales.v1 import payment_service_pb2, payment_service_pb2_grpc
from crm.sales.v1 import customer_sales_service_pb2, customer_sales_service_pb2_grpc
from crm.sales.v1 import daily_report_service_pb2, daily_report_service_pb2_grpc
from crm.sales.v1 import profitability_service_pb2, profitability_service_pb2_grpc
from crm.sales.v1 import target_service_pb2, target_service_pb2_grpc
from crm.sales.v1 import commission_service_pb2, commission_service_pb2_grpc
from crm.sales.v1 import expense_service_pb2, expense_service_pb2_grpc
from crm.sales.v1 import value_grade_service_pb2, value_grade_service_pb2_grpc
from crm_kit import mongo
from crm_kit.events.outbox import Outbox
from crm_kit.jobs import PeriodicJob
from crm_kit.grpc_server import ServiceHost

from crm_sales.contracts import events as contract_events
from crm_sales.contracts import store as contract_store
from crm_sales.contracts.service import ContractService
from crm_sales.contracts.servicer import ContractServicer
from crm_sales.customer_sales.service import CustomerSalesService
from crm_kit.persistence.presence import RUNS as PRESENCE_RUNS
from crm_sales.customer_sales.store import CUSTOMER_BOOKS, INDEXES as PRESENCE_INDEXES, customer_presence
from crm_sales.customer_sales.servicer import CustomerSalesServicer
from crm_kit.customer_directory import CustomerDirectory, CustomerGrants
from crm_sales.payments import events as payment_events
from crm_sales.payments import store as payment_store
from crm_sales.payments.service import PaymentService, debt_of_order
from crm_sales.payments.servicer import PaymentServicer
from crm_sales.orders import events as order_events
from crm_sales.orders import store as order_store
from crm_sales.orders.service import OrderService
from crm_sales.orders.servicer import OrderServicer
from crm_sales.opportunities import events as opportunity_events
from crm_sales.opportunities.service import OpportunityService
from crm_sales.opportunities.servicer import OpportunityServicer
from crm_sales.opportunities.store import OpportunityStore
from crm_sales.profitability.daily_reports import events as daily_report_events
from crm_sales.profitability.daily_reports.model import Deadline
from crm_sales.profitability.daily_reports.service import DailyReportService
from crm_sales.profitability.daily_reports.servicer import DailyReportServicer
from crm_sales.profitability.daily_reports.store import DailyReportStore
from crm_sales.profitability.months import DEFAULT_TIMEZONE, business_zone
from crm_sales.profitability.rollups import events as rollup_events
from crm_sales.profitability.rollups.reports import ProfitReports
from crm_sales.profitability.rollups.service import RollupService
from crm_sales.profitability.rollups.servicer import ProfitabilityServicer
from crm_sales.profitability.rollups.store import INDEXES as ROLLUP_INDEXES, RollupStore
from crm_sales.products.service import ProductService
from crm_sales.products.servicer import ProductServicer
from crm_sales.products.store import ProductStore
from crm_sales.profitability.grades import store as grade_store
from crm_sales.profitability.grades.service import ContributionByGrade, GradeService
from crm_sales.profitability.grades.servicer import ValueGradeServicer
from crm_sales.profitability.targets import store as target_store
from crm_sales.profitability.targets.service import TargetService
from crm_sales.profitability.targets.servicer import TargetServicer
from crm_sales.profitability.commission import events as commission_events
from crm_sales.profitability.commission import store as commission_store
from crm_sales.profitability.commission.service import CommissionService
from crm_sales.profitability.commission.servicer import CommissionServicer
from crm_sales.profitability.expenses import events as expense_events
from crm_sales.profitability.expenses import store as expense_store
from crm_sales.profitability.expenses.service import ExpenseService
from crm_sales.profitability.expenses.servicer import ExpenseServicer
from crm_sales.settings import SalesSettings

PRODUCER = "sales"

# Each feature adds its indexes, gRPC service names and servicer registration here.
INDEXES: dict = {}
# OrderService comes first: its name is the one health checks and alerts ask for.
SERVICE_NAMES: list[str] = [order_service_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name]
INDEXES.update(order_store.INDEXES)
SERVICE_NAMES.append(product_service_pb2.DESCRIPTOR.services_by_name["ProductService"].full_name)
SERVICE_NAMES.append(opportunity_service_pb2.DESCRIPTOR.services_by_name["OpportunityService"].full_name)
SERVICE_NAMES.append(contract_service_pb2.DESCRIPTOR.services_by_name["ContractService"].full_name)
INDEXES.update(contract_store.INDEXES)
SERVICE_NAMES.append(payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name)
INDEXES.update(payment_store.INDEXES)
INDEXES.update(ROLLUP_INDEXES)
INDEXES.update(PRESENCE_INDEXES)
SERVICE_NAMES.append(profitability_service_pb2.DESCRIPTOR.services_by_name["ProfitabilityService"].full_name)
SERVICE_NAMES.append(customer_sales_service_pb2.DESCRIPTOR.services_by_name["CustomerSalesService"].full_name)
SERVICE_NAMES.append(daily_report_service_pb2.DESCRIPTOR.services_by_name["DailyReportService"].full_name)
SERVICE_NAMES.append(value_grade_service_pb2.DESCRIPTOR.services_by_name["ValueGradeService"].full_name)
INDEXES.update(grade_store.INDEXES)
SERVICE_NAMES.append(target_service_pb2.DESCRIPTOR.services_by_name["TargetService"].full_name)
INDEXES.update(target_store.INDEXES)
SERVICE_NAMES.append(commission_service_pb2.DESCRIPTOR.services_by_name["CommissionService"].full_name)
INDEXES.update(commission_store.INDEXES)
SERVICE_NAMES.append(expense_service_pb2.DESCRIPTOR.services_by_name["ExpenseService"].full_name)
INDEXES.update(expense_store.INDEXES)


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
    customers = customers or CustomerDirectory.connect(settings.customer_target,
                                                       CustomerGrants.of(settings.server.auth))
    app = SalesApp(db, outbox, customers)
    # The outbox relay starts and stops with the server (it drains on SIGTERM).
    app.jobs.append(outbox)
    # Shared by every feature: how old an unfinished revision claim must be to be taken over, and
    # (events on) one event-Redis client and one consumer name for all of this process's consumer groups.
    abandoned = timedelta(seconds=settings.abandoned_write_seconds)
    events = settings.events.open() if settings.events.enabled else None
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    # The business's time zone decides which day and month a moment belongs to (SALES_TIMEZONE).
    zone = business_zone(getattr(settings, "timezone", DEFAULT_TIMEZONE))
    # --- features are wired below, one block each -------------------------------
    # products: the catalogue, graded by margin (orders price their lines from it)
    products = ProductService(ProductStore(db, abandoned),
                              settings.margin_grades)
    app.features["products"] = products
    app.registrations.append(lambda server: product_service_pb2_grpc.add_ProductServiceServicer_to_server(
        ProductServicer(products), server))
    # opportunities: pipeline, forecast, funnel; open ones follow the customer's owner (customer.owner_changed)
    opportunities = OpportunityService(
        OpportunityStore(db, abandoned), customers,
        settings.opportunity_stages, zone=zone)
    app.features["opportunities"] = opportunities
    app.registrations.append(lambda server: opportunity_service_pb2_grpc.add_OpportunityServiceServicer_to_server(
        OpportunityServicer(opportunities), server))
    if settings.events.enabled:
        app.jobs.append(opportunity_events.customer_consumer(events, opportunities, consumer))
    # contracts: terms, signing (a payment plan), the expiry check (reminders, renewal opportunities)
    contracts = ContractService(
        contract_store.ContractStore(db, outbox, abandoned), customers,
        app.features, reminder_days=settings.contract_reminder_days, zone=zone)
    app.features["contracts"] = contracts
    app.registrations.append(lambda server: contract_service_pb2_grpc.add_ContractServiceServicer_to_server(
        ContractServicer(contracts), server))
    app.jobs.append(PeriodicJob("contract_expiry", settings.contract_check_interval_seconds,
                                lambda: contracts.run_expiry_check()))
    if settings.events.enabled:
        app.jobs.append(contract_events.customer_consumer(events, contracts, consumer))
    # orders: draft to delivery, numbered per year, priced from the catalogue; erasure strips their personal data
    # (imported historical orders get their payment plans in bulk at once; see payments below)
    orders = OrderService(order_store.OrderStore(db, outbox, abandoned),
                          customers, lambda ref: app.features["products"].for_order(ref),
                          plans_for_imported=lambda imported: app.features["payments"].ensure_plans(
                              [debt_of_order(order, order.confirmed_at, zone) for order in imported]), zone=zone)
    app.features["orders"] = orders
    app.registrations.append(lambda server: order_service_pb2_grpc.add_OrderServiceServicer_to_server(
        OrderServicer(orders), server))
    if settings.events.enabled:
        app.jobs.append(order_events.erasure_consumer(events, orders.erase_customer, consumer))
    # payments: plans of instalments per order or contract, receipts, refunds, ageing; plans follow orders
    payments = PaymentService(payment_store.PaymentStore(db, outbox, abandoned),
                              customers, app.features, terms_days=settings.payment_terms_days, zone=zone)
    app.features["payments"] = payments
    app.registrations.append(lambda server: payment_service_pb2_grpc.add_PaymentServiceServicer_to_server(
        PaymentServicer(payments), server))
    app.jobs.append(PeriodicJob("overdue_metric", settings.overdue_refresh_seconds, payments.refresh_overdue_metric))
    if settings.events.enabled:
        app.jobs.append(payment_events.order_follower(events, payments, consumer))
        # the rep and team ageing summaries follow every plan write (receivables.changed, group sales-ageing)
        app.jobs.append(payment_events.ageing_follower(events, payments.store.summaries, consumer))
    # profitability roll-ups: figures per customer, product and rep and month, kept from order, payment and
    # expense events (group sales-profitability); rebuilt from the orders, plans and approved expenses
    rollups = RollupService(RollupStore(db, abandoned), zone,
                            orders=orders.store.every_order, plans=payments.store.every_plan)
    app.features["rollups"] = rollups
    app.registrations.append(lambda server: profitability_service_pb2_grpc.add_ProfitabilityServiceServicer_to_server(
        ProfitabilityServicer(ProfitReports(rollups, app.features, customers)), server))
    if settings.events.enabled:
        app.jobs.append(rollup_events.rollup_follower(events, rollups.store, rollups.tz, consumer))
    # customer sales: one customer's orders, receivables and ending contracts in one call (the 360 card)
    # (marks: see crm_sales.customer_sales.store; trusted after this process's first backfill, which runs at start)
    presence = customer_presence(db, enabled=settings.presence_backfill_seconds > 0)
    customer_sales = CustomerSalesService(customers, orders, payments, contracts, presence)
    books = [orders.store.books.chain, payments.store.books.chain, contracts.store.books.chain]
    app.jobs.append(PeriodicJob("sales_presence_backfill", settings.presence_backfill_seconds,
                                lambda: presence.backfill([(chain, CUSTOMER_BOOKS) for chain in books]),
                                first_run_after=0, runs=PRESENCE_RUNS))
    app.features["customer_sales"] = customer_sales
    app.registrations.append(lambda server: customer_sales_service_pb2_grpc.add_CustomerSalesServiceServicer_to_server(
        CustomerSalesServicer(customer_sales), server))
    # daily reports: one per rep per day, due at SALES_DAILY_REPORT_DEADLINE; the contacted customers are each rep's
    # day of interactions and completed visits (interaction.recorded, customer.erased: group sales-daily-reports)
    daily_reports = DailyReportService(
        DailyReportStore(db, abandoned),
        zone=zone,
        deadline=Deadline.parse(settings.daily_report_deadline), late_days=settings.daily_report_late_days)
    app.features["daily_reports"] = daily_reports
    app.registrations.append(lambda server: daily_report_service_pb2_grpc.add_DailyReportServiceServicer_to_server(
        DailyReportServicer(daily_reports), server))
    if settings.events.enabled:
        app.jobs.append(daily_report_events.customer_follower(events, daily_reports, consumer))
    # value grades: customers graded by last year's margin (yearly job, decided once across replicas; admin runs);
    # customer.value_grade_changed goes out in the grade's own write (the customer service shows the grade)
    value_grades = GradeService(grade_store.GradeStore(db, outbox, abandoned), app.features,
                                settings.value_grade_bands, settings.value_grade_currency,
                                zone, customers)
    app.features["value_grades"] = value_grades
    app.registrations.append(lambda server: value_grade_service_pb2_grpc.add_ValueGradeServiceServicer_to_server(
        ValueGradeServicer(value_grades), server))
    app.jobs.append(PeriodicJob("value_grades_yearly", settings.value_grade_check_interval_seconds,
                                value_grades.run_yearly))
    # the dashboards' business gauges: margin and net contribution by value grade per month, from the roll-ups
    app.jobs.append(PeriodicJob("value_grade_metrics", settings.business_metrics_refresh_seconds,
                                ContributionByGrade(value_grades).refresh))
    # targets: monthly rep and team targets, attainment and rep rankings (actuals from the roll-ups)
    targets = TargetService(target_store.TargetStore(db, abandoned), app.features)
    app.features["targets"] = targets
    app.registrations.append(lambda server: target_service_pb2_grpc.add_TargetServiceServicer_to_server(
        TargetServicer(targets), server))
    # commission: plans by margin grade, earned from payment.received / payment.refunded of orders (group
    # sales-commission), rep statements by month, team totals, the close
    commission = CommissionService(commission_store.CommissionStore(db, abandoned),
                                   lambda order_id: app.features["orders"].load(order_id), settings.margin_grades,
                                   settings.timezone)
    app.features["commission"] = commission
    app.registrations.append(lambda server: commission_service_pb2_grpc.add_CommissionServiceServicer_to_server(
        CommissionServicer(commission), server))
    if settings.events.enabled:
        app.jobs.append(commission_events.commission_follower(events, commission, consumer))
    # expenses: recorded by reps, decided by their managers; expense.approved rides in the approval's claim
    expenses = ExpenseService(expense_store.ExpenseStore(db, outbox, abandoned), customers, app.features,
                              settings.expense_categories, zone)
    app.features["expenses"] = expenses
    rollups.expenses_source = expenses.approved_for_rebuild  # the roll-up rebuild counts approved expenses too
    app.registrations.append(lambda server: expense_service_pb2_grpc.add_ExpenseServiceServicer_to_server(
        ExpenseServicer(expenses), server))
    if settings.events.enabled:
        app.jobs.append(expense_events.erasure_consumer(events, expenses, consumer))
    return app


def build_host(settings: SalesSettings) -> ServiceHost:
    app = build(settings)
    host = ServiceHost(settings.server, SERVICE_NAMES, app.register, jobs=tuple(app.jobs))
    host.app = app  # tests and tools reach a running host's features (host.app.features)
    return host

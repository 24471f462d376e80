"""One customer's relationship with sales, composed from the orders,
payments and contracts features: the sales section of the 360 card.

The customer service is asked once (not once per feature) who owns the
customer; each feature still applies its own rules to that answer.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.persistence.presence import Presence

from crm_sales import access
from crm_sales.contracts.model import Contract
from crm_sales.contracts.service import ContractService
from crm_kit.customer_directory import CustomerDirectory
from crm_sales.orders.model import Order
from crm_sales.orders.service import OrderService
from crm_sales.payments.model import Ageing
from crm_sales.payments.service import PaymentService

OPEN_ORDERS_SHOWN = 20
CONTRACT_WINDOW_DAYS = 60
MAX_CONTRACT_WINDOW_DAYS = 366
CONTRACTS_READ = 200  # a customer's contracts looked at for the window


@dataclass(frozen=True)
class CustomerSales:
    customer_id: str
    open_orders: list[Order]
    more_open_orders: bool
    last_order: Order | None
    receivables: list[Ageing]
    ending_contracts: list[Contract]


def contract_window(days: int) -> int:
    if days == 0:
        return CONTRACT_WINDOW_DAYS
    if not 1 <= days <= MAX_CONTRACT_WINDOW_DAYS:
        raise InvalidArgument(FieldViolation("contracts_within_days", f"must be 1..{MAX_CONTRACT_WINDOW_DAYS}"))
    return days


def ending_within(contracts: list[Contract], today: date, days: int) -> list[Contract]:
    """Signed contracts still running that end within `days` of `today`, soonest first."""
    last_day = today + timedelta(days=days)
    return sorted((c for c in contracts if c.state_on(today) == "signed" and today <= c.end <= last_day),
                  key=lambda c: (c.end, c.id))


class CustomerSalesService:
    def __init__(self, customers: CustomerDirectory, orders: OrderService, payments: PaymentService,
                 contracts: ContractService, presence: Presence, readers: int = 8):
        self.customers = customers
        self.presence = presence  # who has anything in the three features' customer books
        self.orders = orders
        self.payments = payments
        self.contracts = contracts
        # The features' reads are independent: run side by side, the card waits for the slowest, not the sum.
        self._pool = ThreadPoolExecutor(readers, thread_name_prefix="customer-sales")

    def get(self, principal: Principal, customer_id: str, contracts_within_days: int = 0) -> CustomerSales:
        window = contract_window(contracts_within_days)
        today = self.payments.today()
        with self.customers.one_answer_each(reading=True):
            # Asked once here (or read from the caller's customer grant); the reads below share the answer.
            customer = self.customers.get(access.require_customer_id(customer_id))
            # The features' own read rights first (each would refuse alike): whether a customer has any
            # sales is told only to those who may read them.
            access.require_any_read(principal)
            access.require_read(principal, customer)
            if not self.presence.may_have(customer_id):
                return CustomerSales(customer_id, [], False, None, [], [])

            def start(read, *args):
                # Each read in a copy of this context: the caller's token, request id and the shared answer.
                return self._pool.submit(contextvars.copy_context().run, read, principal, customer_id, *args)

            orders = start(self.orders.open_and_last_for_customer)
            receivables = start(self.payments.receivables_for_customer, today)
            contracts = start(self.contracts.list_for_customer, CONTRACTS_READ, "")
            (open_orders, last), receivables, (contracts, _next) = \
                orders.result(), receivables.result(), contracts.result()
        return CustomerSales(customer_id, open_orders[:OPEN_ORDERS_SHOWN], len(open_orders) > OPEN_ORDERS_SHOWN,
                             last, [a for a in receivables.by_currency if a.outstanding],
                             ending_within(contracts, today, window))

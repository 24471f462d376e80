"""Use cases of payment plans and receivables: rights, then the plan's rules
(crm_sales.payments.model) against one consistent state, then one write.

Every change is read-change-write of the plan's one document through
`write_with_retries`: a writer that lost revision n + 1 to another reads the
winner's state and re-checks everything (two receipts that together overpay:
the second sees the first and is refused). The events ride in the same
claim, and order.paid is added by the write that makes the plan fully paid,
with `paid_announced` in the same state, so it goes out once per order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone, tzinfo

from crm_kit.auth import Principal
from crm_kit.clock import local_date
from crm_kit.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from crm_kit.ids import new_id
from crm_kit.money import Money, validate_money
from crm_kit.persistence.revisions import Contended, write_with_retries

from crm_sales import access, metrics
from crm_sales.payments import events as payment_events
from crm_sales.payments import model
from crm_sales.payments.model import Ageing, Debt, Plan, Receipt, Refund
from crm_sales.payments.store import PaymentStore
from crm_sales.profitability.months import DEFAULT_ZONE

SYSTEM = "system"
# Orders in these states owe their total (a receipt may create the plan on demand).
OWING_ORDER_STATES = ("confirmed", "partially_delivered", "delivered", "closed")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Receivables:
    """What a customer owes as of a date, per currency (the 360 card)."""

    customer_id: str
    as_of: date
    by_currency: tuple[Ageing, ...]


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


class PaymentService:
    def __init__(self, store: PaymentStore, customers, features: dict, terms_days: int = 30,
                 clock: Callable[[], datetime] = now_utc, zone: tzinfo = DEFAULT_ZONE):
        self.store = store
        self.customers = customers  # crm_kit.customer_directory.CustomerDirectory, asked as the caller
        self.features = features  # the app's feature services: orders are read on demand
        self.terms_days = terms_days
        self.clock = clock
        self.zone = zone  # the business's day decides "today": due, overdue, no receipt dated tomorrow

    def today(self) -> date:
        return local_date(self.clock(), self.zone)

    # --- plans follow their debts (no caller: events, other features) ---------------

    def ensure_plan(self, debt: Debt) -> Plan:
        """The debt's plan; a default one (one instalment due `terms_days`
        after the start) when it has none. Idempotent."""
        plan_id = model.plan_id(debt.kind, debt.id)
        existing = self.store.get(plan_id)
        if existing is not None:
            return existing
        if debt.kind not in model.KINDS:
            raise InvalidArgument(FieldViolation("kind", f"must be one of {', '.join(model.KINDS)}"))
        validate_money(debt.total, "total")
        plan = model.default_plan(debt, self.terms_days, self.clock())
        self.store.create(plan, SYSTEM)  # False: a concurrent ensure made it; either is the plan
        return self.store.get(plan_id) or plan

    def ensure_plans(self, debts: list[Debt]) -> None:
        """`ensure_plan` for many debts at once (imported orders): the missing
        plans in one bulk insert, their books in one. Not read first (the
        debts are new, a read each would cost more than the insert): a plan
        that exists already stays as it is (at most a second book entry)."""
        missing: dict[str, Plan] = {}
        for debt in debts:
            plan_id = model.plan_id(debt.kind, debt.id)
            if plan_id in missing:
                continue
            if debt.kind not in model.KINDS:
                raise InvalidArgument(FieldViolation("kind", f"must be one of {', '.join(model.KINDS)}"))
            validate_money(debt.total, "total")
            missing[plan_id] = model.default_plan(debt, self.terms_days, self.clock())
        if missing:
            self.store.create_many(list(missing.values()), SYSTEM)

    def adjust_total(self, kind: str, debt_id: str, total: Money, *, amendment: int | None = None,
                     owner_id: str = "", team_id: str = "") -> Plan | None:
        """The debt's total changed (an order amendment). An amendment number
        at or below the last applied is a redelivery or a late event: ignored."""
        validate_money(total, "total")
        def mutate(current: Plan):
            if current.cancelled or (amendment is not None and amendment <= current.amendment):
                return None  # a cancelled debt stays cancelled; an amendment applies once
            if total.currency_code != current.currency:
                raise InvalidArgument(FieldViolation("total.currency_code", f"must be {current.currency}"))
            after = model.resize(current, total.minor_units, self.today())
            after = replace(after, owner_id=owner_id or current.owner_id, team_id=team_id or current.team_id,
                            amendment=amendment if amendment is not None else current.amendment)
            return after, "adjust_total", lambda _plan: []

        plan_id = model.plan_id(kind, debt_id)
        if self.store.get(plan_id) is None:
            try:  # its order.confirmed not processed (it failed): the plan from the order as it stands
                self._plan_on_demand(kind, debt_id)
            except NotFound:
                return None
        return self._change(plan_id, SYSTEM, mutate)

    def cancel_plan(self, kind: str, debt_id: str) -> Plan | None:
        """The debt was cancelled: nothing is owed any more; money collected
        moves back to its receipts, to be refunded."""
        def mutate(current: Plan):
            if current.cancelled:
                return None
            return model.cancel(current, self.today()), "cancel", lambda _plan: []

        return self._change_if_exists(model.plan_id(kind, debt_id), SYSTEM, mutate)

    def erase_customer(self, customer_id: str) -> int:
        """customer.erased: each of the customer's plans loses its receipt
        references and refund reasons, now and in its change history; the
        money history stays. Idempotent. Returns the plans seen."""
        plans = self.store.in_book(f"customer:{customer_id}")
        for plan in plans:
            def mutate(current: Plan):
                stripped = model.without_free_text(current)
                return None if stripped == current else (stripped, "erase", lambda _plan: [])

            stored = self._change(plan.id, SYSTEM, mutate)
            self.store.strip_history(plan.id, stored.revision - 1)
        return len(plans)

    # --- reading ------------------------------------------------------------------

    def get_plan(self, principal: Principal, kind: str, debt_id: str) -> Plan:
        plan = self._plan_or_not_found(kind, debt_id)
        access.require_read(principal, self.customers.get(plan.customer_id))
        return plan

    def ageing(self, principal: Principal, *, rep_id: str = "", team_id: str = "", customer_id: str = "",
               as_of: date | None = None) -> list[Ageing]:
        """Outstanding amounts by days past due, per currency, for one rep's
        book, one team's or one customer's. Reps see their own book,
        managers their team's, finance and admins all."""
        as_of = as_of or self.today()
        access.require_any_read(principal)
        given = [name for name, value in (("rep_id", rep_id), ("team_id", team_id), ("customer_id", customer_id))
                 if value]
        if not given:  # a rep's own book, a manager's team
            if principal.role == "rep":
                rep_id = principal.subject
            elif principal.role == "manager" and principal.team:
                team_id = principal.team
            else:
                raise InvalidArgument(FieldViolation("rep_id", "name one of rep_id, team_id, customer_id"))
        elif len(given) > 1:
            raise InvalidArgument(FieldViolation(given[1], "name only one of rep_id, team_id, customer_id"))
        if customer_id:
            access.require_read(principal, self.customers.get(customer_id))
            return model.ageing(self.store.in_book(f"customer:{customer_id}"), as_of)
        if not access.may_see_book(principal, rep_id=rep_id, team_id=team_id):
            raise PermissionDenied("reps see their own receivables, managers their team's")
        if rep_id and principal.role == "manager":  # a rep's book, as far as it is the manager's team's
            book = model.rep_in_team_book(rep_id, principal.team)
        else:
            book = f"rep:{rep_id}" if rep_id else f"team:{team_id}"
        if self.store.keeps_summaries:  # one read: the book's summary (it trails the writes by the consumer's lag)
            return model.ageing_from_cells(self.store.summaries.get(book), as_of)
        plans = self.store.in_book(f"rep:{rep_id}" if rep_id else f"team:{team_id}")  # events off: plan by plan
        if rep_id and principal.role == "manager":
            plans = [p for p in plans if p.team_id == principal.team]
        return model.ageing(plans, as_of)

    def rebuild_ageing_summaries(self) -> int:
        """Repair: every rep and team summary recomputed from the plans (a scan
        of every plan and summary). Run it while no plan is written: a change
        whose receivables.changed is applied after the scan read the plan
        would count twice. Returns the books written."""
        books: dict[str, model.AgeingCells] = {}
        for plan in self.store.every_plan():
            cells = model.ageing_cells(plan)
            for book in model.ageing_books(plan):
                books.setdefault(book, model.AgeingCells()).add(cells)
        for book in set(books) | set(self.store.summaries.books()):
            self.store.summaries.replace(book, books.get(book, model.AgeingCells()))
        return len(books)

    def refresh_overdue_metric(self) -> dict[str, int]:
        """The whole book's overdue amount per currency, as of today, into the
        crm_sales_overdue_minor_units gauge (a periodic job: one pass over
        every plan, a scan on FerretDB, so it runs seldom)."""
        overdue = {a.currency: a.overdue for a in model.ageing(self.store.every_plan(), self.today())}
        metrics.overdue_now(overdue)
        return overdue

    def receivables_for_customer(self, principal: Principal, customer_id: str, as_of: date) -> Receivables:
        return Receivables(customer_id, as_of, tuple(self.ageing(principal, customer_id=customer_id, as_of=as_of)))

    # --- changing the plan -------------------------------------------------------------

    def replace_instalments(self, principal: Principal, kind: str, debt_id: str,
                            wanted: list[tuple[date, int]], currency: str = "") -> Plan:
        """New instalments (due date, amount) adding up to the debt's total;
        only while nothing is applied to the present ones. Finance, admins,
        and the managers of the customer's team."""
        plan = self._plan_or_not_found(kind, debt_id)
        customer = self.customers.get(plan.customer_id)
        access.require_read(principal, customer)
        if not (principal.role == "manager" and access.may_work_on(principal, customer)):
            try:
                access.require_money_right(principal)
            except PermissionDenied:
                raise PermissionDenied("only finance, admins and the team's managers change payment plans") \
                    from None
        if currency and currency != plan.currency:
            raise InvalidArgument(FieldViolation("instalments[0].amount.currency_code", f"must be {plan.currency}"))

        def mutate(current: Plan):
            instalments = model.build_instalments(wanted, current.total)
            if instalments == current.instalments:
                return None
            return model.replace_instalments(current, instalments), "replace_instalments", lambda _plan: []

        return self._change(plan.id, principal.subject, mutate)

    def record_receipt(self, principal: Principal, kind: str, debt_id: str, *, method: str, amount: Money,
                       received_on: date | None = None, reference: str = "",
                       allocations: list[tuple[int, int]] | None = None, request_id: str = "") -> tuple[Plan, Receipt]:
        """A receipt against the debt's plan (made on demand for a confirmed
        order whose event is not processed yet). Allocated as given, else
        oldest due first. With `request_id`, a retry returns the first receipt."""
        access.require_money_right(principal)
        # What was asked, as asked (a retry tomorrow of "today" is the same request).
        fingerprint = _fingerprint("receipt", method, amount.minor_units, received_on, reference, allocations)
        received_on = received_on or self.today()
        model.validate_method(method)
        model.validate_amount(amount.minor_units, "amount.minor_units")
        model.validate_past_date(received_on, self.today(), "received_date")
        reference = model.validate_text(reference, "reference", model.MAX_REFERENCE)
        plan = self.store.get(model.plan_id(kind, debt_id)) or self._plan_on_demand(kind, debt_id)
        model.validate_currency_of(plan, amount.currency_code, "amount.currency_code")
        receipt = Receipt(id=new_id("rct"), method=method, amount=amount.minor_units, received_on=received_on,
                          reference=reference, recorded_by=principal.subject, recorded_at=self.clock(),
                          request_id=f"{request_id}|{fingerprint}" if request_id else "")
        if received_on < plan.starts_on:
            raise InvalidArgument(FieldViolation("received_date", "must not be before the debt started "
                                                                  f"({plan.starts_on.isoformat()})"))
        found: list[Receipt] = []

        def mutate(current: Plan):
            earlier = self._earlier(current.receipts, request_id, fingerprint)
            if earlier is not None:
                found.append(earlier)
                return None
            after = model.add_receipt(current, receipt, allocations)
            self.store.note_receipt(receipt.id, current.id)
            return after, "receipt", lambda stored: [payment_events.received(stored, stored.receipt(receipt.id))]

        stored = self._change(plan.id, principal.subject, mutate)
        if found:
            return stored, found[0]
        metrics.receipt_recorded(method, amount)  # only the write that stored it gets here
        return stored, stored.receipt(receipt.id)

    def allocate(self, principal: Principal, receipt_id: str, allocations: list[tuple[int, int]]) -> Plan:
        """Apply a receipt's unallocated remainder (part or all) to instalments."""
        access.require_money_right(principal)
        plan_id = self._plan_of_receipt(receipt_id)

        def mutate(current: Plan):
            return model.allocate(current, receipt_id, allocations), "allocate", lambda _plan: []

        return self._change(plan_id, principal.subject, mutate)

    def refund(self, principal: Principal, receipt_id: str, *, amount: Money | None, refunded_on: date | None = None,
               reason: str = "", void: bool = False, request_id: str = "") -> tuple[Plan, Receipt, Refund]:
        """Pay back part of a receipt, or void it (recorded in error: all it
        still holds). Recorded, never a deletion."""
        access.require_money_right(principal)
        fingerprint = _fingerprint("refund", receipt_id, void, amount.minor_units if amount else 0, refunded_on, reason)
        refunded_on = refunded_on or self.today()
        model.validate_past_date(refunded_on, self.today(), "refund_date")
        reason = model.validate_text(reason, "reason", model.MAX_REASON)
        if not void:
            if amount is None:
                raise InvalidArgument(FieldViolation("amount", "is required for a refund"))
            model.validate_amount(amount.minor_units, "amount.minor_units")
        plan_id = self._plan_of_receipt(receipt_id)
        refund = Refund(id=new_id("rfd"), amount=amount.minor_units if amount and not void else 0,
                        refunded_on=refunded_on, void=void, reason=reason, recorded_by=principal.subject,
                        recorded_at=self.clock(), request_id=f"{request_id}|{fingerprint}" if request_id else "")
        found: list[Refund] = []

        def mutate(current: Plan):
            if amount is not None and not void:
                model.validate_currency_of(current, amount.currency_code, "amount.currency_code")
            earlier = self._earlier([f for r in current.receipts for f in r.refunds], request_id, fingerprint)
            if earlier is not None:
                found.append(earlier)
                return None
            after = model.refund(current, receipt_id, refund)
            return after, "void" if void else "refund", lambda stored: [payment_events.refunded(
                stored, stored.receipt(receipt_id), _refund_in(stored.receipt(receipt_id), refund.id))]

        stored = self._change(plan_id, principal.subject, mutate)
        receipt = stored.receipt(receipt_id)
        return stored, receipt, found[0] if found else _refund_in(receipt, refund.id)

    # --- mechanics ---------------------------------------------------------------------

    @staticmethod
    def _earlier(items, request_id: str, fingerprint: str):
        """The item an earlier call with this request id recorded; a request
        id reused for other content is refused."""
        if not request_id:
            return None
        for item in items:
            key, _, print_ = item.request_id.partition("|")
            if key == request_id:
                if print_ != fingerprint:
                    raise AlreadyExists("request", request_id, "yours", "the request id was used for other content")
                return item
        return None

    def _plan_or_not_found(self, kind: str, debt_id: str) -> Plan:
        plan = self.store.get(model.plan_id(kind, debt_id))
        if plan is None:
            raise NotFound("payment plan", debt_id)
        return plan

    def _plan_of_receipt(self, receipt_id: str) -> str:
        plan_id = self.store.plan_of_receipt(receipt_id)
        if plan_id is None or (plan := self.store.get(plan_id)) is None or plan.receipt(receipt_id) is None:
            raise NotFound("receipt", receipt_id)
        return plan_id

    def _plan_on_demand(self, kind: str, debt_id: str) -> Plan:
        """A receipt for a confirmed order that came before its
        order.confirmed was processed: the plan is made from the order now."""
        orders = self.features.get("orders")
        order = orders.load(debt_id) if kind == "order" and orders is not None else None
        if order is None or order.state not in OWING_ORDER_STATES:
            raise NotFound("payment plan", debt_id)
        return self.ensure_plan(debt_of_order(order, self.clock(), self.zone))

    def _change_if_exists(self, plan_id: str, subject: str, mutate) -> Plan | None:
        if self.store.get(plan_id) is None:
            return None
        return self._change(plan_id, subject, mutate)

    def _change(self, plan_id: str, subject: str, mutate) -> Plan:
        """Read, change, write until one round wins. `mutate(current)`
        re-checks every rule on each fresh read and returns (new state,
        action, events of the stored state), or None when nothing changes."""
        def load() -> Plan:
            plan = self.store.get(plan_id)
            if plan is None:
                raise NotFound("payment plan", plan_id.partition(":")[2])
            return plan

        def change(current: Plan) -> Plan:
            planned = mutate(current)
            if planned is None:
                return current
            after, action, make_events = planned
            after = replace(after, revision=current.revision + 1)
            after, now_paid = model.announce_if_paid(current, after, self.clock())
            events = list(make_events(after)) + ([payment_events.paid(after)] if now_paid else [])
            if not self.store.commit(current, after, subject, action, events):
                raise Contended()
            return after

        return write_with_retries("payment plan", plan_id, load, change)


def _refund_in(receipt: Receipt, refund_id: str) -> Refund:
    return next(f for f in receipt.refunds if f.id == refund_id)


def debt_of_order(order, now: datetime, zone: tzinfo) -> Debt:
    """The debt a confirmed order is (crm_sales.orders' Order), from the business day it was confirmed."""
    started = order.confirmed_at or now
    return Debt("order", order.id, order.customer_id, order.owner_id, order.team_id, order.total,
                local_date(started, zone))

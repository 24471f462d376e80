"""Order use cases: create, read, list, edit a draft, confirm, amend,
cancel, ship, deliver, close; the import of historical orders; and the
erasure of a customer's personal data.

Transport-free: the gRPC servicer translates messages and calls these.

Every check comes before the first write, so a refused request writes
nothing. Rights follow the customer at the time of the call (asked of the
customer service as the caller, crm_kit.customer_directory): an order of a
customer the caller may not see is NotFound.

Every change of an existing order is a revision claim (crm_kit.persistence.
revisions) carrying the events it causes, inside `write_with_retries`: two
writers of one revision cannot both win, the loser re-reads and re-checks
(so of two concurrent confirmations the second finds the order confirmed
and is refused, and exactly one `order.confirmed` is staged).
"""

from __future__ import annotations

import contextvars
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, tzinfo

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.clock import local_date, now_ms
from crm_kit.errors import (Aborted, DomainError, FailedPrecondition, FieldViolation, InvalidArgument, NotFound,
                            PreconditionViolation)
from crm_kit.ids import id_pattern, new_id
from crm_kit.persistence.keys import PENDING_WAIT_SECONDS
from crm_kit.persistence.revisions import ABANDONED_AFTER, Contended, write_with_retries

from crm_sales import access, metrics
from crm_kit.customer_directory import CustomerDirectory, CustomerRef
from crm_sales.orders import events as order_events
from crm_sales.orders import model as rules
from crm_sales.orders.model import Delivery, ImportItem, LineInput, Order, OrderDraft, PricedProduct, Shipment
from crm_sales.orders.store import OrderStore
from crm_sales.profitability.months import DEFAULT_ZONE

ORDER_ID = id_pattern("ord")
SYSTEM = "system:erasure"
# How far back the 360 card looks for open orders (older ones are closed in practice).
OPEN_WINDOW = 200
# A ship or deliver time this far ahead of our clock is the caller's clock, not the future.
CLOCK_SKEW = timedelta(minutes=5)
# Customers an import asks the customer service about at once.
CUSTOMER_QUESTIONS_IN_FLIGHT = 8

# A change: (new order, action, events, amendment or None); the current order itself for "nothing to do".
Decision = tuple[Order, str, list, object]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Imported:
    """One imported item's outcome: the order, and whether an earlier call imported it."""

    order: Order
    already: bool = False


class OrderService:
    def __init__(self, store: OrderStore, customers: CustomerDirectory,
                 product_for_order: Callable[[str], object], clock=now_ms,
                 plans_for_imported: Callable[[list[Order]], None] | None = None, zone: tzinfo = DEFAULT_ZONE):
        self.store = store
        self.zone = zone  # an order is numbered in the business's year: 1 January there, not in UTC
        self.customers = customers
        # crm_sales.products' ProductService.for_order: by id or SKU; NotFound / FailedPrecondition (inactive).
        self.product_for_order = product_for_order
        self.clock = clock
        # Payment plans for a batch of imported orders, in bulk (crm_sales.payments' ensure_plans).
        self.plans_for_imported = plans_for_imported

    # --- reading -------------------------------------------------------------------

    def get(self, principal: Principal, order_id: str) -> Order:
        order, _customer = self._readable(principal, order_id)
        return order

    def load(self, order_id: str) -> Order | None:
        """A system read (jobs, consumers): no rights."""
        return self.store.get(order_id) if ORDER_ID.match(order_id or "") else None

    def list_for_customer(self, principal: Principal, customer_id: str, *, page_size: int, page_token: str
                          ) -> tuple[list[Order], str]:
        size = paging.page_size(page_size)
        customer = self._customer(principal, customer_id, work=False)
        query = {"customer": customer.id}
        start = paging.book_start(paging.decode(page_token, query))
        orders, following = self.store.book_page(customer.id, start, size)
        return orders, paging.encode({"n": following}, query) if following else ""

    def open_for_customer(self, principal: Principal, customer_id: str) -> list[Order]:
        """Orders neither closed nor cancelled among the customer's newest
        OPEN_WINDOW, oldest first (the 360 card: bounded reads, by `_id`)."""
        customer = self._customer(principal, customer_id, work=False)
        newest = itertools.islice(self.store.newest_first(customer.id), OPEN_WINDOW)
        return [o for o in reversed(list(newest)) if o.is_open]

    def open_and_last_for_customer(self, principal: Principal, customer_id: str) -> tuple[list[Order], Order | None]:
        """`open_for_customer` and `last_for_customer` from one walk of the
        customer's book (the 360 card asks for both)."""
        customer = self._customer(principal, customer_id, work=False)
        newest = list(itertools.islice(self.store.newest_first(customer.id), OPEN_WINDOW))
        last = next((o for o in newest if o.state != rules.DRAFT), None)
        if last is None and len(newest) == OPEN_WINDOW:  # only drafts so far back: look further
            last = next((o for o in self.store.newest_first(customer.id) if o.state != rules.DRAFT), None)
        return [o for o in reversed(newest) if o.is_open], last

    def last_for_customer(self, principal: Principal, customer_id: str) -> Order | None:
        """The customer's most recently created order past the draft stage."""
        customer = self._customer(principal, customer_id, work=False)
        return next((o for o in self.store.newest_first(customer.id) if o.state != rules.DRAFT), None)

    # --- creating --------------------------------------------------------------------

    def create(self, principal: Principal, draft: OrderDraft, request_id: str = "") -> Order:
        request_id = _validate_request_id(request_id)
        customer = self._customer(principal, draft.customer_id, work=True)
        delivery = rules.validate_delivery(draft.delivery)
        lines, next_line = self._price(draft.lines, {}, 1)
        if not request_id:
            return self._create(principal, customer, lines, next_line, delivery, new_id("ord"), "")
        key = _request_key(principal.subject, request_id)
        fingerprint = _fingerprint(customer.id, draft.lines, delivery)
        for _attempt in range(2):
            now = self.clock()
            claim = self.store.claim_request(key, fingerprint, now)
            if claim is None:  # ours: point the key at the id first, so a retry after a crash reuses it
                order_id = new_id("ord")
                self.store.finish_request(key, order_id)
                return self._create(principal, customer, lines, next_line, delivery, order_id, key)
            if claim.fingerprint != fingerprint:
                raise _request_conflict("this request id was already used for a different order")
            claim = self._await_result(key, claim)
            if claim.result:
                existing = self.store.get(claim.result)
                if existing is not None:
                    return existing
                if now - claim.created_at > ABANDONED_AFTER:  # the first attempt died before inserting
                    return self._create(principal, customer, lines, next_line, delivery, claim.result, key)
            elif claim.abandoned(ABANDONED_AFTER):
                self.store.drop_request(key)
                continue
            break
        raise _request_conflict("an order with this request id is still being created; retry shortly")

    def _await_result(self, key: str, claim):
        deadline = time.monotonic() + PENDING_WAIT_SECONDS
        while time.monotonic() < deadline and (not claim.result or self.store.get(claim.result) is None):
            time.sleep(0.02)
            claim = self.store.request(key) or claim
        return claim

    def _create(self, principal: Principal, customer: CustomerRef, lines, next_line: int, delivery: Delivery,
                order_id: str, key: str) -> Order:
        now = self.clock()
        # Listed first (a crash leaves a book entry without an order, never an unlisted order), then numbered.
        self.store.add_to_book(customer.id, order_id, now)
        year = local_date(now, self.zone).year
        number = rules.order_number(year, self.store.take_number(year, order_id))
        order = Order(id=order_id, number=number, customer_id=customer.id, owner_id=customer.owner_id,
                      team_id=customer.team_id, state=rules.DRAFT,
                      currency_code=lines[0].unit_price.currency_code if lines else "", lines=lines,
                      delivery=delivery, created_by=principal.subject, created_at=now, updated_at=now,
                      next_line=next_line, request_key=key, region=customer.region)
        if not self.store.insert(order):
            existing = self.store.get(order_id)  # a retry under the same key got here first
            if existing is None:
                raise _request_conflict("an order with this request id is still being created; retry shortly")
            return existing
        return self._unless_erased(order)

    # --- importing history ---------------------------------------------------------------

    def import_orders(self, principal: Principal, items: list[ImportItem]) -> list[Imported | DomainError]:
        """Historical orders (a migration), each confirmed as of its order
        date and numbered in that year's sequence; each item succeeds or
        fails on its own and a refused item writes nothing. A batch costs a
        handful of bulk writes (keys, books, numbers, orders with their
        order.confirmed events, payment plans), not a few per order. Each
        customer is asked of the customer service once, as the caller. An
        item's request id (scoped to the caller) makes a re-sent item answer
        the order imported the first time."""
        access.require_import_right(principal)
        if len(items) > rules.MAX_IMPORT:
            raise InvalidArgument(FieldViolation("orders", f"at most {rules.MAX_IMPORT} per call"))
        now = self.clock()
        outcomes: list[Imported | DomainError | None] = [None] * len(items)
        planned: dict[int, tuple[Order, str, str]] = {}  # item -> (order, import key, fingerprint)
        lookup = _memoised(self.product_for_order)  # a batch names a few products many times
        seen: set[str] = set()
        with self.customers.one_answer_each():
            self._ask_customers_at_once({item.draft.customer_id for item in items})
            for i, item in enumerate(items):
                try:
                    planned[i] = self._imported_order(principal, item, lookup, now, seen)
                except DomainError as err:
                    outcomes[i] = err
        granted = self.store.reserve_imports({o.id: (key, fp) for o, key, fp in planned.values()})
        to_write: dict[int, Order] = {}
        for i, (order, key, fingerprint) in planned.items():
            if order.id in granted:
                to_write[i] = order
                continue
            outcome = self._earlier_import(key, fingerprint, order, now)
            if isinstance(outcome, Order):  # an abandoned import of this item: finished now, under its id
                to_write[i] = outcome
            else:
                outcomes[i] = outcome
        written = self._write_imported(list(to_write.values()))
        for i, order in to_write.items():
            outcomes[i] = written[order.id]
        return outcomes  # type: ignore[return-value]

    def _ask_customers_at_once(self, customer_ids: set) -> None:
        """Fill this call's customer answers (one_answer_each) with a few
        questions in flight: one after the other, hundreds of round trips
        are most of a batch's time. Each runs in a copy of this call's
        context: the caller's token and the shared answers go with it."""
        def ask(customer_id) -> None:
            if isinstance(customer_id, str) and customer_id.strip():
                try:
                    self.customers.get(customer_id)
                except DomainError:
                    pass  # not kept: the item's own check asks again and answers it

        jobs = [(contextvars.copy_context(), customer_id) for customer_id in customer_ids]
        with ThreadPoolExecutor(CUSTOMER_QUESTIONS_IN_FLIGHT) as pool:
            list(pool.map(lambda job: job[0].run(ask, job[1]), jobs))

    def _imported_order(self, principal: Principal, item: ImportItem, lookup, now, seen: set[str]
                        ) -> tuple[Order, str, str]:
        request_id = _validate_request_id(item.request_id)
        if not request_id:
            raise InvalidArgument(FieldViolation("request_id", "is required (a re-sent batch must import nothing "
                                                               "twice)"))
        if request_id in seen:
            raise InvalidArgument(FieldViolation("request_id", "appears twice in this batch"))
        seen.add(request_id)
        ordered_at = rules.validate_ordered_at(item.ordered_at, now, CLOCK_SKEW)
        if not isinstance(item.draft.customer_id, str) or not item.draft.customer_id.strip():
            raise InvalidArgument(FieldViolation("customer_id", "is required"))
        customer = self.customers.get(item.draft.customer_id)
        access.require_work_on(principal, customer)
        delivery = rules.validate_delivery(item.draft.delivery)
        lines, next_line = self._price(item.draft.lines, {}, 1, required=True, lookup=lookup)
        key = _request_key(principal.subject, request_id)
        fingerprint = _fingerprint(customer.id, item.draft.lines, delivery, ordered_at.isoformat())
        order = rules.imported(new_id("ord"), customer.id, customer.owner_id, customer.team_id, lines, next_line,
                               delivery, principal.subject, ordered_at, now, f"import:{key}", customer.region)
        return order, key, fingerprint

    def _earlier_import(self, key: str, fingerprint: str, order: Order, now) -> Imported | DomainError | Order:
        """An item whose key was taken before: the order imported for it; or,
        when that import died before writing it, `order` under its id to write now."""
        holder = self.store.import_holder(key)
        if holder is None or holder.fields.get("fingerprint") != fingerprint:
            return _request_conflict("this request id was already used for a different order") if holder \
                else Aborted("order", "", "the order is being imported right now; retry shortly")
        existing = self.store.get(holder.holder_id)
        if existing is not None:
            return Imported(existing, already=True)
        if now - holder.created_at > ABANDONED_AFTER:
            return replace(order, id=holder.holder_id)
        return Aborted("order", holder.holder_id, "the order is being imported right now; retry shortly")

    def _write_imported(self, orders: list[Order]) -> dict[str, Imported]:
        """Listed first (a crash leaves book entries without orders, never an
        order unlisted), numbered, then inserted with their events; then the
        payment plans. {order id: outcome}."""
        if not orders:
            return {}
        self.store.add_many_to_books(orders)
        by_year: dict[int, list[str]] = {}
        year_of = {o.id: local_date(o.confirmed_at, self.zone).year for o in orders}
        for o in orders:
            by_year.setdefault(year_of[o.id], []).append(o.id)
        numbers = self.store.take_numbers(by_year)
        numbered = [replace(o, number=rules.order_number(year_of[o.id], numbers[o.id])) for o in orders]
        taken_meanwhile = self.store.insert_imported(numbered, [order_events.confirmed(o) for o in numbered])
        outcomes = {o.id: Imported(o) for o in numbered}
        for order_id in taken_meanwhile:  # a concurrent re-send finished the same abandoned import
            existing = self.store.get(order_id)
            if existing is not None:
                outcomes[order_id] = Imported(existing, already=True)
        new = [o for o in numbered if o.id not in taken_meanwhile]
        if new and self.plans_for_imported is not None:
            try:
                self.plans_for_imported(new)
            except Exception:  # noqa: BLE001 - the order.confirmed consumer makes any plan missing
                log.warning("payment plans of imported orders left to the order.confirmed consumer",
                            extra={"fields": {"orders": len(new)}}, exc_info=True)
        erased = {c for c in {o.customer_id for o in new} if self.store.is_erased(c)}
        for order in new:  # the customer was erased while the batch ran: its orders strip themselves
            if order.customer_id in erased:
                self._strip(order.id)
        return outcomes

    # --- changing ----------------------------------------------------------------------

    def update_draft(self, principal: Principal, order_id: str, lines: list[LineInput], delivery: Delivery,
                     expected_revision: int = 0) -> Order:
        order, _customer = self._workable(principal, order_id)
        delivery = rules.validate_delivery(delivery)
        rules.require_draft(order)
        # Kept lines are those of the order as read now; a concurrent edit is caught by the revision.
        priced, next_line = self._price(lines, {line.line_id: line for line in order.lines}, order.next_line)

        def decide(current: Order) -> Decision:
            rules.require_revision(current, expected_revision)
            if current.revision != order.revision:  # edited meanwhile: the kept lines were priced on another state
                raise _request_conflict_on(current, "the draft changed while it was being edited; read it and retry")
            return rules.edit_draft(current, priced, next_line, delivery, self.clock()), "edit", [], None

        return self._unless_erased(self._change(principal.subject, order.id, decide))

    def confirm(self, principal: Principal, order_id: str) -> Order:
        order, customer = self._workable(principal, order_id)

        def decide(current: Order) -> Decision:
            confirmed = rules.confirm(current, customer.owner_id, customer.team_id, self.clock(), customer.region)
            return confirmed, "confirm", order_events.confirmed(confirmed), None

        confirmed = self._change(principal.subject, order.id, decide)
        metrics.order_confirmed(confirmed.total)  # only the one confirmation that won gets here
        return confirmed

    def amend(self, principal: Principal, order_id: str, lines: list[LineInput], reason: str,
              expected_revision: int = 0) -> Order:
        order, _customer = self._workable(principal, order_id)
        reason = rules.validate_reason(reason, required=True)
        rules.check_line_inputs(lines, required=True)
        rules.require_amendable(order)
        priced, next_line = self._price(lines, {line.line_id: line for line in order.lines}, order.next_line,
                                        order.currency_code, required=True)

        def decide(current: Order) -> Decision:
            rules.require_revision(current, expected_revision)
            lines_now = rules.with_delivery_of(priced, current.lines)
            amended = rules.amend(current, lines_now, next_line, principal.subject, reason, self.clock())
            record = amended.amendments[-1]
            return amended, "amend", order_events.amended(amended, record, current), record

        return self._change(principal.subject, order.id, decide)

    def cancel(self, principal: Principal, order_id: str, reason: str) -> Order:
        order, _customer = self._workable(principal, order_id)
        reason = rules.validate_reason(reason)

        def decide(current: Order) -> Decision:
            cancelled = rules.cancel(current, reason, self.clock())
            return cancelled, "cancel", order_events.cancelled(current, cancelled), None

        return self._change(principal.subject, order.id, decide)

    def ship(self, principal: Principal, order_id: str, shipments: list[Shipment], shipped_at: datetime | None
             ) -> Order:
        order, _customer = self._workable(principal, order_id)
        at = self._past_or_now(shipped_at, "ship_time")

        def decide(current: Order) -> Decision:
            return self._delivery_events(current, rules.ship(current, shipments, at, self.clock()), "ship")

        return self._change(principal.subject, order.id, decide)

    def deliver(self, principal: Principal, order_id: str, line_ids: list[str], delivered_at: datetime | None
                ) -> Order:
        order, _customer = self._workable(principal, order_id)
        at = self._past_or_now(delivered_at, "deliver_time")

        def decide(current: Order) -> Decision:
            return self._delivery_events(current, rules.deliver(current, line_ids, at, self.clock()), "deliver")

        return self._change(principal.subject, order.id, decide)

    def close(self, principal: Principal, order_id: str) -> Order:
        order, _customer = self._workable(principal, order_id)
        return self._change(principal.subject, order.id,
                            lambda current: (rules.close(current, self.clock()), "close", [], None))

    @staticmethod
    def _delivery_events(before: Order, after: Order, action: str) -> Decision:
        events = order_events.delivered(after) if after.state == rules.DELIVERED != before.state else []
        return after, action, events, None

    def _change(self, changed_by: str, order_id: str, decide: Callable[[Order], Decision]) -> Order:
        """Read, decide, claim the next revision with the events, write; again
        from a fresh read when another writer won the revision."""

        def load() -> Order:
            current = self.store.get(order_id)
            if current is None:
                raise NotFound("order", order_id)
            return current

        def change(current: Order) -> Order:
            new, action, staged, amendment = decide(current)
            if new is current:
                return current
            new = replace(new, revision=current.revision + 1)
            if not self.store.commit(new, changed_by, action, staged, amendment):
                raise Contended()
            return new

        return write_with_retries("order", order_id, load, change)

    # --- erasure ----------------------------------------------------------------------

    def erase_customer(self, customer_id: str) -> int:
        """customer.erased: strip delivery details and reasons from every
        order of the customer and from their revision history; the lines,
        totals, amendments' money and times stay. Marks the customer first,
        so an order written meanwhile strips itself. Repeatable. Returns the
        number of orders changed."""
        self.store.mark_erased(customer_id, self.clock())
        changed = 0
        for order in self.store.all_of(customer_id):
            changed += self._strip(order.id)
        return changed

    def _strip(self, order_id: str) -> int:
        def decide(current: Order) -> Decision:
            if not rules.has_personal_data(current) and current.erased_at is not None:
                return current, "", [], None
            return rules.erase_personal_data(current, self.clock()), "erase", [], None

        before = self.store.get(order_id)
        stripped = self._change(SYSTEM, order_id, decide)
        self.store.strip_history(order_id, stripped.revision)
        return int(before is not None and before.revision != stripped.revision)

    def _unless_erased(self, order: Order) -> Order:
        """After a write that may hold personal data: if the customer was
        erased meanwhile, the order strips itself and the caller learns it is gone."""
        if self.store.is_erased(order.customer_id):
            self._strip(order.id)
            raise NotFound("customer", order.customer_id)
        return order

    # --- rights and pricing ------------------------------------------------------------

    def _customer(self, principal: Principal, customer_id: str, *, work: bool) -> CustomerRef:
        access.require_any_read(principal)
        if not isinstance(customer_id, str) or not customer_id.strip():
            raise InvalidArgument(FieldViolation("customer_id", "is required"))
        customer = self.customers.get(customer_id)
        (access.require_work_on if work else access.require_read)(principal, customer)
        return customer

    def _readable(self, principal: Principal, order_id: str) -> tuple[Order, CustomerRef]:
        return self._order_for(principal, order_id, access.require_read)

    def _workable(self, principal: Principal, order_id: str) -> tuple[Order, CustomerRef]:
        return self._order_for(principal, order_id, access.require_work_on)

    def _order_for(self, principal: Principal, order_id: str, require) -> tuple[Order, CustomerRef]:
        access.require_any_read(principal)
        order = self.load(order_id)
        if order is None:
            raise NotFound("order", order_id)
        try:
            customer = self.customers.get(order.customer_id)
            require(principal, customer)
        except NotFound:
            raise NotFound("order", order_id) from None  # as for customers: nothing learnt
        return order, customer

    def _price(self, inputs: list[LineInput], kept: dict, next_line: int, currency: str = "",
               required: bool = False, lookup: Callable[[str], object] | None = None) -> tuple[tuple, int]:
        rules.check_line_inputs(inputs, required=required)
        lookup = lookup or self.product_for_order
        violations: list[FieldViolation] = []
        products: list[PricedProduct | None] = []
        for i, line in enumerate(inputs):
            if line.line_id:
                products.append(None)
                continue
            try:
                p = lookup(line.product.strip())
            except NotFound:
                violations.append(FieldViolation(f"lines[{i}].product", "no such product"))
                products.append(None)
                continue
            except FailedPrecondition:
                violations.append(FieldViolation(f"lines[{i}].product", "is no longer sold (inactive)"))
                products.append(None)
                continue
            products.append(PricedProduct(p.id, p.sku, p.name, p.unit, p.list_price, p.unit_cost, p.grade))
        if violations:
            raise InvalidArgument(violations)
        return rules.price_lines(inputs, products, kept, next_line, currency)

    def _past_or_now(self, at: datetime | None, field_name: str) -> datetime:
        now = self.clock()
        if at is None:
            return now
        if at > now + CLOCK_SKEW:
            raise InvalidArgument(FieldViolation(field_name, "must not be in the future"))
        return at


def _validate_request_id(request_id: str) -> str:
    if request_id and (len(request_id) > 128 or not request_id.isascii() or not request_id.isprintable()):
        raise InvalidArgument(FieldViolation("request_id", "must be at most 128 printable ASCII characters"))
    return request_id


def _request_key(subject: str, request_id: str) -> str:
    """Scoped by caller (as the gateway's Idempotency-Key is)."""
    return hashlib.sha256(f"{subject}\x00{request_id}".encode()).hexdigest()[:32]


def _memoised(lookup: Callable[[str], object]) -> Callable[[str], object]:
    """`lookup` answering each argument once (its answer or its refusal)."""
    answers: dict[str, tuple[object, DomainError | None]] = {}

    def once(ref: str):
        if ref not in answers:
            try:
                answers[ref] = (lookup(ref), None)
            except DomainError as err:
                answers[ref] = (None, err)
        found, refusal = answers[ref]
        if refusal is not None:
            raise refusal
        return found

    return once


def _fingerprint(customer_id: str, lines: list[LineInput], delivery: Delivery, *more: str) -> str:
    raw = json.dumps([customer_id, [asdict(line) for line in lines], asdict(delivery), *more], sort_keys=True,
                     default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _request_conflict(message: str) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation("REQUEST_ID", "orders", message)], message)


def _request_conflict_on(order: Order, message: str) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation("REVISION", f"orders/{order.id}", message)], message)

"""Contract use cases: draft, read, sign, terminate, list a customer's, list
those ending soon, and the expiry check the daily job runs.

Transport-free: the gRPC servicer translates messages and calls these.

Rights follow the customer's, asked of the customer service as the caller
(crm_kit.customer_directory, crm_sales.access): a contract of a customer the caller
may not see is NOT_FOUND.

Every change is a revision (crm_kit.persistence.revisions): read, change,
claim revision n + 1, write. So a reminder and a termination, or two
replicas running the expiry check at once, never both land on one
revision: the loser reads again and re-checks (a reminder already recorded
for this end date, a contract no longer signed). The `contract.expiring`
event rides in the reminder's claim (the outbox), so it goes out exactly
when the reminder is recorded, once per contract and end date.

Other features are reached through `features` (the composition root's
map) when they are used, so contracts work while one is missing: no
linked orders without orders, no payment plan without payments, no renewal
opportunity without opportunities.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.clock import local_date, now_ms, to_ms
from crm_kit.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied, Unavailable
from crm_kit.ids import matches, new_id, not_found
from crm_kit.persistence.revisions import Contended, write_with_retries

from crm_sales import access, metrics
from crm_sales.contracts import events as contract_events
from crm_sales.contracts import model as rules
from crm_sales.contracts.model import Contract, ContractDraft
from crm_sales.contracts.store import ContractStore
from crm_sales.profitability.months import DEFAULT_ZONE
from crm_kit.customer_directory import CustomerDirectory, CustomerRef

log = logging.getLogger("crm.sales.contracts")

SYSTEM = "system:contracts"  # jobs and consumers: the expiry check, owner changes, erasures
# The expiring list answers at most this many contracts (soonest first), and
# walks at most this many entries of each month's book.
MAX_EXPIRING = 500
SCAN_PER_MONTH = 5000
# Auto-renewing contracts are renewed when the check finds their end passed;
# it looks this far back, so a check that did not run for weeks still catches up.
RENEWAL_LOOKBACK_DAYS = 62


class ContractService:
    def __init__(self, store: ContractStore, customers: CustomerDirectory, features: dict, *,
                 reminder_days: int = 30, clock: Callable[[], dt.datetime] = now_ms,
                 zone: dt.tzinfo = DEFAULT_ZONE):
        self.store = store
        self.customers = customers
        self.features = features
        self.reminder_days = reminder_days
        self.clock = clock
        self.zone = zone  # the business's day decides a contract's state: its last day is the whole day

    def today(self) -> dt.date:
        return local_date(self.clock(), self.zone)

    # --- drafting and reading -------------------------------------------------------

    def create(self, principal: Principal, draft: ContractDraft) -> Contract:
        draft = rules.validate_draft(draft)
        customer = self.customers.get(access.require_customer_id(draft.customer_id))
        access.require_work_on(principal, customer)
        self._check_orders(customer, draft.order_ids)
        contract = rules.new_contract(draft, contract_id=new_id("con"), owner_id=customer.owner_id,
                                      team_id=customer.team_id, created_by=principal.subject, now=self.clock())
        self.store.insert(contract, principal.subject)
        return self._unless_erased(contract)

    def _unless_erased(self, contract: Contract) -> Contract:
        """After a write that holds free text: if the customer was erased
        meanwhile (the erasure marks the customer before stripping its
        contracts), the contract strips itself and the caller learns the
        customer is gone."""
        if self.store.is_erased(contract.customer_id):
            self._strip(contract.id)
            raise NotFound("customer", contract.customer_id)
        return contract

    def _check_orders(self, customer: CustomerRef, order_ids: tuple[str, ...]) -> None:
        """Each linked order exists and is the same customer's. An order of
        another customer reads as unknown: the caller learns nothing about it."""
        if not order_ids:
            return
        orders = self.features.get("orders")
        if orders is None:
            raise Unavailable("orders cannot be linked: the orders feature is not available")
        violations = []
        for i, order_id in enumerate(order_ids):
            order = orders.load(order_id)
            if order is None or order.customer_id != customer.id:
                violations.append(FieldViolation(f"order_ids[{i}]", "is not an order of this customer"))
        if violations:
            raise InvalidArgument(violations)

    def get(self, principal: Principal, contract_id: str) -> Contract:
        return self._visible(principal, contract_id)[0]

    def _visible(self, principal: Principal, contract_id: str) -> tuple[Contract, CustomerRef]:
        contract = self.store.get(contract_id) if matches(rules.CONTRACT_ID, contract_id) else None
        customer = self._readable_customer(principal, contract.customer_id) if contract is not None else None
        if contract is None or customer is None:
            raise not_found("contract", contract_id, rules.CONTRACT_ID)
        return contract, customer

    def _readable_customer(self, principal: Principal, customer_id: str) -> CustomerRef | None:
        try:
            customer = self.customers.get(customer_id)
        except NotFound:
            return None
        return customer if access.may_read(principal, customer) else None

    def list_for_customer(self, principal: Principal, customer_id: str, page_size: int,
                          page_token: str) -> tuple[list[Contract], str]:
        size = paging.page_size(page_size)
        query = {"customer": customer_id}
        start = paging.book_start(paging.decode(page_token, query))
        customer = self.customers.get(access.require_customer_id(customer_id))
        access.require_read(principal, customer)
        page, following = self.store.of_customer(customer_id, start, size)
        return page, paging.encode({"n": following}, query) if following else ""

    # --- signing and terminating -----------------------------------------------------

    def sign(self, principal: Principal, contract_id: str) -> Contract:
        """Draft -> signed, listed in the books of its end month, then a
        payment plan for its value. Repeatable: signing a signed contract
        changes nothing and makes sure the plan exists (a crash after the
        write and before the plan is mended by signing again)."""
        _contract, customer = self._visible(principal, contract_id)
        access.require_work_on(principal, customer)
        now = self.clock()

        def change(current: Contract) -> Contract:
            updated = rules.signed(current, by=principal.subject, now=now, today=local_date(now, self.zone),
                                   owner_id=customer.owner_id, team_id=customer.team_id)
            if updated is None:
                return current
            return self._commit(replace(updated, revision=current.revision + 1), principal.subject, "sign",
                                list_ending=True)

        contract = write_with_retries("contract", contract_id, lambda: self.store.get(contract_id), change)
        self._ensure_plan(contract)
        return contract

    def _ensure_plan(self, contract: Contract) -> None:
        payments = self.features.get("payments")
        if payments is None:
            return  # payments not wired in this process: nothing collects yet
        from crm_sales.payments.model import Debt

        payments.ensure_plan(Debt(kind="contract", id=contract.id, customer_id=contract.customer_id,
                                  owner_id=contract.owner_id, team_id=contract.team_id, total=contract.value,
                                  starts_on=contract.start))

    def terminate(self, principal: Principal, contract_id: str, reason: str) -> Contract:
        reason = rules.validate_reason(reason)
        _contract, customer = self._visible(principal, contract_id)
        access.require_work_on(principal, customer)
        now = self.clock()

        def change(current: Contract) -> Contract:
            updated = rules.terminated(current, reason=reason, now=now, today=local_date(now, self.zone))
            return self._commit(replace(updated, revision=current.revision + 1), principal.subject, "terminate")

        return self._unless_erased(write_with_retries("contract", contract_id, lambda: self.store.get(contract_id),
                                                      change))

    def erase_customer(self, customer_id: str) -> int:
        """customer.erased: strip the title and termination reason from every
        contract of the customer and from their revision history; term,
        value, orders and who did what stay (the money history). Marks the
        customer first, so a contract written meanwhile strips itself.
        Repeatable. Returns the number of contracts changed."""
        self.store.mark_erased(customer_id, self.clock())
        return sum(self._strip(c.id) for c in list(self.store.every_of_customer(customer_id)))

    def _strip(self, contract_id: str) -> bool:
        done = []

        def change(current: Contract) -> Contract:
            if not rules.has_personal_data(current) and current.erased_at is not None:
                return current
            stored = self._commit(replace(rules.erased(current, self.clock()), revision=current.revision + 1),
                                  SYSTEM, "erase")
            done.append(stored)
            return stored

        stripped = write_with_retries("contract", contract_id, lambda: self.store.get(contract_id), change)
        self.store.strip_history(contract_id, stripped.revision)
        return bool(done)

    def _commit(self, updated: Contract, by: str, action: str, events: list = (), list_ending: bool = False
                ) -> Contract:
        if list_ending:
            # Listed before the write: an entry whose contract does not match is skipped, never lost.
            self.store.list_ending(updated, self.clock())
        if not self.store.commit(updated, by, action, events):
            raise Contended()
        return updated

    def follow_owner(self, customer_id: str, to_owner_id: str, to_team_id: str,
                     as_of: dt.datetime | None = None) -> int:
        """The customer's live contracts go to its new owner and team
        (`customer.owner_changed`): listed in their end-month books before
        the write, so their expiring list and the renewal opportunity are
        theirs. An older change arriving late (a retried event) moves
        nothing. Repeatable; returns how many moved."""
        as_of = to_ms(as_of) if as_of is not None else self.clock()
        moved = 0
        for contract in list(self.store.every_of_customer(customer_id)):
            done = []

            def change(current: Contract) -> Contract:
                updated = rules.following_owner(current, to_owner_id, to_team_id, as_of)
                if updated is None:
                    return current
                stored = self._commit(replace(updated, revision=current.revision + 1), SYSTEM, "follow_owner",
                                      list_ending=updated.state == "signed")
                done.append(stored)
                return stored

            contract_id = contract.id
            write_with_retries("contract", contract_id, lambda: self.store.get(contract_id), change)
            moved += bool(done)
        return moved

    # --- ending soon ------------------------------------------------------------------

    def list_expiring(self, principal: Principal, within_days: int, owner_id: str = ""
                      ) -> tuple[list[tuple[Contract, int]], int, bool]:
        """([(contract, days left)], window, truncated): signed contracts whose
        last day is within the window, soonest first, whose customers the
        caller may see now. A rep's own, a manager's team, everyone's for
        admins, finance and agents; `owner_id` narrows to one rep."""
        access.require_any_read(principal)
        window = rules.validate_window(within_days, self.reminder_days)
        owner, team = _expiring_scope(principal, owner_id)
        today = self.today()
        found: list[Contract] = []
        complete = True
        for month in rules.months_between(today, today + dt.timedelta(days=window)):
            ending, whole_book = self.store.ending_in(month, owner, team, limit=SCAN_PER_MONTH)
            found.extend(c for c in ending if rules.expiring_within(c, today, window))
            complete = complete and whole_book
        found.sort(key=lambda c: (c.end, c.id))
        seen: dict[str, CustomerRef | None] = {}
        visible: list[tuple[Contract, int]] = []
        for c in found:
            if c.customer_id not in seen:
                seen[c.customer_id] = self._readable_customer(principal, c.customer_id)
            if seen[c.customer_id] is not None:
                visible.append((c, rules.days_left(c, today)))
                if len(visible) > MAX_EXPIRING:
                    return visible[:MAX_EXPIRING], window, True
        return visible, window, not complete

    def run_expiry_check(self, principal: Principal | None = None, today: dt.date | None = None) -> tuple[int, int]:
        """(reminders sent, contracts renewed) by this run. The daily job runs
        it on every replica (principal None); admins may run it now. Only the
        months in the window are walked, through the end-month books."""
        if principal is not None and principal.role != "admin":
            raise PermissionDenied("only admins run the contract expiry check")
        today = today or self.today()
        renewed = sum(self._renew(c, today) for month in rules.months_between(
            today - dt.timedelta(days=RENEWAL_LOOKBACK_DAYS), today) for c in self.store.ending_in(month)[0]
            if rules.renewed(c, today) is not None)
        window = self.reminder_days
        reminded = sum(self._remind(c, today, window) for month in rules.months_between(
            today, today + dt.timedelta(days=window)) for c in self.store.ending_in(month)[0]
            if rules.reminder_due(c, today, window))
        return reminded, renewed

    def _renew(self, contract: Contract, today: dt.date) -> bool:
        """Roll an auto-renewing contract into its next term (listed under its new end month)."""
        done = []

        def change(current: Contract) -> Contract:
            updated = rules.renewed(current, today)
            if updated is None:
                return current  # renewed by another run meanwhile, or no longer signed
            stored = self._commit(replace(updated, revision=current.revision + 1), SYSTEM, "renew",
                                  list_ending=True)
            metrics.CONTRACT_RENEWALS.inc()
            done.append(stored)
            return stored

        write_with_retries("contract", contract.id, lambda: self.store.get(contract.id), change)
        return bool(done)

    def _remind(self, contract: Contract, today: dt.date, window: int) -> bool:
        """Open the renewal opportunity (idempotent by contract and end date,
        so two replicas get the same one), then record the reminder with its
        event in one revision claim: whichever run claims it sends the event;
        the other reads the recorded reminder and does nothing."""
        try:
            opportunity_id = self._open_renewal(contract)
        except Exception:  # noqa: BLE001 - the next run retries this contract; the others go on
            log.exception("renewal opportunity not opened", extra={"fields": {"contract_id": contract.id}})
            return False
        done = []

        def change(current: Contract) -> Contract:
            if current.end != contract.end or not rules.reminder_due(current, today, window):
                return current
            updated = replace(rules.reminded(current, opportunity_id), revision=current.revision + 1)
            stored = self._commit(updated, SYSTEM, "remind", [contract_events.expiring(updated, today)])
            metrics.CONTRACT_REMINDERS.inc()
            done.append(stored)
            return stored

        write_with_retries("contract", contract.id, lambda: self.store.get(contract.id), change)
        return bool(done)

    def _open_renewal(self, c: Contract) -> str:
        # The title names the end date, not the contract's own title: free text stays in one place (erasure).
        opportunities = self.features.get("opportunities")
        if opportunities is None:
            return ""  # no pipeline in this process: the reminder goes out without one
        return opportunities.open_system(
            customer_id=c.customer_id, owner_id=c.owner_id, team_id=c.team_id, amount=c.value,
            expected_close=c.end, title=f"Contract renewal (ends {c.end.isoformat()})",
            dedupe_key=f"renewal:{c.id}:{c.end.isoformat()}")


def _expiring_scope(principal: Principal, owner_id: str) -> tuple[str, str]:
    """(owner, team) whose books to walk; both empty: everyone's."""
    if owner_id:
        if principal.role == "rep" and owner_id != principal.subject:
            raise PermissionDenied("reps list only their own contracts")
        return owner_id, ""
    if access.sees_everything(principal) or principal.role == "admin":
        return "", ""
    if principal.role == "manager":
        if not principal.team:
            raise PermissionDenied("a manager without a team has no team's contracts to list")
        return "", principal.team
    if principal.role == "rep":
        return principal.subject, ""
    raise PermissionDenied("your role does not list contracts")

"""Expense use cases. Rules live in model.py; rights here:

- reps and managers record their own expenses, on a customer they work on
  (or an opportunity they may read: its customer's expense);
- an expense is read by its rep, the managers of its team, finance and
  admins (integrations with sales:read); one on a customer follows the
  customer's rights at the time of the call as well (a rep whose customer
  went to another rep no longer sees the expenses on it);
- its rep edits it while it is pending;
- a manager of its team (not their own), finance or an admin decides it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.clock import local_date
from crm_kit.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from crm_kit.ids import id_pattern, matches, new_id
from crm_kit.persistence.revisions import Contended, write_with_retries

from crm_sales import access, metrics
from crm_kit.customer_directory import CustomerDirectory
from crm_sales.profitability.expenses import events as expense_events
from crm_sales.profitability.expenses import model
from crm_sales.profitability.expenses.model import Expense, ExpenseDraft
from crm_sales.profitability.expenses.store import ExpenseStore

EXPENSE_ID = id_pattern("exp")
OPPORTUNITY_ID = id_pattern("opp")
BOOK_ID_MAX = 64


def _utcnow() -> dt.datetime:
    """Now, to the millisecond the store keeps (an answer shows what a later read shows)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class ExpenseService:
    def __init__(self, store: ExpenseStore, customers: CustomerDirectory, features: dict,
                 categories: tuple[str, ...], zone: dt.tzinfo, now: Callable[[], dt.datetime] = _utcnow):
        self.store = store
        self.customers = customers
        self.features = features
        self.categories = categories
        self.zone = zone  # the business's time zone: its "today" bounds spent_on, as the roll-ups' months are its
        self.now = now

    def today(self) -> dt.date:
        return local_date(self.now(), self.zone)

    # --- writing --------------------------------------------------------------------

    def record(self, principal: Principal, draft: ExpenseDraft) -> Expense:
        if principal.role not in ("rep", "manager"):
            raise PermissionDenied("reps and managers record their own expenses")
        draft = model.validate_draft(draft, self.categories, self.today())
        customer_id = self._customer_of(principal, draft)
        expense = model.new_expense(new_id("exp"), draft, principal.subject, principal.team, customer_id, self.now())
        self.store.create(expense, principal.subject)
        return expense

    def update(self, principal: Principal, expense_id: str, draft: ExpenseDraft, revision: int = 0) -> Expense:
        """Its rep's edit of a pending expense; `revision` (when given) must be
        the one the caller read (FAILED_PRECONDITION otherwise)."""
        draft = model.validate_draft(draft, self.categories, self.today())

        def change(current: Expense) -> Expense:
            self._require_readable(principal, current)
            if current.owner_id != principal.subject:
                raise PermissionDenied("only the rep who recorded an expense edits it")
            _require_revision(current, revision)
            customer_id = self._customer_of(principal, draft)
            after = replace(model.edited(current, draft, customer_id, self.now()), revision=current.revision + 1)
            if after.customer_id != current.customer_id:
                self.store.note_customer(after)
            if not self.store.commit(after, principal.subject, "edit"):
                raise Contended()
            return after

        return write_with_retries("expense", expense_id, lambda: self._load(expense_id), change)

    def decide(self, principal: Principal, expense_id: str, approve: bool, reason: str = "") -> Expense:
        """Approve (expense.approved in the approval's own claim) or reject with a reason."""
        def change(current: Expense) -> Expense:
            self._require_readable(principal, current)
            if not _may_decide(principal, current):
                raise PermissionDenied("a manager of the rep's team (not for their own expense), finance or an "
                                       "admin approves or rejects an expense")
            after = replace(model.decided(current, approve, reason, principal.subject, self.now()),
                            revision=current.revision + 1)
            events = [expense_events.approved(after)] if approve else []
            if not self.store.commit(after, principal.subject, "approve" if approve else "reject", events):
                raise Contended()
            return after

        decided = write_with_retries("expense", expense_id, lambda: self._load(expense_id), change)
        if approve:
            metrics.expense_approved(decided.category, decided.amount)
        return decided

    def erase_customer(self, customer_id: str) -> int:
        """customer.erased: the free text of the expenses on the customer
        (receipt reference, description, reason) blanked, in the expense and
        in its history; amounts, dates and ids stay (the figures still count).
        Idempotent: a second run finds nothing left. Returns how many changed."""
        changed = 0
        for expense in self.store.on_customer(customer_id):
            def change(current: Expense) -> Expense:
                if current.customer_id != customer_id:
                    return current
                blank = model.erased(current)
                if blank == current:
                    return current
                after = replace(blank, revision=current.revision + 1)
                if not self.store.commit(after, "system", "erase"):
                    raise Contended()
                return after
            after = write_with_retries("expense", expense.id, lambda: self._load(expense.id), change)
            if after.revision != expense.revision or after != expense:
                changed += 1
            self.store.strip_history(expense.id, after.revision - 1)
        return changed

    # --- reading ----------------------------------------------------------------------

    def approved_for_rebuild(self):
        """Every approved expense as the roll-up rebuild counts it (a scan: rebuild only)."""
        from crm_sales.profitability.rollups.service import ApprovedExpense

        for e in self.store.every_expense():
            if e.state == "approved":
                yield ApprovedExpense(e.id, e.owner_id, e.customer_id, e.amount.currency_code, e.amount.minor_units,
                                      e.spent_on)

    def get(self, principal: Principal, expense_id: str) -> Expense:
        expense = self._load(expense_id)
        self._require_readable(principal, expense)
        return expense

    def list(self, principal: Principal, *, rep_id: str = "", team_id: str = "", state: str = "",
             page_size: int = 0, page_token: str = "") -> tuple[list[Expense], str]:
        """A rep's or a team's expenses (the caller's own when none is named;
        everyone's for finance and admins), in the order recorded; `state`
        filters (pending, approved, rejected)."""
        access.require_any_read(principal)
        if state and state not in model.STATES:
            raise InvalidArgument(FieldViolation("state", f"must be one of {', '.join(model.STATES)}"))
        book = self._book(principal, _book_id(rep_id, "rep_id"), _book_id(team_id, "team_id"))
        size = paging.page_size(page_size)
        query = {"book": book, "state": state, "who": paging.fingerprint(principal.subject, principal.role,
                                                                         principal.team)}
        start = paging.book_start(paging.decode(page_token, query))
        answers = self.customers.one_answer_each()
        with answers:
            def resolve(expense_id: str, _since) -> Expense | None:
                expense = self.store.get(expense_id)
                if expense is None or (state and expense.state != state) or not self._readable(principal, expense):
                    return None
                return expense
            found, go_on = self.store.books.page(book, resolve, size, start)
        return found, paging.encode({"n": go_on}, query) if go_on else ""

    # --- rights -------------------------------------------------------------------------

    def _book(self, principal: Principal, rep_id: str, team_id: str) -> str:
        everything = principal.role in ("admin", "finance") or (
            principal.role == "integration" and access.READ_SCOPE in principal.scopes)
        if rep_id:
            if everything or rep_id == principal.subject or principal.role == "manager":
                return f"rep:{rep_id}"  # a manager sees in it what belongs to their team (filtered on reading)
            raise PermissionDenied("reps list their own expenses")
        if team_id:
            if everything or (principal.role == "manager" and principal.team == team_id):
                return f"team:{team_id}"
            raise PermissionDenied("a team's expenses are for its managers, finance and admins")
        if everything:
            return "all"
        if principal.role == "manager" and principal.team:
            return f"team:{principal.team}"
        return f"rep:{principal.subject}"

    def _readable(self, principal: Principal, expense: Expense) -> bool:
        if principal.role in ("admin", "finance") or (
                principal.role == "integration" and access.READ_SCOPE in principal.scopes):
            return True
        if principal.role == "rep":
            mine = expense.owner_id == principal.subject
        elif principal.role == "manager":
            mine = expense.owner_id == principal.subject or (bool(principal.team) and expense.team_id == principal.team)
        else:
            return False
        if not mine:
            return False
        if not expense.customer_id:
            return True
        try:
            return access.may_read(principal, self.customers.get(expense.customer_id))
        except NotFound:
            return False

    def _require_readable(self, principal: Principal, expense: Expense) -> None:
        if not self._readable(principal, expense):
            raise NotFound("expense", expense.id)

    def _customer_of(self, principal: Principal, draft: ExpenseDraft) -> str:
        """The customer an expense is for: given, or the opportunity's; the caller must work on it."""
        if draft.opportunity_id:
            if not matches(OPPORTUNITY_ID, draft.opportunity_id):
                raise NotFound("opportunity", "")
            customer_id = self.features["opportunities"].get(principal, draft.opportunity_id).customer_id
        elif draft.customer_id:
            customer_id = access.require_customer_id(draft.customer_id)
        else:
            return ""
        access.require_work_on(principal, self.customers.get(customer_id))
        return customer_id

    def _load(self, expense_id: str) -> Expense:
        if not matches(EXPENSE_ID, expense_id):
            raise NotFound("expense", "")
        expense = self.store.get(expense_id)
        if expense is None:
            raise NotFound("expense", expense_id)
        return expense


def _may_decide(principal: Principal, expense: Expense) -> bool:
    if principal.role in ("admin", "finance"):
        return True
    return principal.role == "manager" and bool(principal.team) and expense.team_id == principal.team \
        and expense.owner_id != principal.subject


def _require_revision(expense: Expense, revision: int) -> None:
    from crm_kit.errors import FailedPrecondition, PreconditionViolation

    if revision and revision != expense.revision:
        raise FailedPrecondition([PreconditionViolation("ETAG", expense.id,
                                                        f"the expense is at revision {expense.revision}")],
                                 "the expense changed since it was read")


def _book_id(value: str, field_name: str) -> str:
    if value and (len(value) > BOOK_ID_MAX or not value.isprintable()):
        raise InvalidArgument(FieldViolation(field_name, f"must be at most {BOOK_ID_MAX} printable characters"))
    return value

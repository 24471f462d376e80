"""Persistence of expenses; every read goes by `_id` alone.

- `expenses`, `_id: <expense id>`: revisioned (crm_kit.persistence.
  revisions): an edit, an approval or a rejection claims revision n + 1 by
  insert, and expense.approved rides in the approval's own claim (the
  outbox): it goes out exactly when the approval is stored, once.
- `expense_claims`: the claims, the expense's change history.
- `expense_book_links` / `expense_book_hints`: books "rep:<id>",
  "team:<id>" and "all" listing expense ids in the order they were
  recorded (an expense never changes rep or team), noted before the insert;
  "customer:<id>" lists those ever on a customer (an erasure strips them).
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime, timedelta, timezone

from pymongo.database import Database

from crm_kit.money import Money
from crm_kit.persistence.books import Books
from crm_kit.persistence.revisions import Revisions

from crm_sales.profitability.expenses.model import Expense

INDEXES = {name: [] for name in ("expenses", "expense_claims", "expense_book_links", "expense_book_hints")}


def book_names(expense: Expense) -> list[str]:
    return [f"rep:{expense.owner_id}", *([f"team:{expense.team_id}"] if expense.team_id else []), "all",
            *([f"customer:{expense.customer_id}"] if expense.customer_id else [])]


class ExpenseStore:
    def __init__(self, db: Database, outbox=None, abandoned_after: timedelta = timedelta(seconds=30)):
        self.revisions = Revisions(db["expenses"], db["expense_claims"], outbox=outbox, abandoned_after=abandoned_after)
        self.books = Books(db["expense_book_links"], db["expense_book_hints"], item_field="expense_id")

    def get(self, expense_id: str) -> Expense | None:
        doc = self.revisions.documents.find_one({"_id": expense_id})
        return from_doc(doc) if doc else None

    def create(self, expense: Expense, changed_by: str) -> bool:
        now = datetime.now(timezone.utc)
        self.books.add([(name, expense.id, now) for name in book_names(expense)])
        return self.revisions.create(to_doc(expense), changed_by)

    def every_expense(self):
        """Every expense, in no order: a full scan, for a roll-up rebuild only."""
        return (from_doc(doc) for doc in self.revisions.documents.find({}, batch_size=1000))

    def on_customer(self, customer_id: str) -> list[Expense]:
        """Every expense ever noted on the customer (an edit may have moved one off it)."""
        found: dict[str, Expense] = {}
        for _n, expense in self.books.walk(f"customer:{customer_id}", lambda expense_id, _since: self.get(expense_id)):
            if expense is not None:
                found[expense.id] = expense
        return list(found.values())

    def note_customer(self, expense: Expense) -> None:
        """Before an edit puts an expense on a customer: list it in the customer's book."""
        if expense.customer_id:
            self.books.add([(f"customer:{expense.customer_id}", expense.id, datetime.now(timezone.utc))])

    def strip_history(self, expense_id: str, up_to: int) -> None:
        """Remove the states stored in claims 1..up_to (they hold the free text); who and when stay."""
        self.revisions.strip(expense_id, up_to)

    def commit(self, after: Expense, changed_by: str, action: str, events: list = ()) -> bool:
        """Claim revision n + 1 (with its events), then write; False when another writer won it."""
        return self.revisions.commit(after.id, after.revision, to_doc(after), changed_by, {"action": action},
                                     list(events))


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def to_doc(e: Expense) -> dict:
    return {"_id": e.id, "owner_id": e.owner_id, "team_id": e.team_id, "category": e.category,
            "amount": e.amount.minor_units, "currency": e.amount.currency_code, "spent_on": e.spent_on.isoformat(),
            "customer_id": e.customer_id, "opportunity_id": e.opportunity_id,
            "receipt_reference": e.receipt_reference, "description": e.description, "state": e.state,
            "created_at": e.created_at, "updated_at": e.updated_at, "decided_by": e.decided_by,
            "decided_at": e.decided_at, "reason": e.reason, "revision": e.revision}


def from_doc(d: dict) -> Expense:
    return Expense(d["_id"], d["owner_id"], d.get("team_id", ""), d["category"], Money(d["amount"], d["currency"]),
                   dt.date.fromisoformat(d["spent_on"]), d.get("customer_id", ""), d.get("opportunity_id", ""),
                   d.get("receipt_reference", ""), d.get("description", ""), d["state"], _utc(d["created_at"]),
                   _utc(d["updated_at"]), d.get("decided_by", ""), _utc(d.get("decided_at")), d.get("reason", ""),
                   d.get("revision", 1))

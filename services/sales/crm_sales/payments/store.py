"""Persistence of payment plans: the only module that knows their
collections and field names. Every read goes by `_id` alone.

- `payment_plans`, `_id: "<kind>:<debt id>"`: a plan's WHOLE money state
  (instalments, receipts with their allocation ledgers and refunds,
  `paid_announced`) in one revisioned document (crm_kit.persistence.
  revisions): a receipt, a refund or an amendment claims revision n + 1 by
  insert, so of two writers that read the same state exactly one wins and
  the other re-checks its rules against the winner's state. The events a
  change causes (payment.received, order.paid, ...) ride in that claim.
- `payment_plan_claims`, `_id: "<plan id>#<revision>"`: the claims, the
  plan's change history.
- `payment_receipts`, `_id: "<receipt id>"`: which plan holds a receipt
  (crm_kit.persistence.once.DecideOnce), noted before the receipt's write;
  a note whose write lost points at a plan without it (read as not found).
- `payment_book_links` / `payment_book_hints`: books (crm_kit.persistence.
  books) "customer:<id>", "rep:<id>", "team:<id>" listing plan ids, for
  ageing without a scan. An entry stands while the plan still belongs to
  that customer, rep or team.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

from pymongo.database import Database
from pymongo.errors import BulkWriteError

from crm_kit.mongo import duplicate_positions
from crm_kit.persistence.books import Books
from crm_kit.persistence.once import DecideOnce
from crm_kit.persistence.revisions import Revisions

from crm_sales.payments.model import Allocation, Instalment, Plan, Receipt, Refund

INDEXES = {
    "payment_plans": [],  # by _id only
    "payment_plan_claims": [],  # by _id only
    "payment_receipts": [],  # by _id only
    "payment_book_links": [],  # by _id only
    "payment_book_hints": [],  # by _id only
}


def book_names(plan: Plan) -> list[str]:
    names = [f"customer:{plan.customer_id}"]
    if plan.owner_id:
        names.append(f"rep:{plan.owner_id}")
    if plan.team_id:
        names.append(f"team:{plan.team_id}")
    return names


class PaymentStore:
    def __init__(self, db: Database, outbox=None, abandoned_after: timedelta = timedelta(seconds=30)):
        self.revisions = Revisions(db["payment_plans"], db["payment_plan_claims"], outbox=outbox,
                                   abandoned_after=abandoned_after)
        self.receipts = DecideOnce(db["payment_receipts"])
        self.books = Books(db["payment_book_links"], db["payment_book_hints"], item_field="plan_id")

    # --- reading ------------------------------------------------------------

    def get(self, plan_id: str) -> Plan | None:
        doc = self.revisions.documents.find_one({"_id": plan_id})
        return from_doc(doc) if doc else None

    def plan_of_receipt(self, receipt_id: str) -> str | None:
        noted = self.receipts.decided(receipt_id)
        return noted["plan_id"] if noted else None

    def in_book(self, book: str) -> list[Plan]:
        """The plans a book lists, once each, that still belong to it."""
        kind, _, key = book.partition(":")
        seen: set[str] = set()
        out: list[Plan] = []

        def resolve(plan_id: str, _since: datetime) -> Plan | None:
            if plan_id in seen:
                return None
            seen.add(plan_id)
            plan = self.get(plan_id)
            if plan is None:
                return None
            holder = {"customer": plan.customer_id, "rep": plan.owner_id, "team": plan.team_id}[kind]
            return plan if holder == key else None

        for _n, plan in self.books.walk(book, resolve):
            if plan is not None:
                out.append(plan)
        return out

    def every_plan(self) -> Iterator[Plan]:
        """Every plan, in no order: a full scan, for the seldom whole-book job only."""
        return (from_doc(doc) for doc in self.revisions.documents.find({}, batch_size=1000))

    # --- writing ------------------------------------------------------------

    def create(self, plan: Plan, changed_by: str) -> bool:
        """The plan's first revision; False when it exists already. Its books
        are noted first (a crash leaves at most an entry without a plan)."""
        now = datetime.now(timezone.utc)
        self.books.add([(name, plan.id, now) for name in book_names(plan)])
        return self.revisions.create({**to_doc(plan), "revision": 1, "created_by": changed_by}, changed_by)

    def create_many(self, plans: list[Plan], changed_by: str) -> None:
        """First revisions of many plans (an import) in one bulk insert, their
        books noted first in one; a plan that exists already (a concurrent
        `create` made it) stays as it is."""
        now = datetime.now(timezone.utc)
        self.books.add([(name, plan.id, now) for plan in plans for name in book_names(plan)])
        try:
            self.revisions.create_many([{**to_doc(plan), "revision": 1, "created_by": changed_by} for plan in plans])
        except BulkWriteError as err:
            duplicate_positions(err)  # anything but an existing plan is re-raised

    def note_receipt(self, receipt_id: str, plan_id: str) -> None:
        self.receipts.decide(receipt_id, {"plan_id": plan_id})

    def commit(self, before: Plan, after: Plan, changed_by: str, action: str, events: list) -> bool:
        """Claim revision n + 1 for `after` (with its events), then write it;
        False when another writer claimed it first. A plan moved to another
        rep or team is noted in their books before the write."""
        moved = [name for name in book_names(after) if name not in book_names(before)]
        if moved:
            self.books.add([(name, after.id, datetime.now(timezone.utc)) for name in moved])
        return self.revisions.commit(after.id, after.revision, to_doc(after), changed_by, {"action": action},
                                     events)


    def strip_history(self, plan_id: str, up_to: int) -> None:
        """Remove the states stored in claims 1..up_to (an erasure: they hold
        the free text the plan no longer does); who and when stay."""
        self.revisions.strip(plan_id, up_to)


# --- documents -----------------------------------------------------------------------

def _d(value: date) -> str:
    return value.isoformat()  # BSON has no date-only type


def _date(value: str) -> date:
    return date.fromisoformat(value)


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def to_doc(p: Plan) -> dict:
    return {
        "_id": p.id, "kind": p.kind, "debt_id": p.debt_id, "customer_id": p.customer_id, "owner_id": p.owner_id,
        "team_id": p.team_id, "currency": p.currency, "total": p.total, "starts_on": _d(p.starts_on),
        "instalments": [{"n": i.number, "due": _d(i.due_on), "amount": i.amount} for i in p.instalments],
        "receipts": [{
            "id": r.id, "method": r.method, "amount": r.amount, "received_on": _d(r.received_on),
            "reference": r.reference, "recorded_by": r.recorded_by, "recorded_at": r.recorded_at,
            "request_id": r.request_id,
            "allocations": [{"n": a.number, "amount": a.amount, "on": _d(a.on)} for a in r.allocations],
            "refunds": [{"id": f.id, "amount": f.amount, "refunded_on": _d(f.refunded_on), "void": f.void,
                         "reason": f.reason, "recorded_by": f.recorded_by, "recorded_at": f.recorded_at,
                         "request_id": f.request_id} for f in r.refunds],
        } for r in p.receipts],
        "cancelled": p.cancelled, "amendment": p.amendment, "paid_announced": p.paid_announced,
        "paid_at": p.paid_at, "revision": p.revision, "created_at": p.created_at,
    }


def from_doc(d: dict) -> Plan:
    return Plan(
        kind=d["kind"], debt_id=d["debt_id"], customer_id=d["customer_id"], owner_id=d.get("owner_id", ""),
        team_id=d.get("team_id", ""), currency=d["currency"], total=d["total"], starts_on=_date(d["starts_on"]),
        instalments=tuple(Instalment(i["n"], _date(i["due"]), i["amount"]) for i in d["instalments"]),
        receipts=tuple(Receipt(
            id=r["id"], method=r["method"], amount=r["amount"], received_on=_date(r["received_on"]),
            reference=r.get("reference", ""), recorded_by=r.get("recorded_by", ""),
            recorded_at=_utc(r.get("recorded_at")), request_id=r.get("request_id", ""),
            allocations=tuple(Allocation(a["n"], a["amount"], _date(a["on"])) for a in r.get("allocations", ())),
            refunds=tuple(Refund(f["id"], f["amount"], _date(f["refunded_on"]), f.get("void", False),
                                 f.get("reason", ""), f.get("recorded_by", ""), _utc(f.get("recorded_at")),
                                 f.get("request_id", "")) for f in r.get("refunds", ())),
        ) for r in d.get("receipts", ())),
        cancelled=d.get("cancelled", False), amendment=d.get("amendment", 0),
        paid_announced=d.get("paid_announced", False), paid_at=_utc(d.get("paid_at")),
        revision=d.get("revision", 1), created_at=_utc(d.get("created_at")),
    )

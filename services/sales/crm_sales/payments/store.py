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
- `payment_ageing_summaries`, `_id: "<book>"` ("rep:<id>", "team:<id>",
  "rep:<id>@team:<id>"): the sum of the book's plans' ageing cells
  (crm_sales.payments.model.ageing_cells), so a rep's or a team's ageing is
  one read. Changed only by applying the receivables.changed events plan
  writes stage in their own claims (group sales-ageing), as a revisioned
  document whose each revision also notes the ids of the events it applied
  (the last KEEP_APPLIED): a redelivered event is skipped. Claims in
  `payment_ageing_summary_claims` (their states dropped once superseded).
- `payment_plan_batches`, `_id: "<batch id>"`: a bulk creation's ONE
  receivables.changed, written before its plans with each plan's part, then
  settled (the parts of plans that existed already taken off) after them; a
  batch whose writer died is settled by the outbox sweep from the plans that
  carry its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

from pymongo.database import Database
from pymongo.errors import BulkWriteError

from crm_kit.ids import new_id
from crm_kit.mongo import duplicate_positions
from crm_kit.persistence.books import Books, read_by_ids
from crm_kit.persistence.once import DecideOnce
from crm_kit.persistence.revisions import Contended, Revisions, claim_id, write_with_retries

from crm_sales.customer_sales.store import marks_customers
from crm_sales.payments import events as payment_events
from crm_sales.payments.model import AgeingCells, Allocation, Instalment, Plan, Receipt, Refund, cells_change

INDEXES = {
    "payment_plans": [],  # by _id only
    "payment_plan_claims": [],  # by _id only
    "payment_receipts": [],  # by _id only
    "payment_book_links": [],  # by _id only
    "payment_book_hints": [],  # by _id only
    "payment_ageing_summaries": [],  # by _id only
    "payment_ageing_summary_claims": [],  # by _id only
    "payment_plan_batches": [],  # by _id only
}
BATCHES = "payment_plan_batches"


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
        self.books = Books(db["payment_book_links"], db["payment_book_hints"], item_field="plan_id",
                           on_new_book=marks_customers(db))
        self.summaries = AgeingSummaries(db, abandoned_after)
        self.outbox = outbox
        self.batches = db[BATCHES]
        # A batch's writer is given longer than a claim's: settling it too early would leave out plans still
        # being inserted (the writer's own settlement, the same event id, would then be skipped as a repeat).
        self.batch_abandoned_after = max(abandoned_after * 4, timedelta(minutes=2))
        if self.keeps_summaries:
            outbox.on_sweep(BATCHES, self._settle_abandoned_batch)

    @property
    def keeps_summaries(self) -> bool:
        """Whether plan writes send receivables.changed (events on): only then
        do the ageing summaries follow the plans."""
        return self.outbox is not None and self.outbox.enabled

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

        read = read_by_ids(self.revisions.documents, from_doc)

        def resolve(entries: list[tuple[str, datetime]]) -> list[Plan | None]:
            plans: list[Plan | None] = []
            for (plan_id, _since), plan in zip(entries, read(entries), strict=True):
                first = plan_id not in seen
                seen.add(plan_id)
                standing = first and plan is not None and \
                    {"customer": plan.customer_id, "rep": plan.owner_id, "team": plan.team_id}[kind] == key
                plans.append(plan if standing else None)
            return plans

        for _n, plan in self.books.walk_many(book, resolve):
            if plan is not None:
                out.append(plan)
        return out

    def every_plan(self) -> Iterator[Plan]:
        """Every plan, in no order: a full scan, for the seldom whole-book job only."""
        return (from_doc(doc) for doc in self.revisions.documents.find({}, batch_size=1000))

    # --- writing ------------------------------------------------------------

    def create(self, plan: Plan, changed_by: str) -> bool:
        """The plan's first revision; False when it exists already. Its books
        are noted first (a crash leaves at most an entry without a plan); its
        receivables.changed rides in its insert."""
        now = datetime.now(timezone.utc)
        self.books.add([(name, plan.id, now) for name in book_names(plan)])
        return self.revisions.create({**to_doc(plan), "revision": 1, "created_by": changed_by}, changed_by,
                                     self._receivables_events(None, plan))

    def create_many(self, plans: list[Plan], changed_by: str) -> None:
        """First revisions of many plans (an import) in one bulk insert, their
        books noted first in one; a plan that exists already (a concurrent
        `create` made it) stays as it is."""
        now = datetime.now(timezone.utc)
        self.books.add([(name, plan.id, now) for plan in plans for name in book_names(plan)])
        batch = self._open_batch(plans)
        existed: set[int] = set()
        try:
            self.revisions.create_many([{**to_doc(plan), "revision": 1, "created_by": changed_by,
                                         **({"batch": batch["_id"]} if batch else {})} for plan in plans])
        except BulkWriteError as err:
            existed = duplicate_positions(err)  # anything but an existing plan is re-raised
        if batch:
            self._settle_batch(batch, {plans[i].id for i in existed})

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
                                     [*events, *self._receivables_events(before, after)])


    # --- the ageing summaries follow ----------------------------------------------

    def _receivables_events(self, before: Plan | None, after: Plan) -> list:
        changes = cells_change(before, after) if self.keeps_summaries else {}
        return [payment_events.receivables_changed(after.id, changes)] if changes else []

    def _open_batch(self, plans: list[Plan]) -> dict | None:
        """Before a bulk insert: the batch's one receivables.changed (every
        plan's part summed per book) staged, with each plan's part noted
        beside it (to take off those that turn out to exist already)."""
        if not self.keeps_summaries or not plans:
            return None
        parts = {plan.id: cells_change(None, plan) for plan in plans}
        batch_id = new_id("pbt")
        envelope = payment_events.receivables_changed("", _summed(parts.values()))
        self.outbox.stage(BATCHES, batch_id, [envelope])  # the intent, naming the event's id
        batch = {"_id": batch_id, "at": datetime.now(timezone.utc), "settled": False, "event_id": envelope.event_id,
                 "parts": [{"plan": plan_id, "books": {book: cells_doc(cells) for book, cells in part.items()}}
                           for plan_id, part in parts.items()]}
        self.batches.insert_one(batch)  # no "events" yet: the sweep publishes nothing before it is settled
        return batch

    def _settle_batch(self, batch: dict, existed: set[str]) -> list[dict]:
        """The batch's event for the plans it made (not those that existed),
        stored in the batch and relayed. Returns the event docs."""
        made = {p["plan"]: {book: cells_from(doc) for book, doc in p["books"].items()}
                for p in batch["parts"] if p["plan"] not in existed}
        envelope = payment_events.receivables_changed("", _summed(made.values()))
        envelope.event_id = batch["event_id"]  # the id the outbox intent names (and consumers dedupe by)
        staged = self.outbox.stage(BATCHES, batch["_id"], [envelope])
        self.batches.update_one({"_id": batch["_id"]}, {"$set": {"events": staged, "settled": True},
                                                        "$unset": {"parts": ""}})
        self.outbox.relay_soon(BATCHES, batch["_id"], staged)
        return staged

    def _settle_abandoned_batch(self, batch: dict) -> bool:
        """For the outbox sweep: a settled batch is published; one whose writer
        died (older than `batch_abandoned_after`) is settled now from the plans that
        carry its id; a younger one is left for its writer."""
        if batch.get("settled"):
            return True
        at = batch["at"] if batch["at"].tzinfo else batch["at"].replace(tzinfo=timezone.utc)
        if datetime.now(timezone.utc) - at <= self.batch_abandoned_after:
            return False
        existed = set()
        for part in batch["parts"]:
            doc = self.revisions.documents.find_one({"_id": part["plan"]}, {"batch": 1})
            if doc is None or doc.get("batch") != batch["_id"]:
                existed.add(part["plan"])  # made by another writer, or never written
        batch["events"] = self._settle_batch(batch, existed)  # the sweep publishes what the claim holds now
        return True

    def strip_history(self, plan_id: str, up_to: int) -> None:
        """Remove the states stored in claims 1..up_to (an erasure: they hold
        the free text the plan no longer does); who and when stay."""
        self.revisions.strip(plan_id, up_to)


class AgeingSummaries:
    """The ageing summaries of rep and team books (see the module's docstring)."""

    KEEP_APPLIED = 5000  # event ids a summary remembers: redeliveries come within seconds to minutes
    # An event id as remembered: its last 16 hex digits (64 of its 128 random
    # bits), back to back in one string: 80 kB for 5,000, not 5,000 array items.
    ID_WIDTH = 16

    def __init__(self, db: Database, abandoned_after: timedelta):
        self.revisions = Revisions(db["payment_ageing_summaries"], db["payment_ageing_summary_claims"],
                                   abandoned_after=abandoned_after)

    def get(self, book: str) -> AgeingCells:
        doc = self.revisions.documents.find_one({"_id": book})
        return cells_from(doc) if doc else AgeingCells()

    def books(self) -> list[str]:
        """Every summary's book: a scan, for a rebuild only."""
        return [doc["_id"] for doc in self.revisions.documents.find({}, {"_id": 1})]

    def apply(self, book: str, changes: list[tuple[str, AgeingCells]]) -> int:
        """Add the changes of events not applied yet (by event id) to the
        book's summary, with their ids, in one revision. Returns how many
        were new."""
        def load() -> dict:
            return self.revisions.documents.find_one({"_id": book}) or {"_id": book, "revision": 0}

        def change(doc: dict) -> int:
            applied = self._applied(doc)
            seen = set(applied)
            new = {}
            for event_id, cells in changes:
                if event_id[-self.ID_WIDTH:] not in seen:
                    new.setdefault(event_id[-self.ID_WIDTH:], cells)  # an event twice in one read counts once
            if not new:
                return 0
            cells = cells_from(doc)
            for part in new.values():
                cells.add(part)
            self._store(doc, cells, (applied + list(new))[-self.KEEP_APPLIED:])
            return len(new)

        return write_with_retries("ageing summary", book, load, change)

    def replace(self, book: str, cells: AgeingCells) -> None:
        """The book's summary set to `cells` (a rebuild), keeping the ids it applied."""
        def load() -> dict:
            return self.revisions.documents.find_one({"_id": book}) or {"_id": book, "revision": 0}

        write_with_retries("ageing summary", book, load, lambda doc: self._store(doc, cells, self._applied(doc)))

    def _applied(self, doc: dict) -> list[str]:
        ids = doc.get("applied", "")
        return [ids[i:i + self.ID_WIDTH] for i in range(0, len(ids), self.ID_WIDTH)]

    def _store(self, doc: dict, cells: AgeingCells, applied: list[str]) -> None:
        revision = doc.get("revision", 0) + 1
        state = {"_id": doc["_id"], **cells_doc(cells), "applied": "".join(applied), "revision": revision}
        if revision == 1:
            if not self.revisions.create(state, "sales-ageing"):
                raise Contended()
            return
        if not self.revisions.commit(doc["_id"], revision, state, "sales-ageing"):
            raise Contended()
        if revision > 2:  # the superseded claim's state is never needed again (it is written)
            self.revisions.claims.update_one({"_id": claim_id(doc["_id"], revision - 1)},
                                             {"$unset": {self.revisions.state_field: ""}})


def _summed(parts) -> dict[str, AgeingCells]:
    out: dict[str, AgeingCells] = {}
    for part in parts:
        for book, cells in part.items():
            out.setdefault(book, AgeingCells()).add(cells)
    return {book: cells for book, cells in out.items() if cells}


def cells_doc(cells: AgeingCells) -> dict:
    """Cells as lists of "currency|date|...|delta" strings (FerretDB stores no nested arrays; strings are compact)."""
    return {"amounts": [f"{c}|{_d(on)}|{_d(due)}|{v}" for (c, on, due), v in sorted(cells.amounts.items())],
            "outstanding": [f"{c}|{_d(on)}|{v}" for (c, on), v in sorted(cells.outstanding.items())],
            "members": [f"{c}|{v}" for c, v in sorted(cells.members.items())]}


def cells_from(doc: dict) -> AgeingCells:
    cells = AgeingCells()
    for cell in doc.get("amounts", ()):
        c, on, due, v = cell.split("|")
        cells.amounts[(c, _date(on), _date(due))] = int(v)
    for cell in doc.get("outstanding", ()):
        c, on, v = cell.split("|")
        cells.outstanding[(c, _date(on))] = int(v)
    for cell in doc.get("members", ()):
        c, v = cell.split("|")
        cells.members[c] = int(v)
    return cells


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

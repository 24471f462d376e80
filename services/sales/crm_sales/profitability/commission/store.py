"""Persistence of commission: the only module that knows its collections.
Every read goes by `_id` alone.

- `commission_setup`, `_id: "setup"`: every plan and assignment, one
  revisioned document (crm_kit.persistence.revisions); claims in
  `commission_setup_claims` (who changed the plans, when).
- `commission_orders`, `_id: <order id>`: an order's ledger (cash to date,
  per-line earnings, the lines each applied event made), revisioned; the
  event id is recorded inside the same write as its effect, so a
  redelivered event makes the same lines again instead of new ones.
- `commission_statements`, `_id: "<rep id>|<YYYY-MM>"`: a rep's month, its
  lines and (closed) its frozen bonus, revisioned: a posting and the close
  race on the revision, so a line is never added to a closed statement.
  A statement's read is one `_id` read (the bench's rep statement).
- `commission_book_links` / `commission_book_hints`: books "month:<M>"
  and "team:<team>|<M>" listing the reps with a statement that month
  (noted before the statement's first write): the close walks the month's,
  a manager's team totals the team's.
- `commission_closes`, `_id: "<YYYY-MM>"`: the month's close, decided once.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pymongo.database import Database

from crm_kit.persistence.books import Books
from crm_kit.persistence.once import DecideOnce
from crm_kit.persistence.revisions import Contended, Revisions

from crm_sales.profitability.commission.model import (
    Assignment, Band, CommissionLine, CommissionPlan, Earned, OrderLedger, Pricing, Setup, Statement, statement_id)
from crm_sales.profitability.months import Month

INDEXES = {name: [] for name in (  # by _id only
    "commission_setup", "commission_setup_claims", "commission_orders", "commission_order_claims",
    "commission_statements", "commission_statement_claims", "commission_book_links", "commission_book_hints",
    "commission_closes")}
SETUP_ID = "setup"


class CommissionStore:
    def __init__(self, db: Database, abandoned_after: timedelta = timedelta(seconds=30)):
        self.setup_docs = Revisions(db["commission_setup"], db["commission_setup_claims"],
                                    abandoned_after=abandoned_after)
        self.ledgers = Revisions(db["commission_orders"], db["commission_order_claims"],
                                 abandoned_after=abandoned_after)
        self.statements = Revisions(db["commission_statements"], db["commission_statement_claims"],
                                    abandoned_after=abandoned_after)
        self.books = Books(db["commission_book_links"], db["commission_book_hints"], item_field="rep_id")
        self.closes = DecideOnce(db["commission_closes"])

    # --- setup ---------------------------------------------------------------------

    def setup(self) -> Setup:
        doc = self.setup_docs.documents.find_one({"_id": SETUP_ID})
        return setup_from(doc) if doc else Setup()

    def save_setup(self, before: Setup, after: Setup, changed_by: str) -> None:
        """Raises Contended when another admin changed the setup first."""
        revision = before.revision + 1
        doc = {"_id": SETUP_ID, **setup_doc(after), "revision": revision}
        won = self.setup_docs.create(doc, changed_by) if revision == 1 \
            else self.setup_docs.commit(SETUP_ID, revision, doc, changed_by)
        if not won:
            raise Contended()

    # --- order ledgers ---------------------------------------------------------------------

    def ledger(self, order_id: str) -> OrderLedger:
        doc = self.ledgers.documents.find_one({"_id": order_id})
        return ledger_from(doc) if doc else OrderLedger(order_id)

    def save_ledger(self, after: OrderLedger, changed_by: str) -> None:
        _save(self.ledgers, after.order_id, after.revision, {"_id": after.order_id, **ledger_doc(after)}, changed_by)

    # --- statements --------------------------------------------------------------------------

    def statement(self, rep_id: str, month: Month) -> Statement | None:
        doc = self.statements.documents.find_one({"_id": statement_id(rep_id, month)})
        return statement_from(doc) if doc else None

    def note_statement(self, rep_id: str, team_id: str, month: Month) -> None:
        """Before a statement's first write: list it in its month's and team's books."""
        now = datetime.now(timezone.utc)
        books = [(f"month:{month}", rep_id, now)]
        if team_id:
            books.append((f"team:{team_id}|{month}", rep_id, now))
        self.books.add(books)

    def save_statement(self, after: Statement, changed_by: str) -> None:
        _save(self.statements, after.id, after.revision, {"_id": after.id, **statement_doc(after)}, changed_by)

    def reps_in(self, book: str) -> list[str]:
        """The reps a book lists, once each, in the order they came."""
        seen: list[str] = []
        for _n, rep_id in self.books.walk(book, lambda rep_id, _since: rep_id):
            if rep_id not in seen:
                seen.append(rep_id)
        return seen

    # --- closes ----------------------------------------------------------------------------------

    def closed(self, month: Month) -> bool:
        return self.closes.decided(str(month)) is not None

    def mark_closed(self, month: Month, closed_by: str) -> dict:
        _first, decision = self.closes.decide(str(month), {"closed_by": closed_by,
                                                           "closed_at": datetime.now(timezone.utc)})
        return decision


def _save(revisions: Revisions, doc_id: str, revision: int, doc: dict, changed_by: str) -> None:
    """Revision `revision` of a ledger or statement (Contended when another
    writer won it). The superseded claim's state is dropped once this one is
    written (it is never needed again): a statement taking a line per receipt
    would otherwise keep every earlier copy of itself."""
    if not revisions.save({**doc, "_id": doc_id, "revision": revision}, changed_by, forget_superseded=True):
        raise Contended()


# --- documents ------------------------------------------------------------------------------

def setup_doc(s: Setup) -> dict:
    return {
        "plans": [{"id": p.id, "name": p.name, "base": p.base, "currency": p.currency_code,
                   "rates": [f"{g}|{r}" for g, r in p.rates],
                   "bands": [f"{b.above}|{b.extra_bp}" for b in p.bands]} for p in s.plans],
        "assignments": [{"scope": a.scope, "plan": a.plan_id, "from": str(a.from_month)} for a in s.assignments],
    }


def _pairs(items) -> tuple[tuple[str, int], ...]:
    return tuple((g, int(r)) for g, _, r in (item.partition("|") for item in items))


def setup_from(d: dict) -> Setup:
    return Setup(
        plans=tuple(CommissionPlan(p["id"], p["name"], p["base"], p["currency"], _pairs(p["rates"]),
                                   tuple(Band(int(a), int(x)) for a, x in _pairs(p["bands"])))
                    for p in d.get("plans", ())),
        assignments=tuple(Assignment(a["scope"], a["plan"], Month.parse(a["from"])) for a in d.get("assignments", ())),
        revision=d.get("revision", 1))


def line_doc(line: CommissionLine) -> dict:
    return {"e": line.event_id, "k": line.kind, "o": line.order_id, "l": line.line_id, "p": line.product_id,
            "rc": line.receipt_id, "rf": line.refund_id, "g": line.grade, "b": line.base, "r": line.rate_bp,
            "a": line.amount, "c": line.currency_code, "m": line.counts_in}


def line_from(d: dict) -> CommissionLine:
    return CommissionLine(d["e"], d["k"], d["o"], d["l"], d["p"], d["rc"], d["rf"], d["g"], d["b"], d["r"], d["a"],
                          d["c"], d["m"])


def ledger_doc(g: OrderLedger) -> dict:
    return {
        "rep_id": g.rep_id, "team_id": g.team_id, "currency": g.currency_code, "paid": g.paid,
        "pricing": None if g.pricing is None else {"plan": g.pricing.plan_id, "base": g.pricing.base,
                                                   "rates": [f"{k}|{v}" for k, v in g.pricing.rates]},
        "earned": [{"l": k, "b": v.base, "c": v.commission} for k, v in g.earned.items()],
        "applied": [{"e": event_id, "lines": [line_doc(x) for x in lines]} for event_id, lines in g.applied.items()],
        "revision": g.revision,
    }


def ledger_from(d: dict) -> OrderLedger:
    pricing = d.get("pricing")
    return OrderLedger(
        d["_id"], d.get("rep_id", ""), d.get("team_id", ""), d.get("currency", ""),
        None if not pricing else Pricing(pricing["plan"], pricing["base"], _pairs(pricing["rates"])),
        d.get("paid", 0), {e["l"]: Earned(e["b"], e["c"]) for e in d.get("earned", ())},
        {a["e"]: tuple(line_from(x) for x in a["lines"]) for a in d.get("applied", ())}, d.get("revision", 1))


def statement_doc(s: Statement) -> dict:
    return {"rep_id": s.rep_id, "month": str(s.month), "team_id": s.team_id,
            "lines": [line_doc(x) for x in s.lines], "closed": s.closed,
            "bonus": [f"{c}|{v}" for c, v in sorted(s.bonus.items())], "revision": s.revision}


def statement_from(d: dict) -> Statement:
    return Statement(d["rep_id"], Month.parse(d["month"]), d.get("team_id", ""),
                     tuple(line_from(x) for x in d.get("lines", ())), d.get("closed", False),
                     dict(_pairs(d.get("bonus", ()))), d.get("revision", 1))

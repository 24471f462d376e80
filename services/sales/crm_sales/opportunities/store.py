"""Persistence of opportunities, composed from the kit's primitives
(crm_kit.persistence); the only module that knows their collections.

- `opportunities`, `_id: "<opportunity id>"`: the current state.
- `opportunity_versions`, `_id: "<id>#<revision>"`: revision claims
  (crm_kit.persistence.revisions): a stage move, an edit and an owner
  change racing each other each claim the next revision, none is lost.
- books (crm_kit.persistence.books), `opportunity_book_links` /
  `opportunity_books`: "customer:<id>", "owner:<subject>", "team:<id>" and
  "all", one entry per arrival of an opportunity on the list, read by `_id`
  (a filter on customer, owner or team is a full scan on FerretDB). Entries
  are never removed: an owner entry stands while the opportunity's
  `owner_since` is the entry's `since` (same for teams), so an opportunity
  that moved away and back stands once. A customer's book is what
  `follow_owner` walks; owner and team books feed lists, forecast and funnel.
- `opportunity_dedupe`, `_id: "<dedupe key>"` (crm_kit.persistence.once):
  the first system open for a key decides the opportunity's id.
- `opportunity_owner_links` / `opportunity_owners`: per customer, a chain
  (crm_kit.persistence.chain) of the ownership changes applied, newest on
  top. `follow_owner` appends before it walks the customer's book, and a
  create reads it after its insert: whichever comes second sees the other,
  so an opportunity written while its customer changed hands still follows.
- `opportunity_erasures`, `_id: "<customer id>"`: the customer was erased
  (crm_kit.persistence.once). Noted before the strip; a write that lands
  meanwhile checks it afterwards and strips itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from datetime import timedelta

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crm_kit.money import Money
from crm_kit.persistence.books import Books
from crm_kit.persistence.chain import Chain
from crm_kit.persistence.once import DecideOnce
from crm_kit.persistence.revisions import ABANDONED_AFTER, Revisions

from crm_sales.opportunities.model import Opportunity, StageChange

INDEXES = {name: [] for name in ("opportunities", "opportunity_versions", "opportunity_book_links",
                                 "opportunity_books", "opportunity_dedupe", "opportunity_owner_links",
                                 "opportunity_owners", "opportunity_erasures")}  # all by _id only
STATE_FIELD = "opportunity"
ALL = "all"
# Superseded ownership links kept for readers following the chain (as for visits' lists).
KEEP_OWNER_LINKS = 16


class TooMany(Exception):
    def __init__(self, book: str, limit: int):
        super().__init__(f"{book} lists more than {limit} opportunities")
        self.book, self.limit = book, limit


def customer_book(customer_id: str) -> str:
    return f"customer:{customer_id}"


def owner_book(owner_id: str) -> str:
    return f"owner:{owner_id}"


def team_book(team_id: str) -> str:
    return f"team:{team_id}"


def stands_in(book: str, opp: Opportunity, since: dt.datetime) -> bool:
    """Whether a book entry (its `since`) still lists `opp`."""
    if book.startswith("owner:"):
        return book == owner_book(opp.owner_id) and since == opp.owner_since
    if book.startswith("team:"):
        return book == team_book(opp.team_id) and since == opp.team_since
    return True  # customer and "all": an opportunity never leaves them


class OpportunityStore:
    def __init__(self, db: Database, abandoned_after: timedelta = ABANDONED_AFTER):
        self.opportunities = db["opportunities"]
        self.revisions = Revisions(self.opportunities, db["opportunity_versions"], state_field=STATE_FIELD,
                                   abandoned_after=abandoned_after)
        self.books = Books(db["opportunity_book_links"], db["opportunity_books"], item_field="opportunity_id")
        self.dedupe = DecideOnce(db["opportunity_dedupe"])
        self.owners = Chain(db["opportunity_owner_links"], db["opportunity_owners"])
        self.erasures = DecideOnce(db["opportunity_erasures"])

    def insert(self, opp: Opportunity, changed_by: str) -> None:
        """List it first (a crash leaves an entry whose opportunity is
        missing: skipped), claim revision 1 (the history's start), insert."""
        arrivals = [(customer_book(opp.customer_id), opp.id, opp.created_at), (ALL, opp.id, opp.created_at),
                    (team_book(opp.team_id), opp.id, opp.team_since)]
        if opp.owner_id:
            arrivals.append((owner_book(opp.owner_id), opp.id, opp.owner_since))
        self.books.add(arrivals)
        doc = _to_doc(opp)
        self.revisions.claim(opp.id, 1, doc, changed_by)
        try:
            self.opportunities.insert_one(doc)
        except DuplicateKeyError:  # a system open finishing one that crashed: the first insert stands
            pass

    def commit(self, current: Opportunity, updated: Opportunity, changed_by: str) -> bool:
        """List it where it arrives (owner, team) before claiming the
        revision; False when another writer won the revision."""
        arrivals = []
        if updated.owner_since != current.owner_since and updated.owner_id:
            arrivals.append((owner_book(updated.owner_id), updated.id, updated.owner_since))
        if updated.team_since != current.team_since:
            arrivals.append((team_book(updated.team_id), updated.id, updated.team_since))
        if arrivals:
            self.books.add(arrivals)
        return self.revisions.commit(updated.id, updated.revision, _to_doc(updated), changed_by)

    def mark_erased(self, customer_id: str, now: dt.datetime) -> None:
        self.erasures.decide(customer_id, {"at": now})

    def is_erased(self, customer_id: str) -> bool:
        return self.erasures.decided(customer_id) is not None

    def strip_history(self, opp: Opportunity) -> None:
        """Remove the stored states from its revision claims (they hold the
        free text); who changed it when stays."""
        self.revisions.strip(opp.id, opp.revision)

    def get(self, opportunity_id: str) -> Opportunity | None:
        doc = self.opportunities.find_one({"_id": opportunity_id})
        return _from_doc(doc) if doc else None

    def standing(self, book: str, keep: Callable[[Opportunity], bool]) -> Callable:
        def resolve(opportunity_id: str, since: dt.datetime) -> Opportunity | None:
            opp = self.get(opportunity_id)
            return opp if opp is not None and stands_in(book, opp, since) and keep(opp) else None
        return resolve

    def page(self, book: str, keep: Callable[[Opportunity], bool], size: int,
             start: int) -> tuple[list[Opportunity], int | None]:
        return self.books.page(book, self.standing(book, keep), size, start)

    def every(self, book: str, limit: int | None = None) -> Iterator[Opportunity]:
        """Every opportunity the book lists now (forecast, funnel, follow_owner);
        TooMany when the book has more than `limit` entries."""
        seen: set[str] = set()
        walked = 0
        for _n, opp in self.books.walk(book, self.standing(book, lambda _o: True)):
            walked += 1
            if limit is not None and walked > limit:
                raise TooMany(book, limit)
            if opp is not None and opp.id not in seen:
                seen.add(opp.id)
                yield opp

    # --- the customers' ownership changes as applied ----------------------------

    def note_owner(self, customer_id: str, owner_id: str, team_id: str, as_of: dt.datetime) -> None:
        """Record an ownership change (nothing when a newer one is recorded)."""
        def link(_n: int, top: dict | None) -> dict | None:
            if top is not None and top["as_of"] >= as_of:
                return None
            return {"owner_id": owner_id, "team_id": team_id, "as_of": as_of}

        key = customer_book(customer_id)
        n, _doc = self.owners.append(key, link)
        self.owners.forget(key, n - KEEP_OWNER_LINKS)

    def latest_owner(self, customer_id: str) -> tuple[str, str, dt.datetime] | None:
        """(owner, team, as of) of the newest ownership change recorded."""
        _n, doc = self.owners.top(customer_book(customer_id))
        return (doc["owner_id"], doc["team_id"], doc["as_of"]) if doc else None

    # --- system opens ---------------------------------------------------------

    def decide_id(self, dedupe_key: str, opportunity_id: str, now: dt.datetime) -> tuple[bool, str, dt.datetime]:
        """(this call decided, the opportunity id for the key, when it was decided)."""
        won, decision = self.dedupe.decide(dedupe_key, {"opportunity_id": opportunity_id, "at": now})
        at = decision.get("at") or now
        return won, decision.get("opportunity_id", opportunity_id), at


def _money(d: dict) -> Money:
    return Money(int(d["minor_units"]), d["currency_code"])


def _to_doc(o: Opportunity) -> dict:
    return {
        "_id": o.id, "customer_id": o.customer_id, "owner_id": o.owner_id, "team_id": o.team_id, "title": o.title,
        "amount": o.amount.to_json(), "expected_close": o.expected_close.isoformat(), "stage": o.stage,
        "history": [{"stage": c.stage, "at": c.at, "by": c.by, "reason": c.reason} for c in o.history],
        "revision": o.revision, "created_at": o.created_at, "created_by": o.created_by, "updated_at": o.updated_at,
        "owner_since": o.owner_since, "team_since": o.team_since, "owner_as_of": o.owner_as_of,
        "dedupe_key": o.dedupe_key, "close_reason": o.close_reason,
    }


def _from_doc(d: dict) -> Opportunity:
    return Opportunity(
        id=d["_id"], customer_id=d["customer_id"], owner_id=d["owner_id"], team_id=d["team_id"], title=d["title"],
        amount=_money(d["amount"]), expected_close=dt.date.fromisoformat(d["expected_close"]), stage=d["stage"],
        history=tuple(StageChange(c["stage"], c["at"], c["by"], c.get("reason", "")) for c in d["history"]),
        revision=d.get("revision", 1), created_at=d["created_at"], created_by=d.get("created_by", ""),
        updated_at=d["updated_at"], owner_since=d["owner_since"], team_since=d["team_since"],
        owner_as_of=d["owner_as_of"], dedupe_key=d.get("dedupe_key", ""), close_reason=d.get("close_reason", ""),
    )

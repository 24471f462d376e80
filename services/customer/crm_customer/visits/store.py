"""Persistence of scheduled visits in MongoDB (or FerretDB): the only module
that knows their collection and field names.

- `visits`, `_id: "<visit id>"`: the visit itself.
- a rep's open visits, as a chain (crm_kit.persistence.chain: FerretDB loses concurrent
  updates of one document, inserts are atomic): `visit_rep_lists`,
  `_id: "rep:<subject>#<n>"`, each link the whole map visit id -> {at,
  since} after one change; `visit_reps`, `_id: "rep:<subject>"`, where the
  chain ends. A rep's due list is two or three reads by `_id` plus one per
  visit on the page, never a query over all visits (a filter on rep and time
  would be a full scan on FerretDB's SQLite back end, seconds at 100,000
  visits). A rep has at most a few thousand open visits, so a link stays
  small; links older than KEEP_LINKS changes are deleted.
- a customer's open visits, the same kind of chain: `visit_customer_lists`,
  `_id: "customer:<id>#<n>"` (visit id -> {at}), `visit_customers` its
  ends; read when the customer changes owner, so its open visits can follow
  it to the new owner without a query over all visits.
- `visit_outcomes`, `_id: "<visit id>"`: "completed" or "cancelled";
  inserting it decides a complete/cancel race (exactly one outcome wins)
  without a conditional update, which would be a scan on FerretDB.
"""

from __future__ import annotations

from datetime import datetime

from collections.abc import Callable

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crm_kit.mongo import find_by_ids
from crm_kit.persistence.chain import Chain
from crm_kit.persistence.once import DecideOnce

from crm_customer.activity import marks_activity
from crm_customer.visits.model import Visit

INDEXES = {
    # By _id, except a customer's visits for an export or erase (rare, admins
    # only): MongoDB uses this index, FerretDB's SQLite back end scans.
    "visits": [IndexModel([("customer_id", ASCENDING)], name="customer_id_1")],
    "visit_rep_lists": [],  # by _id only
    "visit_reps": [],  # by _id only
    "visit_customer_lists": [],  # by _id only
    "visit_customers": [],  # by _id only
    "visit_outcomes": [],  # by _id only
}
# Superseded links kept for readers still following the chain; a hint that
# lags this far behind would need as many lost updates in a row.
KEEP_LINKS = 16


def _rep_key(rep_id: str) -> str:
    return f"rep:{rep_id}"


CUSTOMER_PREFIX = "customer:"


def _customer_key(customer_id: str) -> str:
    return f"{CUSTOMER_PREFIX}{customer_id}"


class VisitStore:
    def __init__(self, db: Database):
        self.visits = db["visits"]
        self.rep_lists = Chain(db["visit_rep_lists"], db["visit_reps"])
        # A customer's first listed visit marks the customer (crm_customer.activity); a rep's list does not.
        self.customer_lists = Chain(db["visit_customer_lists"], db["visit_customers"],
                                    on_new=marks_activity(db, CUSTOMER_PREFIX))
        self.outcomes = DecideOnce(db["visit_outcomes"])

    def insert(self, visit: Visit) -> bool:
        """False when a visit with this id exists already."""
        try:
            self.visits.insert_one(_to_doc(visit))
            return True
        except DuplicateKeyError:
            return False

    def get(self, visit_id: str) -> Visit | None:
        doc = self.visits.find_one({"_id": visit_id})
        return _from_doc(doc) if doc else None

    def get_many(self, visit_ids: list[str]) -> dict[str, Visit]:
        """The visits with these ids that exist, by id, in one read."""
        return {vid: _from_doc(doc) for vid, doc in find_by_ids(self.visits, visit_ids).items()}

    def of_customer(self, customer_id: str) -> list[Visit]:
        """All visits of a customer, in time order. The one query here not by
        `_id`: a full scan of `visits` on FerretDB/SQLite (the index above
        serves it on MongoDB). Only a customer's data export and erasure use
        it, rare admin calls, so a per-customer list kept on every schedule
        would cost more than it saves."""
        return sorted((_from_doc(d) for d in self.visits.find({"customer_id": customer_id})),
                      key=lambda v: (v.scheduled_at, v.id))

    def save(self, visit: Visit) -> None:
        self.visits.replace_one({"_id": visit.id}, _to_doc(visit))

    def move(self, visit: Visit, moved: Visit) -> bool:
        """Rewrite an open visit for its new rep, unless it was closed or moved
        meanwhile (False). Read, check, write by `_id` alone: on FerretDB any
        filter beyond a lone `_id` is a scan, and a conditional replace is no
        more atomic there than this; a completion racing the move is decided
        by its outcome document, which the move checks last."""
        current = self.get(visit.id)
        if current is None or current.state != "scheduled" or current.rep_id != visit.rep_id \
                or self.outcome(visit.id) is not None:
            return False
        self.visits.replace_one({"_id": visit.id}, _to_doc(moved))
        return True

    def outcome(self, visit_id: str) -> str | None:
        decided = self.outcomes.decided(visit_id)
        return decided["outcome"] if decided else None

    def claim_outcome(self, visit_id: str, outcome: str) -> str:
        """The outcome of the visit: `outcome` if this call decided it, else the earlier one."""
        _won, decided = self.outcomes.decide(visit_id, {"outcome": outcome})
        return decided.get("outcome", outcome)

    # --- the per-rep list of open visits ------------------------------------

    def add_open(self, visit: Visit, now: datetime) -> None:
        """List the visit as open on its customer's list and its rep's list."""
        self._change(self.customer_lists, _customer_key(visit.customer_id),
                     lambda open_: None if visit.id in open_ else {**open_, visit.id: {"at": visit.scheduled_at}})
        entry = {"at": visit.scheduled_at, "since": now}
        self._change(self.rep_lists, _rep_key(visit.rep_id),
                     lambda open_: None if visit.id in open_ else {**open_, visit.id: entry})

    def remove_open(self, rep_id: str, visit_id: str, customer_id: str = "") -> None:
        """Unlist from the rep's list (and the customer's, when named)."""
        def drop(open_: dict) -> dict | None:
            return {k: v for k, v in open_.items() if k != visit_id} if visit_id in open_ else None

        self._change(self.rep_lists, _rep_key(rep_id), drop)
        if customer_id:
            self._change(self.customer_lists, _customer_key(customer_id), drop)

    @staticmethod
    def _change(chain: Chain, key: str, edit: Callable[[dict], dict | None]) -> None:
        """Append the edited map as the key's next link (nothing when `edit` changes nothing)."""
        def link(_n: int, previous: dict | None) -> dict | None:
            changed = edit((previous or {}).get("open") or {})
            return None if changed is None else {"open": changed}

        n, _doc = chain.append(key, link)
        chain.forget(key, n - KEEP_LINKS)

    def open_of_customer(self, customer_id: str) -> list[str]:
        """Ids of the customer's open visits (maybe a few already closed: callers check)."""
        _n, doc = self.customer_lists.top(_customer_key(customer_id))
        return sorted(((doc or {}).get("open") or {}))

    def open_visits(self, rep_id: str) -> dict[str, tuple[datetime, datetime]]:
        """{visit id: (scheduled at, listed since)} of the rep's open visits."""
        _n, doc = self.rep_lists.top(_rep_key(rep_id))
        return {vid: (e["at"], e["since"]) for vid, e in ((doc or {}).get("open") or {}).items()}


def _to_doc(v: Visit) -> dict:
    return {
        "_id": v.id, "customer_id": v.customer_id, "rep_id": v.rep_id, "scheduled_at": v.scheduled_at,
        "purpose": v.purpose, "recurrence_days": v.recurrence_days, "state": v.state, "created_at": v.created_at,
        "created_by": v.created_by, "closed_at": v.closed_at, "interaction_sequence": v.interaction_sequence,
        "next_visit_id": v.next_visit_id,
    }


def _from_doc(d: dict) -> Visit:
    return Visit(
        id=d["_id"], customer_id=d["customer_id"], rep_id=d["rep_id"], scheduled_at=d["scheduled_at"],
        purpose=d["purpose"], recurrence_days=d.get("recurrence_days", 0), state=d["state"],
        created_at=d["created_at"], created_by=d.get("created_by", ""), closed_at=d.get("closed_at"),
        interaction_sequence=d.get("interaction_sequence", 0), next_visit_id=d.get("next_visit_id", ""),
    )

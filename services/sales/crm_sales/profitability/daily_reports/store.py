"""Daily reports' persistence, composed from the kit's primitives:

- reports: revisioned documents whose `_id` is the natural key `<rep>|<day>`
  (one per rep per day; two devices submitting at once: one wins each
  revision, the other re-reads and writes after it);
- rosters: a revisioned document per team (the set roster and the recent
  submitters);
- contacts: a book per rep and day (`<rep>|<day>`) of the interactions
  interaction.recorded announced, item `<interaction id>|<channel>`, since
  = when it happened; a redelivered event adds an entry the read counts once;
- erased customers: a key document per customer erased (`_id` = its id),
  inserted on customer.erased; reads leave those customers out (books are
  insert-only: whether an entry still stands is decided on read).
Every read and write goes by `_id`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crm_kit.persistence.books import Books
from crm_kit.persistence.revisions import Contended, Revisions, claim_id, write_with_retries

from crm_sales.profitability.daily_reports.model import Contact, Report, Roster, report_key

# A rep's day holds tens of interactions; a walk stops here all the same.
MAX_CONTACTS_READ = 2000

INDEXES: dict = {}  # every read is by _id


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _report_doc(r: Report) -> dict:
    return {"_id": report_key(r.rep_id, r.day), "rep_id": r.rep_id, "team_id": r.team_id, "day": r.day.isoformat(),
            "work_done": r.work_done, "tomorrow_plan": r.tomorrow_plan, "problems": r.problems,
            "submitted_at": r.submitted_at, "updated_at": r.updated_at, "late": r.late, "revision": r.revision}


def _report_from(d: dict) -> Report:
    return Report(d["rep_id"], d["team_id"], date.fromisoformat(d["day"]), d["work_done"], d["tomorrow_plan"],
                  d["problems"], _utc(d.get("submitted_at")), _utc(d.get("updated_at")), d.get("late", False),
                  d["revision"])


def _roster_doc(r: Roster) -> dict:
    return {"_id": r.team_id, "rep_ids": list(r.rep_ids),
            "submitters": [f"{rep}|{day.isoformat()}" for rep, day in sorted(r.submitters.items())],
            "revision": r.revision}


def _roster_from(d: dict) -> Roster:
    submitters = {}
    for entry in d.get("submitters", ()):
        rep, _, day = entry.rpartition("|")
        submitters[rep] = date.fromisoformat(day)
    return Roster(d["_id"], tuple(d.get("rep_ids", ())), submitters, d["revision"])


class DailyReportStore:
    def __init__(self, db: Database, abandoned_after: timedelta):
        self.reports = Revisions(db["daily_reports"], db["daily_report_claims"], abandoned_after=abandoned_after)
        self.rosters = Revisions(db["daily_report_rosters"], db["daily_report_roster_claims"],
                                 abandoned_after=abandoned_after)
        self.contacts = Books(db["daily_report_contact_links"], db["daily_report_contact_books"], item_field="item")
        self.erased = db["daily_report_erased_customers"]

    # --- reports ----------------------------------------------------------------------

    def report(self, rep_id: str, day: date) -> Report | None:
        doc = self.reports.documents.find_one({"_id": report_key(rep_id, day)})
        return _report_from(doc) if doc else None

    def save_report(self, rep_id: str, day: date, change) -> Report:
        """Read, `change(current or None) -> Report`, write as its next revision; again when another writer won."""
        def load() -> Report | None:
            return self.report(rep_id, day)

        def write(current: Report | None) -> Report:
            new = change(current)
            self._commit(self.reports, new.revision, _report_doc(new), new.rep_id)
            return new

        return write_with_retries("daily report", report_key(rep_id, day), load, write)

    # --- rosters ------------------------------------------------------------------------

    def roster(self, team_id: str) -> Roster:
        doc = self.rosters.documents.find_one({"_id": team_id})
        return _roster_from(doc) if doc else Roster(team_id)

    def save_roster(self, team_id: str, change, changed_by: str) -> Roster:
        """`change(roster) -> Roster | None` (None: nothing to change), written as the next revision."""
        def write(current: Roster) -> Roster:
            new = change(current)
            if new is None:
                return current
            self._commit(self.rosters, new.revision, _roster_doc(new), changed_by)
            return new

        return write_with_retries("daily report roster", team_id, lambda: self.roster(team_id), write)

    @staticmethod
    def _commit(revisions: Revisions, revision: int, doc: dict, changed_by: str) -> None:
        if revision == 1:
            if not revisions.create(doc, changed_by):
                raise Contended()
            return
        if not revisions.commit(doc["_id"], revision, doc, changed_by):
            raise Contended()
        if revision > 2:  # history of a report is not kept: the superseded claim's state is dropped
            revisions.claims.update_one({"_id": claim_id(doc["_id"], revision - 1)},
                                        {"$unset": {revisions.state_field: ""}})

    # --- contacts ---------------------------------------------------------------------------

    def add_contacts(self, contacts: list[tuple[str, date, Contact]]) -> None:
        """Note (rep, day, contact) entries in their books: one bulk append."""
        self.contacts.add([(report_key(rep, day), f"{c.interaction_id}|{c.channel}", c.occurred_at)
                           for rep, day, c in contacts])

    def contacts_of(self, rep_id: str, day: date) -> list[Contact]:
        def resolve(item: str, since: datetime) -> Contact:
            interaction_id, _, channel = item.rpartition("|")
            return Contact(interaction_id, channel, _utc(since))

        return [c for _n, c in self.contacts.walk(report_key(rep_id, day), resolve, limit=MAX_CONTACTS_READ)]

    # --- erasure ----------------------------------------------------------------------------

    def mark_erased(self, customer_id: str) -> None:
        try:
            self.erased.insert_one({"_id": customer_id, "at": datetime.now(timezone.utc)})
        except DuplicateKeyError:
            pass  # a redelivery: marked already

    def erased_among(self, customer_ids: set[str]) -> set[str]:
        # One `_id` read each: `$in` on `_id` is a scan on FerretDB.
        return {c for c in customer_ids if self.erased.find_one({"_id": c}, {"_id": 1}) is not None}

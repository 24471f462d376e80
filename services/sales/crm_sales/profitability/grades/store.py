"""Value grades in the sales database, composed from the kit's primitives.

- `value_grades`: one revisioned document per graded customer (`_id` = the
  customer id): grade, graded year, the run that set it and the history of
  every grade given (one short entry per change). Each change is a revision
  claim (`value_grade_claims`, "<customer id>#<revision>"; the first one the
  document's own insert) carrying the `customer.value_grade_changed` it
  causes (the outbox: the event is stored in the very insert that stores
  the grade, so it goes out exactly when the grade is stored).
- `value_grade_runs`: one document per grading run (who, when, the counts),
  written by its only runner.
- `value_grade_decisions`: decide-once claims: which run grades a year on
  the yearly schedule (two replicas never both start it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pymongo.database import Database

from crm_kit.persistence.once import DecideOnce
from crm_kit.persistence.revisions import ABANDONED_AFTER, Contended, Revisions, write_with_retries

INDEXES: dict = {"value_grades": [], "value_grade_claims": [], "value_grade_runs": [],
                 "value_grade_decisions": []}


@dataclass(frozen=True)
class StoredGrade:
    customer_id: str
    grade: str
    graded_year: int
    run_id: str
    graded_at: datetime
    revision: int


@dataclass(frozen=True)
class GradeChange:
    """One entry of a customer's grade history."""

    grade: str
    graded_year: int
    run_id: str
    graded_at: datetime


def _entry(change: GradeChange) -> str:
    """A history entry as one string (FerretDB stores no nested arrays; strings are compact)."""
    return f"{change.graded_year}|{change.grade}|{change.run_id}|{change.graded_at.isoformat()}"


def _change_from(entry: str) -> GradeChange:
    year, grade, run_id, at = entry.split("|", 3)
    return GradeChange(grade, int(year), run_id, datetime.fromisoformat(at))


def _grade(doc: dict) -> StoredGrade:
    at = doc.get("graded_at") or datetime.now(timezone.utc)
    return StoredGrade(doc["_id"], doc.get("grade", ""), int(doc.get("graded_year", 0)), doc.get("run_id", ""),
                       at if at.tzinfo else at.replace(tzinfo=timezone.utc), int(doc.get("revision", 1)))


class GradeStore:
    def __init__(self, db: Database, outbox=None, abandoned_after: timedelta = ABANDONED_AFTER):
        self.revisions = Revisions(db["value_grades"], db["value_grade_claims"], state_field="grade_state",
                                   outbox=outbox, abandoned_after=abandoned_after)
        self.runs = db["value_grade_runs"]
        self.decisions = DecideOnce(db["value_grade_decisions"])

    # --- grades ------------------------------------------------------------------

    def get(self, customer_id: str) -> StoredGrade | None:
        doc = self.revisions.documents.find_one({"_id": customer_id})
        return _grade(doc) if doc else None

    def many(self, customer_ids: list[str]) -> dict[str, StoredGrade]:
        """One `_id` read each (an `$in` is a scan on FerretDB)."""
        out = {}
        for cid in dict.fromkeys(customer_ids):
            if (found := self.get(cid)) is not None:
                out[cid] = found
        return out

    def all(self) -> Iterator[StoredGrade]:
        """Every graded customer: a scan, for a grading run and the metrics job only."""
        for doc in self.revisions.documents.find({}):
            yield _grade(doc)

    def set(self, customer_id: str, grade: str, graded_year: int, run_id: str, changed_by: str,
            events_for) -> bool:
        """Store `grade` for `graded_year` unless the customer already has it
        for that year, or has a grade of a later year. `events_for(previous grade or "")` gives the events the
        change causes, staged in the change's own claim. True when stored."""
        def load() -> dict | None:
            return self.revisions.documents.find_one({"_id": customer_id})

        def change(current: dict | None) -> bool:
            if current is not None:
                stored_year = int(current.get("graded_year", 0))
                if stored_year > graded_year or (stored_year == graded_year and current.get("grade") == grade):
                    return False  # graded so already, or for a later year (a run never goes back in time)
            previous = current.get("grade", "") if current else ""
            revision = (int(current.get("revision", 1)) if current else 0) + 1
            now = datetime.now(timezone.utc)
            history = [*(current.get("history", []) if current else []),
                       _entry(GradeChange(grade, graded_year, run_id, now))]
            state = {"_id": customer_id, "grade": grade, "graded_year": graded_year, "run_id": run_id,
                     "graded_at": now, "history": history, "revision": revision}
            events = events_for(previous) if previous != grade else []
            stored = self.revisions.create(state, changed_by, events) if revision == 1 else \
                self.revisions.commit(customer_id, revision, state, changed_by, events=events)
            if not stored:
                raise Contended()
            return True

        return write_with_retries("value grade", customer_id, load, change)

    def history(self, customer_id: str) -> list[GradeChange]:
        """Every grade the customer was given, oldest first (kept in the
        document: one entry per change, a few per year at most)."""
        current = self.revisions.documents.find_one({"_id": customer_id})
        return [] if current is None else [_change_from(entry) for entry in current.get("history", [])]

    # --- runs ----------------------------------------------------------------------

    def decide_yearly(self, year: int, attempt: int, run_id: str, now: datetime) -> tuple[bool, dict]:
        return self.decisions.decide(f"yearly:{year}#{attempt}", {"run_id": run_id, "started_at": now})

    def yearly_decision(self, year: int, attempt: int) -> dict | None:
        return self.decisions.decided(f"yearly:{year}#{attempt}")

    def start_run(self, run: dict) -> None:
        self.runs.insert_one(run)

    def finish_run(self, run_id: str, result: dict) -> None:
        # The run's only writer (its runner) writes this, once.
        self.runs.update_one({"_id": run_id}, {"$set": result})

    def get_run(self, run_id: str) -> dict | None:
        return self.runs.find_one({"_id": run_id})

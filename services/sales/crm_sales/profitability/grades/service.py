"""Value grade use cases: grading a year (the yearly job and the admin
run), and reading a customer's grade and its history.

A run reads every customer's gross margin of the year from the roll-ups
(app.features["rollups"], one currency: settings
SALES_VALUE_GRADE_CURRENCY), grades them (model.grade_customers) and stores
each grade that differs from the stored one. Customers graded before but
without margin in the year are graded as the no-margin grade. A run never
replaces a grade of a later year. Re-running a year changes nothing that
did not change (idempotent), so a run that died half way is simply run
again.

The yearly job runs once per year, for the year that ended, after January 1
in the business time zone: each replica's job ticks, the first to insert
the decide-once claim "yearly:<year>#<attempt>" runs it; the others see the
claim. A run that stopped making progress (its process died) for
`stale_after` is taken over by the next attempt.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo

from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied

from crm_sales import access, metrics
from crm_sales.profitability.grades import events as grade_events
from crm_sales.profitability.grades.model import UNGRADED, ValueBands, by_grade, counts, grade_customers
from crm_sales.profitability.grades.store import GradeChange, GradeStore
from crm_sales.profitability.months import FIRST_YEAR, Month, months_between

log = logging.getLogger("crm.sales.value_grades")
SYSTEM = "system:value-grades"
PROGRESS_EVERY = 500  # customers stored between two progress marks of a run


@dataclass(frozen=True)
class RunResult:
    run_id: str
    graded_year: int
    graded: int                      # customers graded
    changed: int                     # grades stored (they differed)
    counts: dict[str, int] = field(default_factory=dict)  # customers per grade
    started_at: datetime | None = None
    finished_at: datetime | None = None
    started_by: str = ""


@dataclass(frozen=True)
class CustomerGrade:
    customer_id: str
    grade: str                       # "" when never graded
    graded_year: int
    history: tuple[GradeChange, ...]


def new_run_id(year: int, now: datetime) -> str:
    """Sortable within a year: "grading_2026_20270101T000512_<random>"."""
    return f"grading_{year}_{now.astimezone(timezone.utc):%Y%m%dT%H%M%S}_{secrets.token_hex(6)}"


class GradeService:
    def __init__(self, store: GradeStore, features: dict, bands: ValueBands, currency: str, zone: tzinfo,
                 customers=None, *, stale_after: timedelta = timedelta(minutes=15),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.store = store
        self.features = features  # app.features: the roll-ups are reached when a run starts
        self.bands = bands
        self.currency = currency
        self.zone = zone
        self.customers = customers  # the customer directory (rights on one customer's grade)
        self.stale_after = stale_after
        self.clock = clock

    # --- reading (in-process promise: app.features["value_grades"]) ---------------

    def current(self, customer_ids) -> dict[str, str]:
        """{customer id: grade code}; customers never graded are absent."""
        return {cid: g.grade for cid, g in self.store.many(list(customer_ids)).items()}

    def of(self, customer_id: str) -> str:
        found = self.store.get(customer_id)
        return found.grade if found else ""

    def all_current(self) -> dict[str, str]:
        """Every graded customer's grade (a scan: the metrics job and reports over everyone)."""
        return {g.customer_id: g.grade for g in self.store.all()}

    def get(self, principal: Principal, customer_id: str) -> CustomerGrade:
        """One customer's grade and history, for whoever may read the customer's sales."""
        access.require_any_read(principal)
        customer_id = access.require_customer_id(customer_id)
        if self.customers is not None:
            access.require_read(principal, self.customers.get(customer_id))
        found = self.store.get(customer_id)
        return CustomerGrade(customer_id, found.grade if found else "", found.graded_year if found else 0,
                             tuple(self.store.history(customer_id)))

    def get_run(self, principal: Principal, run_id: str) -> RunResult:
        _require_admin(principal)
        doc = self.store.get_run(run_id) if isinstance(run_id, str) and len(run_id) <= 80 else None
        if doc is None:
            raise NotFound("value grade run", run_id)
        return _result(doc)

    # --- grading -------------------------------------------------------------------

    def last_year(self) -> int:
        return Month.of(self.clock(), self.zone).year - 1

    def run(self, principal: Principal, year: int = 0, *, wait: bool = False) -> RunResult:
        """The admin run: grade `year` (0: the year that ended). Answers at
        once with the run started (it goes on in a thread of its own; poll
        `get_run`), or, with `wait`, when it is done (tools and tests)."""
        _require_admin(principal)
        last = self.last_year()
        if year == 0:
            year = last
        if not isinstance(year, int) or not FIRST_YEAR <= year <= last:
            raise InvalidArgument(FieldViolation("year", f"must be a finished year from {FIRST_YEAR} to {last}"))
        run_id = new_run_id(year, self.clock())
        started = self._start(run_id, year, principal.subject)
        if wait:
            return self._grade(run_id, year, principal.subject)
        threading.Thread(target=self._grade_logged, args=(run_id, year, principal.subject),
                         name="value-grading", daemon=True).start()
        return started

    def _grade_logged(self, run_id: str, year: int, by: str) -> None:
        try:
            self._grade(run_id, year, by)
        except Exception:  # noqa: BLE001 - the run stays unfinished; running the year again completes it
            log.exception("value grades run failed", extra={"fields": {"run_id": run_id, "year": year}})

    def run_yearly(self) -> RunResult | None:
        """The yearly job's tick: grade the year that ended, once across replicas."""
        year = self.last_year()
        attempt = 0
        while True:
            now = self.clock()
            run_id = new_run_id(year, now)
            decided, decision = self.store.decide_yearly(year, attempt, run_id, now)
            if decided:
                self._start(run_id, year, SYSTEM)
                return self._grade(run_id, year, SYSTEM)
            run = self.store.get_run(decision.get("run_id", ""))
            if run is not None and run.get("finished_at") is not None:
                return None  # graded this year already
            last_sign = (run or {}).get("progress_at") or decision.get("started_at") or now
            if last_sign.tzinfo is None:
                last_sign = last_sign.replace(tzinfo=timezone.utc)
            if now - last_sign <= self.stale_after:
                return None  # another replica is grading right now
            attempt += 1  # its runner died: the next attempt takes over (the grades it stored stand)

    def _start(self, run_id: str, year: int, by: str) -> RunResult:
        started = self.clock()
        self.store.start_run({"_id": run_id, "graded_year": year, "started_at": started, "started_by": by,
                              "progress_at": started, "finished_at": None})
        return RunResult(run_id, year, 0, 0, {}, started, None, by)

    def _grade(self, run_id: str, year: int, by: str) -> RunResult:
        started = self.clock()
        rollups = self.features["rollups"]
        period = rollups.customers(Month(year, 1), Month(year, 12), self.currency)
        margins = {cid: attributed.figures.margin for cid, attributed in period.items()}
        stored_now = {}
        for stored in self.store.all():  # one read of every grade: unchanged ones cost no write and no read
            margins.setdefault(stored.customer_id, 0)  # graded before, no margin this year
            stored_now[stored.customer_id] = (stored.grade, stored.graded_year)
        grades = grade_customers(margins, self.bands)
        changed = 0
        for i, (customer_id, grade) in enumerate(sorted(grades.items()), 1):
            def events_for(previous: str, customer_id=customer_id, grade=grade) -> list:
                return [grade_events.value_grade_changed(customer_id, previous, grade, year, run_id)]

            if i % PROGRESS_EVERY == 0:
                self.store.finish_run(run_id, {"progress_at": self.clock()})
            if stored_now.get(customer_id) == (grade, year):
                continue  # unchanged (the store re-checks on its own read whenever it writes)
            if self.store.set(customer_id, grade, year, run_id, by, events_for):
                changed += 1
                metrics.value_grade_changed(grade)
        result = {"graded": len(grades), "changed": changed, "counts": counts(grades, self.bands),
                  "finished_at": self.clock(), "progress_at": self.clock()}
        self.store.finish_run(run_id, result)
        log.info("value grades run", extra={"fields": {"run_id": run_id, "year": year, "graded": len(grades),
                                                       "changed": changed}})
        return RunResult(run_id, year, len(grades), changed, result["counts"], started, result["finished_at"], by)


class ContributionByGrade:
    """The business gauges of the dashboards: each month's gross margin and
    net contribution (the current month and the 12 before it, in the grading
    currency) summed by the customers' current value grade, and how many
    customers hold each grade. A job refreshes them from the roll-ups (one
    period read per month) and one read of every grade."""

    WINDOW = 13

    def __init__(self, grades: GradeService):
        self.grades = grades

    def refresh(self) -> dict:
        rollups = self.grades.features["rollups"]
        current = self.grades.all_current()
        now = Month.of(self.grades.clock(), self.grades.zone)
        by_month = {}
        for month in months_between(now.plus(1 - self.WINDOW), now):
            period = rollups.customers(month, month, self.grades.currency)
            by_month[str(month)] = by_grade({cid: (a.figures.margin, a.figures.net) for cid, a in period.items()},
                                            current)
        per_grade = {g: 0 for g in self.grades.bands.grades}
        for grade in current.values():
            per_grade[grade] = per_grade.get(grade, 0) + 1
        metrics.contribution_by_grade(self.grades.currency, by_month, per_grade)
        return {"months": len(by_month), "graded": len(current), "ungraded_label": UNGRADED}


def _require_admin(principal: Principal) -> None:
    if principal.role != "admin":
        raise PermissionDenied("only admins run or read value grading runs")


def _result(doc: dict) -> RunResult:
    return RunResult(doc["_id"], int(doc.get("graded_year", 0)), int(doc.get("graded", 0)),
                     int(doc.get("changed", 0)), dict(doc.get("counts") or {}), doc.get("started_at"),
                     doc.get("finished_at"), doc.get("started_by", ""))

"""Daily reports' use cases: rights, the deadline, the prefilled contacts.

Who may do what:
- reps and managers submit and read their own reports;
- a manager reads the reports of their team (a report submitted for it; a
  day not submitted of a rep on its roster) and sets its roster;
- finance, admins and integrations with sales:read read every report and
  team; admins set any team's roster.
A report or team the caller may not see is NOT_FOUND (as for customers);
a role that may not do the thing at all is PERMISSION_DENIED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo

from crm_kit.auth import Principal
from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied, \
    PreconditionViolation

from crm_sales import metrics
from crm_sales.profitability.daily_reports import model as rules
from crm_sales.profitability.daily_reports.model import ContactedCustomer, Contact, Deadline, Report, Roster
from crm_sales.profitability.daily_reports.store import DailyReportStore

READ_SCOPE = "sales:read"


@dataclass(frozen=True)
class ReportView:
    report: Report
    contacted: list[ContactedCustomer]
    deadline: datetime
    editable: bool


@dataclass(frozen=True)
class TeamDay:
    team_id: str
    day: date
    deadline: datetime
    deadline_passed: bool
    reports: list[ReportView]
    missing_rep_ids: list[str]
    roster_source: str


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _reads_all(principal: Principal) -> bool:
    return principal.role in ("admin", "finance") or (
        principal.role == "integration" and READ_SCOPE in principal.scopes)


class DailyReportService:
    def __init__(self, store: DailyReportStore, *, zone: tzinfo, deadline: Deadline, late_days: int,
                 clock: Callable[[], datetime] = _utc_now):
        self.store = store
        self.zone = zone
        self.deadline = deadline
        self.late_days = late_days
        self.clock = clock

    def today(self) -> date:
        return rules.local_day(self.clock(), self.zone)

    # --- one rep's day ------------------------------------------------------------------

    def get(self, principal: Principal, rep_id: str, day: date) -> ReportView:
        rules.valid_rep_id(rep_id)
        rules.valid_day(day)
        report = self.store.report(rep_id, day)
        self._require_read(principal, rep_id, report)
        return self._view(report or Report(rep_id, "", day))

    def submit(self, principal: Principal, rep_id: str, day: date, *, work_done: str, tomorrow_plan: str = "",
               problems: str = "", expected_revision: int = 0) -> ReportView:
        """Submit or edit; with `expected_revision` (> 0) only over the revision the caller read."""
        rules.valid_rep_id(rep_id)
        rules.valid_day(day)
        if expected_revision < 0:
            raise InvalidArgument(FieldViolation("expected_revision", "must not be negative"))
        if principal.role not in ("rep", "manager"):
            raise PermissionDenied("daily reports are submitted by reps and managers, each their own")
        if rep_id != principal.subject:
            raise PermissionDenied("a daily report is submitted by its own rep")
        deadline = self.deadline.of(day, self.zone)

        def change(current: Report | None) -> Report:
            stored = current.revision if current else 0
            if expected_revision and stored != expected_revision:
                raise FailedPrecondition([PreconditionViolation(
                    "ETAG", f"daily-reports/{rep_id}/{day.isoformat()}",
                    f"the report is at revision {stored}, not {expected_revision}")],
                    "the report changed since you read it")
            now = self.clock()
            return rules.submit(current or Report(rep_id, "", day), team_id=principal.team, work_done=work_done,
                                tomorrow_plan=tomorrow_plan, problems=problems, deadline=deadline, now=now,
                                today=rules.local_day(now, self.zone), late_days=self.late_days)

        report = self.store.save_report(rep_id, day, change)
        metrics.DAILY_REPORTS.labels("edited" if report.revision > 1 else "late" if report.late else "on_time").inc()
        if report.team_id:
            self.store.save_roster(report.team_id, lambda r: rules.with_submitter(r, rep_id, day), rep_id)
        return self._view(report)

    # --- a team's day ---------------------------------------------------------------------

    def team_day(self, principal: Principal, team_id: str, day: date) -> TeamDay:
        rules.valid_day(day)
        team_id = self._team_to_read(principal, team_id)
        roster = self.store.roster(team_id)
        expected, source = roster.expected(day)
        # Reports of the day: the roster's reps' and anyone's who submitted for the team (by `_id`, one each).
        candidates = sorted(set(expected) | set(roster.submitters))
        reports = [r for rep in candidates if (r := self.store.report(rep, day)) is not None
                   and r.submitted and r.team_id == team_id]
        reported = {r.rep_id for r in reports}
        deadline = self.deadline.of(day, self.zone)
        return TeamDay(team_id, day, deadline, self.clock() >= deadline, [self._view(r) for r in reports],
                       [rep for rep in expected if rep not in reported], source)

    def roster(self, principal: Principal, team_id: str) -> tuple[Roster, tuple[str, ...], str]:
        """The team's roster and who it expects today, with the source ("set" or "recent")."""
        team_id = self._team_to_read(principal, team_id)
        roster = self.store.roster(team_id)
        return (roster, *roster.expected(self.today()))

    def set_roster(self, principal: Principal, team_id: str, rep_ids: list[str]) -> tuple[Roster, tuple[str, ...], str]:
        team_id = self._team_to_read(principal, team_id)
        if principal.role not in ("admin", "manager"):
            raise PermissionDenied("a team's roster is set by its manager or an admin")
        wanted = rules.roster_ids(rep_ids)

        def change(current: Roster) -> Roster | None:
            if current.rep_ids == wanted:
                return None
            return Roster(team_id, wanted, current.submitters, current.revision + 1)

        roster = self.store.save_roster(team_id, change, principal.subject)
        return (roster, *roster.expected(self.today()))

    # --- what the events tell ------------------------------------------------------------------

    def note_interactions(self, interactions: list[tuple[str, str, str, datetime]]) -> None:
        """(rep id, interaction id, channel, occurred at) of recorded interactions, into each rep's day."""
        entries = []
        for rep_id, interaction_id, channel, occurred_at in interactions:
            if not rep_id or not interaction_id:
                continue
            entries.append((rep_id, rules.local_day(occurred_at, self.zone),
                            Contact(interaction_id, channel, occurred_at)))
        if entries:
            self.store.add_contacts(entries)

    def erase_customer(self, customer_id: str) -> None:
        """The customer leaves every report's contacted list (decided on read)."""
        if customer_id:
            self.store.mark_erased(customer_id)

    # --- inside ------------------------------------------------------------------------------------

    def _view(self, report: Report) -> ReportView:
        contacts = self.store.contacts_of(report.rep_id, report.day)
        erased = self.store.erased_among({c.customer_id for c in contacts})
        deadline = self.deadline.of(report.day, self.zone)
        now = self.clock()
        return ReportView(report, rules.contacted(contacts, erased), deadline,
                          rules.editable(report, deadline, now, rules.local_day(now, self.zone), self.late_days))

    def _require_read(self, principal: Principal, rep_id: str, report: Report | None) -> None:
        if rep_id == principal.subject and principal.role in ("rep", "manager") or _reads_all(principal):
            return
        if principal.role == "manager" and principal.team:
            if report is not None and report.team_id:
                # A submitted report is its team's: a roster the manager sets names whom they expect, it
                # opens no other team's report.
                if report.team_id == principal.team:
                    return
                raise NotFound("daily report")
            roster = self.store.roster(principal.team)
            if rep_id in roster.rep_ids or rep_id in roster.submitters:
                return
            raise NotFound("daily report")  # as for customers: a caller who may not see it learns nothing
        if principal.role == "rep":
            raise NotFound("daily report")
        raise PermissionDenied("your role reads no daily reports")

    def _team_to_read(self, principal: Principal, team_id: str) -> str:
        if principal.role == "manager":
            if not principal.team:
                raise PermissionDenied("your token names no team")
            if team_id and team_id != principal.team:
                raise NotFound("team")  # managers read and set only their own team
            return principal.team
        if _reads_all(principal) or principal.role == "admin":
            if not team_id:
                raise InvalidArgument(FieldViolation("team_id", "is required"))
            return rules.valid_rep_id(team_id, "team_id")
        raise PermissionDenied("only managers, finance and admins read a team's daily reports")

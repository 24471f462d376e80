"""Daily reports: the rules, pure Python, no I/O.

- One report per rep per business day (the natural key `<rep>|<day>`; the
  day in the business time zone, SALES_TIMEZONE).
- The deadline of day D is SALES_DAILY_REPORT_DEADLINE local time: "HH:MM"
  on D itself, or "HH:MM+1" on the morning after.
- Before the deadline a rep submits and edits freely. A report not
  submitted by then may still be submitted once, up to
  SALES_DAILY_REPORT_LATE_DAYS days after the day, and is marked late; a
  submitted report is frozen once the deadline has passed (what a manager
  read at the deadline stays what was reported). No report for a future day.
- Customers contacted are not typed in: they are the day's interactions and
  completed visits (channel "visit") the customer service recorded for the
  rep, kept per rep and day from interaction.recorded, read at every view
  (a late-noted call shows up; an erased customer is gone).
- The roster (who is expected to report): the one the team's manager set;
  when none is set, the reps who submitted for the team in the last
  RECENT_DAYS days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from crm_kit.clock import local_date
from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, PreconditionViolation

from crm_sales.profitability.months import FIRST_YEAR, LAST_YEAR

MAX_TEXT = 4000
MAX_ROSTER = 500
MAX_REP_ID = 128
RECENT_DAYS = 30
DEFAULT_DEADLINE = "21:00"
VISIT_CHANNEL = "visit"
_DEADLINE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(\+1)?$")
# Subjects of our tokens: letters, digits and a few separators (never "|", the key separator).
_REP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$")


@dataclass(frozen=True)
class Deadline:
    """The local time of day a day's report is due, on the day or the next one."""

    at: time
    next_day: bool = False

    @classmethod
    def parse(cls, text: str) -> "Deadline":
        match = _DEADLINE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not HH:MM or HH:MM+1 (the morning after)")
        return cls(time(int(match.group(1)), int(match.group(2))), bool(match.group(3)))

    def of(self, day: date, zone: tzinfo) -> datetime:
        """The deadline of `day` as a UTC time."""
        local = datetime.combine(day + timedelta(days=1 if self.next_day else 0), self.at, tzinfo=zone)
        return local.astimezone(timezone.utc)

    def __str__(self) -> str:
        return self.at.strftime("%H:%M") + ("+1" if self.next_day else "")


@dataclass(frozen=True)
class Contact:
    """One interaction of a rep's day, as interaction.recorded told it."""

    interaction_id: str  # "<customer id>#<sequence>": one entry per interaction, however often delivered
    channel: str
    occurred_at: datetime

    @property
    def customer_id(self) -> str:
        return self.interaction_id.partition("#")[0]


@dataclass(frozen=True)
class ContactedCustomer:
    customer_id: str
    channels: tuple[str, ...]
    interaction_count: int
    visit_count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class Report:
    rep_id: str
    team_id: str
    day: date
    work_done: str = ""
    tomorrow_plan: str = ""
    problems: str = ""
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    late: bool = False
    revision: int = 0

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


@dataclass(frozen=True)
class Roster:
    team_id: str
    rep_ids: tuple[str, ...] = ()  # set by the manager; empty: none set
    # Who submitted for the team, with the last day they did (the "recent" roster).
    submitters: dict[str, date] = field(default_factory=dict)
    revision: int = 0

    def expected(self, day: date) -> tuple[tuple[str, ...], str]:
        """(rep ids expected to report on `day`, "set" or "recent")."""
        if self.rep_ids:
            return self.rep_ids, "set"
        since = day - timedelta(days=RECENT_DAYS)
        return tuple(sorted(r for r, last in self.submitters.items() if since <= last)), "recent"


def report_key(rep_id: str, day: date) -> str:
    return f"{rep_id}|{day.isoformat()}"


local_day = local_date  # the day of a moment in the business zone: the kit's one rule


def valid_day(day: date, field_name: str = "day") -> date:
    """A business day a report can have: the years months are counted in (a
    day at the calendar's ends would overflow the deadline's arithmetic)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidArgument(FieldViolation(field_name, f"must be a day from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31"))
    return day


def valid_rep_id(rep_id: str, field_name: str = "rep_id") -> str:
    if not isinstance(rep_id, str) or not _REP_ID.match(rep_id):
        raise InvalidArgument(FieldViolation(field_name, "is required: a subject id (letters, digits, _ . @ : -, "
                                                         f"at most {MAX_REP_ID} characters)"))
    return rep_id


def _text(value: str, field_name: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidArgument(FieldViolation(field_name, "is required"))
    if len(value) > MAX_TEXT:
        raise InvalidArgument(FieldViolation(field_name, f"is longer than {MAX_TEXT} characters"))
    return value


def _closed(reason: str, subject: str) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation("DEADLINE", subject, reason)], reason)


def editable(report: Report, deadline: datetime, now: datetime, today: date, late_days: int) -> bool:
    """Whether the rep may submit or edit the report now (see the module's rules)."""
    if report.day > today:
        return False
    if now < deadline:
        return True
    return not report.submitted and (today - report.day).days <= late_days


def submit(report: Report, *, team_id: str, work_done: str, tomorrow_plan: str, problems: str,
           deadline: datetime, now: datetime, today: date, late_days: int) -> Report:
    """The report as submitted (or edited) now; refuses what the rules forbid."""
    subject = report_key(report.rep_id, report.day)
    if report.day > today:
        raise InvalidArgument(FieldViolation("day", "is in the future: a day is reported on the day or after"))
    if now >= deadline:
        if report.submitted:
            raise _closed("the report was submitted and its deadline has passed: it can no longer change", subject)
        if (today - report.day).days > late_days:
            raise _closed(f"the day is more than {late_days} days ago: too late to report it", subject)
    first = not report.submitted
    return replace(report, team_id=team_id if first else report.team_id,
                   work_done=_text(work_done, "work_done", required=True),
                   tomorrow_plan=_text(tomorrow_plan, "tomorrow_plan"), problems=_text(problems, "problems"),
                   submitted_at=now if first else report.submitted_at, updated_at=now,
                   late=now >= deadline if first else report.late, revision=report.revision + 1)


def contacted(contacts: list[Contact], erased: set[str]) -> list[ContactedCustomer]:
    """The day's contacts per customer, in the order first contacted; each
    interaction counted once; erased customers left out."""
    seen: set[str] = set()
    by_customer: dict[str, list[Contact]] = {}
    for contact in sorted(contacts, key=lambda c: (c.occurred_at, c.interaction_id)):
        if contact.interaction_id in seen or contact.customer_id in erased:
            continue
        seen.add(contact.interaction_id)
        by_customer.setdefault(contact.customer_id, []).append(contact)
    out = []
    for customer_id, entries in by_customer.items():
        channels = tuple(dict.fromkeys(c.channel for c in entries))
        out.append(ContactedCustomer(customer_id, channels, len(entries),
                                     sum(1 for c in entries if c.channel == VISIT_CHANNEL),
                                     entries[0].occurred_at, entries[-1].occurred_at))
    return out


def roster_ids(rep_ids: list[str]) -> tuple[str, ...]:
    if len(rep_ids) > MAX_ROSTER:
        raise InvalidArgument(FieldViolation("rep_ids", f"holds more than {MAX_ROSTER} reps"))
    for i, rep_id in enumerate(rep_ids):
        valid_rep_id(rep_id, f"rep_ids[{i}]")
    return tuple(sorted(set(rep_ids)))


def with_submitter(roster: Roster, rep_id: str, day: date) -> Roster | None:
    """The roster knowing `rep_id` submitted on `day`; None when it knew already."""
    if roster.submitters.get(rep_id, date.min) >= day:
        return None
    return replace(roster, submitters={**roster.submitters, rep_id: day}, revision=roster.revision + 1)

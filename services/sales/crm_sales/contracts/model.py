"""Contracts: pure rules, no I/O.

A contract is drafted for a customer (term, value, linked orders, renewal
terms), then signed, and ends with its term, or early by termination. An
auto-renewing contract rolls into a new term when its end has passed. The
state `ended` is derived (signed and past the end without auto-renewal),
so nothing has to be written the day a term runs out.

The reminder is recorded on the contract itself (`reminded_end`): one per
end date, so a renewed term gets its own.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace

from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, PreconditionViolation
from crm_kit.ids import id_pattern
from crm_kit.money import Money, validate_money
from crm_kit.validation import clean_text, collect

CONTRACT_ID = id_pattern("con")
STATES = ("draft", "signed", "ended", "terminated")
MAX_TITLE = 200
MAX_REASON = 500
MAX_ORDERS = 100
MAX_RENEWAL_MONTHS = 120
MAX_NOTICE_DAYS = 365
# Terms are calendar dates a person types; outside these years it is a typo.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2199
MAX_WINDOW_DAYS = 366


@dataclass(frozen=True)
class RenewalTerms:
    auto_renew: bool = False
    renewal_months: int = 0
    notice_days: int = 0


@dataclass(frozen=True)
class ContractDraft:
    customer_id: str
    title: str
    start: dt.date
    end: dt.date
    value: Money
    order_ids: tuple[str, ...]
    renewal: RenewalTerms


@dataclass(frozen=True)
class Contract:
    id: str
    customer_id: str
    owner_id: str  # the customer's owner when listed: picks the expiring books, never decides rights
    team_id: str
    title: str
    start: dt.date
    end: dt.date
    value: Money
    order_ids: tuple[str, ...]
    renewal: RenewalTerms
    state: str  # stored: draft | signed | terminated ("ended" is derived, see state_on)
    created_at: dt.datetime
    created_by: str
    signed_at: dt.datetime | None = None
    signed_by: str = ""
    terminated_at: dt.datetime | None = None
    termination_reason: str = ""
    reminded_end: dt.date | None = None
    renewal_opportunity_id: str = ""
    renewal_count: int = 0
    # When the customer's ownership last applied here changed: an older change arriving late moves nothing.
    owner_since: dt.datetime | None = None
    # The customer was erased: the title and the termination reason (free
    # text that may name people) are gone; term, value and history stay.
    erased_at: dt.datetime | None = None
    revision: int = 1

    def state_on(self, today: dt.date) -> str:
        if self.state == "signed" and self.end < today and not self.renewal.auto_renew:
            return "ended"
        return self.state

    def notice_deadline(self) -> dt.date:
        return self.end - dt.timedelta(days=self.renewal.notice_days)


# --- validation ---------------------------------------------------------------------

def _term_date(value: dt.date, field_name: str) -> dt.date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InvalidArgument(FieldViolation(field_name, f"must be a date from {EARLIEST_YEAR} to {LATEST_YEAR}"))
    return value


def validate_contract_id(contract_id: str, field_name: str = "id") -> str:
    if not isinstance(contract_id, str) or CONTRACT_ID.match(contract_id) is None:
        raise InvalidArgument(FieldViolation(field_name, "must be a contract id (con_…)"))
    return contract_id


def validate_renewal(r: RenewalTerms) -> RenewalTerms:
    violations: list[FieldViolation] = []
    if r.auto_renew and not 1 <= r.renewal_months <= MAX_RENEWAL_MONTHS:
        violations.append(FieldViolation("renewal.renewal_months",
                                         f"must be 1 to {MAX_RENEWAL_MONTHS} months for an auto-renewing contract"))
    elif not 0 <= r.renewal_months <= MAX_RENEWAL_MONTHS:
        violations.append(FieldViolation("renewal.renewal_months", f"must be 0 to {MAX_RENEWAL_MONTHS} months"))
    if not 0 <= r.notice_days <= MAX_NOTICE_DAYS:
        violations.append(FieldViolation("renewal.notice_days", f"must be 0 to {MAX_NOTICE_DAYS} days"))
    if violations:
        raise InvalidArgument(violations)
    return r


def validate_draft(d: ContractDraft) -> ContractDraft:
    """Every field checked, all violations reported at once."""
    violations: list[FieldViolation] = []
    if not isinstance(d.customer_id, str) or not d.customer_id:
        violations.append(FieldViolation("customer_id", "is required"))
    title = collect(violations, clean_text, d.title, "title", MAX_TITLE, True)
    start = collect(violations, _term_date, d.start, "start_date")
    end = collect(violations, _term_date, d.end, "end_date")
    if start is not None and end is not None and end < start:
        violations.append(FieldViolation("end_date", "must not be before start_date: a contract cannot end "
                                                     "before it starts"))
    value = collect(violations, validate_money, d.value, "value")
    if value is not None and value.minor_units == 0:
        violations.append(FieldViolation("value.minor_units", "must be more than zero"))
    if len(d.order_ids) > MAX_ORDERS:
        violations.append(FieldViolation("order_ids", f"at most {MAX_ORDERS} orders"))
    elif len(set(d.order_ids)) != len(d.order_ids):
        violations.append(FieldViolation("order_ids", "lists an order twice"))
    for i, oid in enumerate(d.order_ids):
        if not isinstance(oid, str) or not oid or len(oid) > 64:
            violations.append(FieldViolation(f"order_ids[{i}]", "must be an order id"))
    renewal = collect(violations, validate_renewal, d.renewal)
    if violations:
        raise InvalidArgument(violations)
    return replace(d, title=title, renewal=renewal)


def validate_window(within_days: int, default: int) -> int:
    if within_days == 0:
        return default
    if not 1 <= within_days <= MAX_WINDOW_DAYS:
        raise InvalidArgument(FieldViolation("within_days", f"must be 1 to {MAX_WINDOW_DAYS} days"))
    return within_days


def validate_reason(reason: str) -> str:
    return clean_text(reason, "reason", MAX_REASON, True)


# --- changes --------------------------------------------------------------------------

def new_contract(d: ContractDraft, *, contract_id: str, owner_id: str, team_id: str, created_by: str,
                 now: dt.datetime) -> Contract:
    return Contract(id=contract_id, customer_id=d.customer_id, owner_id=owner_id, team_id=team_id, title=d.title,
                    start=d.start, end=d.end, value=d.value, order_ids=d.order_ids, renewal=d.renewal,
                    state="draft", created_at=now, created_by=created_by)


def _refused(c: Contract, message: str) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation("STATE", f"contracts/{c.id}", message)], message)


def signed(c: Contract, *, by: str, now: dt.datetime, today: dt.date, owner_id: str,
           team_id: str) -> Contract | None:
    """The signed contract; None when it is signed already (signing again changes nothing).
    `today` is the business's day of `now`."""
    if c.state == "signed":
        return None
    if c.state != "draft":
        raise _refused(c, f"a {c.state} contract cannot be signed")
    if c.end < today:
        raise _refused(c, f"its term ended on {c.end.isoformat()}: draft a new contract")
    return replace(c, state="signed", signed_at=now, signed_by=by, owner_id=owner_id, team_id=team_id)


def terminated(c: Contract, *, reason: str, now: dt.datetime, today: dt.date) -> Contract:
    state = c.state_on(today)
    if state != "signed":
        raise _refused(c, f"only a signed contract can be terminated; this one is {state}")
    return replace(c, state="terminated", terminated_at=now, termination_reason=reason)


def following_owner(c: Contract, owner_id: str, team_id: str, as_of: dt.datetime) -> Contract | None:
    """A live contract (draft or signed) goes with its customer to the new
    owner and team, so their expiring list shows it and its renewal
    opportunity is theirs; a terminated one keeps who held it. None when
    nothing moves (already theirs, or `as_of` older than the last move)."""
    if c.state not in ("draft", "signed") or (c.owner_since is not None and as_of <= c.owner_since):
        return None
    if (c.owner_id, c.team_id) == (owner_id, team_id):
        return None
    return replace(c, owner_id=owner_id, team_id=team_id, owner_since=as_of)


def has_personal_data(c: Contract) -> bool:
    return bool(c.title or c.termination_reason)


def erased(c: Contract, now: dt.datetime) -> Contract:
    return replace(c, title="", termination_reason="", erased_at=c.erased_at or now)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has fewer days."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def renewed(c: Contract, today: dt.date) -> Contract | None:
    """An auto-renewing signed contract whose end has passed, rolled into as
    many new terms as it takes to cover today; None when nothing to renew."""
    if c.state != "signed" or not c.renewal.auto_renew or c.end >= today:
        return None
    start, end, count = c.start, c.end, c.renewal_count
    while end < today:
        start = end + dt.timedelta(days=1)
        end = add_months(start, c.renewal.renewal_months) - dt.timedelta(days=1)
        count += 1
    return replace(c, start=start, end=end, renewal_count=count)


def days_left(c: Contract, today: dt.date) -> int:
    return (c.end - today).days


def expiring_within(c: Contract, today: dt.date, window_days: int) -> bool:
    """Signed, not over, and its last day within `window_days` of today."""
    return c.state_on(today) == "signed" and 0 <= days_left(c, today) <= window_days


def reminder_due(c: Contract, today: dt.date, window_days: int) -> bool:
    """Expiring soon and not yet reminded for this end date."""
    return expiring_within(c, today, window_days) and c.reminded_end != c.end


def reminded(c: Contract, renewal_opportunity_id: str) -> Contract:
    return replace(c, reminded_end=c.end, renewal_opportunity_id=renewal_opportunity_id)


def months_between(first: dt.date, last: dt.date) -> list[str]:
    """"YYYY-MM" of every month from `first`'s to `last`'s."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def end_month(c: Contract) -> str:
    return f"{c.end.year:04d}-{c.end.month:02d}"

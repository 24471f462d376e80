"""Scheduled-visit rules: pure Python, no I/O, no transport.

A visit is planned for a customer by a rep at a time, for a purpose, maybe
recurring every N days. It is due once its time is reached and overdue while
still open after that. Completing one records the interaction (see
interactions.py) and plans the next occurrence of a recurring one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crm_kit.clock import to_ms
from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, PermissionDenied
from crm_kit.ids import id_pattern

from crm_customer.customers.model import editing, access
from crm_kit.validation import clean_text, collect
from crm_customer.customers.model.record import Customer

STATES = ("scheduled", "completed", "cancelled")
MAX_PURPOSE = 500
MAX_RECURRENCE_DAYS = 3650
# A visit may be planned up to a year back (noting a plan made on paper) and five years ahead.
MAX_PAST = timedelta(days=366)
MAX_AHEAD = timedelta(days=5 * 366)
VISIT_ID = id_pattern("vis")  # random ids, derived ones (24 hex digits) and older ObjectId-style ones


@dataclass(frozen=True)
class VisitDraft:
    customer_id: str
    scheduled_at: datetime
    purpose: str
    recurrence_days: int = 0  # 0: once
    rep_id: str = ""  # "" = decided by who asks (see rep_for_visit)


@dataclass(frozen=True)
class Visit:
    id: str
    customer_id: str
    rep_id: str
    scheduled_at: datetime
    purpose: str
    recurrence_days: int
    state: str
    created_at: datetime
    created_by: str
    closed_at: datetime | None = None  # completed or cancelled
    interaction_sequence: int = 0  # the entry recorded on completion
    next_visit_id: str = ""  # the next occurrence planned on completion

    def is_overdue(self, now: datetime) -> bool:
        return self.state == "scheduled" and self.scheduled_at < now


# --- validation -------------------------------------------------------------

def validate_visit_id(value: str, field_name: str = "id") -> str:
    if not isinstance(value, str) or not VISIT_ID.match(value):
        raise InvalidArgument(FieldViolation(field_name, "is not a visit id"))
    return value


def validate_scheduled_at(value: datetime | None, now: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidArgument(FieldViolation("scheduled_at", "is required, with a UTC offset"))
    if not now - MAX_PAST <= value <= now + MAX_AHEAD:
        raise InvalidArgument(FieldViolation("scheduled_at", "must be within a year back and five years ahead"))
    return to_ms(value)


def validate_recurrence(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_RECURRENCE_DAYS:
        raise InvalidArgument(FieldViolation("recurrence_days",
                                             f"must be 0 (once) or a number of days up to {MAX_RECURRENCE_DAYS}"))
    return days


def build_draft(*, customer_id: str, scheduled_at: datetime | None, purpose: str, recurrence_days: int,
                rep_id: str, now: datetime) -> VisitDraft:
    """Validate every field, reporting all problems at once."""
    violations: list[FieldViolation] = []
    if not customer_id:
        violations.append(FieldViolation("customer_id", "is required"))
    draft = VisitDraft(
        customer_id=collect(violations, editing.validate_customer_id, customer_id, "customer_id") or "",
        scheduled_at=collect(violations, validate_scheduled_at, scheduled_at, now),
        purpose=collect(violations, clean_text, purpose, "purpose", MAX_PURPOSE, True, True) or "",
        recurrence_days=collect(violations, validate_recurrence, recurrence_days) or 0,
        rep_id=collect(violations, clean_text, rep_id, "rep_id", editing.MAX_OWNER_ID) or "",
    )
    if violations:
        raise InvalidArgument(violations)
    return draft


# --- ids ----------------------------------------------------------------------

def derived_visit_id(*parts: str) -> str:
    """A visit id fixed by what it is for (a caller's request id, "the next
    occurrence of visit X"), so repeating the step finds the same visit."""
    return "vis_" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def new_visit(draft: VisitDraft, *, visit_id: str, rep_id: str, created_by: str, now: datetime) -> Visit:
    return Visit(id=visit_id, customer_id=draft.customer_id, rep_id=rep_id, scheduled_at=draft.scheduled_at,
                 purpose=draft.purpose, recurrence_days=draft.recurrence_days, state="scheduled", created_at=now,
                 created_by=created_by)


def same_plan(a: Visit, b: Visit) -> bool:
    """Whether a retried schedule asks for the visit already made."""
    return (a.customer_id, a.rep_id, a.scheduled_at, a.purpose, a.recurrence_days) == \
        (b.customer_id, b.rep_id, b.scheduled_at, b.purpose, b.recurrence_days)


def export_json(v: Visit) -> dict:
    """A visit as a customer's data export shows it (JSON-ready)."""
    return {
        "id": v.id, "rep_id": v.rep_id, "scheduled_at": v.scheduled_at.isoformat(), "purpose": v.purpose,
        "recurrence_days": v.recurrence_days, "state": v.state, "created_at": v.created_at.isoformat(),
        "created_by": v.created_by, "closed_at": v.closed_at.isoformat() if v.closed_at else None,
        "interaction_sequence": v.interaction_sequence, "next_visit_id": v.next_visit_id,
    }


def erased(v: Visit, now: datetime) -> Visit:
    """What remains of a visit of an erased customer: no purpose text, and
    cancelled if it was still open."""
    if v.state == "scheduled":
        return replace(v, purpose="", state="cancelled", closed_at=now)
    return replace(v, purpose="")


# --- recurrence -------------------------------------------------------------------

def next_occurrence(scheduled_at: datetime, every_days: int, done_at: datetime) -> datetime:
    """The first time on the visit's cadence (scheduled_at + k × every_days,
    k ≥ 1) after it was done: a visit done late does not plan the next one in
    the past, and one done early keeps the cadence."""
    period = timedelta(days=every_days)
    k = max(1, (done_at - scheduled_at) // period + 1)
    return scheduled_at + k * period


def completed(visit: Visit, *, done_at: datetime, interaction_sequence: int, next_visit_id: str) -> Visit:
    return replace(visit, state="completed", closed_at=done_at, interaction_sequence=interaction_sequence,
                   next_visit_id=next_visit_id)


def next_visit(visit: Visit, *, done_at: datetime, created_by: str, now: datetime) -> Visit | None:
    if not visit.recurrence_days:
        return None
    return replace(visit, id=derived_visit_id("next", visit.id),
                   scheduled_at=next_occurrence(visit.scheduled_at, visit.recurrence_days, done_at),
                   state="scheduled", created_at=now, created_by=created_by, closed_at=None,
                   interaction_sequence=0, next_visit_id="")


# --- a rep's due list -------------------------------------------------------------

def due_page(open_visits: dict[str, datetime], *, due_before: datetime | None,
             after: tuple[datetime, str] | None, limit: int) -> tuple[list[str], bool]:
    """Ids of open visits in time order (then id), before `due_before` when
    given, after the cursor; and whether more follow."""
    ordered = sorted((at, vid) for vid, at in open_visits.items()
                     if (due_before is None or at < due_before) and (after is None or (at, vid) > after))
    return [vid for _, vid in ordered[:limit]], len(ordered) > limit


# --- who may do what --------------------------------------------------------------

def _sees_all_visits(principal: Principal, scope: str) -> bool:
    return principal.role in ("admin", "manager") or \
        (principal.role == "integration" and scope in principal.scopes)


def rep_for_visit(principal: Principal, requested: str, customer: Customer) -> str:
    """Reps plan their own visits; managers, admins and integrations may plan
    for any rep, by default for the customer's owner."""
    if principal.role == "rep":
        if requested and requested != principal.subject:
            raise PermissionDenied("reps plan only their own visits")
        return principal.subject
    return requested or customer.owner_id or principal.subject


def rep_to_list(principal: Principal, requested: str) -> str:
    requested = clean_text(requested, "rep_id", editing.MAX_OWNER_ID)
    if principal.role == "rep":
        if requested and requested != principal.subject:
            raise PermissionDenied("reps list only their own visits")
        return principal.subject
    if principal.role in ("admin", "manager"):
        return requested or principal.subject
    if _sees_all_visits(principal, "customers:read"):
        if not requested:
            raise InvalidArgument(FieldViolation("rep_id", "is required"))
        return requested
    raise PermissionDenied("your role has no visits to list")


# A visit belongs to its customer: who may see the customer in full sees its
# visits, who may change the customer changes them, always as the customer is
# at the time of the call (after a transfer the old rep sees nothing). A rep's
# list names whose list is read; each visit on it still needs that right.

def may_see(principal: Principal, customer: Customer) -> bool:
    return access.view_for(principal, customer) == access.FULL


def require_change_right(principal: Principal, customer: Customer) -> None:
    if not access.can_write(principal, customer):
        raise PermissionDenied("you may not change this visit")


def following_owner(visit: Visit, owner_id: str) -> Visit | None:
    """The open visit handed to the customer's new owner, or None when it
    stays. Sales teams plan a visit to a customer, not to a rep: whoever owns
    the customer now makes the visit, so its open visits follow it on a
    transfer, hand-over or claim. A customer released to the pool keeps them
    (hidden from the old rep) until someone claims it."""
    if visit.state != "scheduled" or not owner_id or visit.rep_id == owner_id:
        return None
    return replace(visit, rep_id=owner_id)

"""Interaction log rules: pure Python, no I/O, no transport.

What an interaction is (channel, direction, who, when, summary, quoted
lines with prices, commitments, next follow-up), how one is validated, how
money adds up, which entry counts as "the last quote", how the log is cut
into buckets, and who may read and record it. The store and the service call
these; unit tests exercise them directly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone

from crm_kit.auth import Principal
from crm_kit.clock import to_ms
from crm_kit.errors import FieldViolation, InvalidArgument, PermissionDenied
from crm_kit.money import MAX_MINOR_UNITS, Money, validate_money
from crm_kit.validation import choice, clean_text, collect

from crm_customer.customers.model import access, editing
from crm_customer.customers.model.record import Customer

CHANNELS = ("call", "visit", "email", "sms", "chat", "meeting", "quote")
DIRECTIONS = ("inbound", "outbound")
MAX_SUMMARY = 4000
MAX_ITEM = 200
MAX_QUOTE_LINES = 50
MAX_QUANTITY = 1_000_000
MAX_COMMITMENTS = 10
MAX_COMMITMENT = 500
MAX_REQUEST_ID = 128
MAX_REP_ID = editing.MAX_OWNER_ID
# Clocks drift: an interaction "now" on the caller's clock may be a little ahead of ours.
FUTURE_SKEW = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
MAX_FOLLOW_UP_YEARS = 10
# Entries per sealed bucket: sequence numbers 1..50 make bucket 0, 51..100 bucket 1, ...
# 50 entries of at most ~25 kB stay far below the 16 MB document limit.
BUCKET_SIZE = 50


@dataclass(frozen=True)
class QuoteLine:
    item: str
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return Money(self.quantity * self.unit_price.minor_units, self.unit_price.currency_code)


@dataclass(frozen=True)
class InteractionDraft:
    """Validated input for a new entry; `occurred_at` None means "now"."""

    channel: str
    direction: str
    summary: str
    occurred_at: datetime | None = None
    quote_lines: tuple[QuoteLine, ...] = ()
    commitments: tuple[str, ...] = ()
    next_follow_up: date | None = None
    rep_id: str = ""


@dataclass(frozen=True)
class Interaction:
    customer_id: str
    sequence: int  # per customer, from 1, in recording order
    channel: str
    direction: str
    rep_id: str  # who talked to the customer
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str  # who wrote it down (a manager may record for a rep)
    summary: str
    quote_lines: tuple[QuoteLine, ...] = ()
    commitments: tuple[str, ...] = ()
    next_follow_up: date | None = None

    @property
    def quote_total(self) -> Money | None:
        return quote_total(self.quote_lines)


@dataclass(frozen=True)
class InteractionSummary:
    """What a rep needs before answering: the last quote, the last promise,
    the follow-up date agreed last and when we last spoke."""

    customer_id: str
    last_quote: Interaction | None = None
    last_commitment: Interaction | None = None
    last_follow_up: Interaction | None = None
    last_contact_at: datetime | None = None
    recent: tuple[Interaction, ...] = ()  # the newest few, newest first, when asked for


# --- validation -------------------------------------------------------------









def validate_quote_line(line: QuoteLine, field_name: str) -> QuoteLine:
    violations: list[FieldViolation] = []
    item = collect(violations, clean_text, line.item, f"{field_name}.item", MAX_ITEM, True)
    qty = line.quantity
    if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QUANTITY:
        violations.append(FieldViolation(f"{field_name}.quantity", f"must be a whole number from 1 to {MAX_QUANTITY}"))
    price = collect(violations, validate_money, line.unit_price, f"{field_name}.unit_price")
    if violations:
        raise InvalidArgument(violations)
    if line.quantity * price.minor_units > MAX_MINOR_UNITS:
        raise InvalidArgument(FieldViolation(field_name, f"quantity × unit price exceeds {MAX_MINOR_UNITS} minor units"))
    return QuoteLine(item, qty, price)


def validate_quote_lines(lines) -> tuple[QuoteLine, ...]:
    lines = list(lines)
    if len(lines) > MAX_QUOTE_LINES:
        raise InvalidArgument(FieldViolation("quote_lines", f"at most {MAX_QUOTE_LINES} lines"))
    violations: list[FieldViolation] = []
    valid = [collect(violations, validate_quote_line, line, f"quote_lines[{i}]") for i, line in enumerate(lines)]
    if violations:
        raise InvalidArgument(violations)
    if len({line.unit_price.currency_code for line in valid}) > 1:
        raise InvalidArgument(FieldViolation("quote_lines", "all lines of a quote must be in one currency"))
    if sum(line.total.minor_units for line in valid) > MAX_MINOR_UNITS:
        raise InvalidArgument(FieldViolation("quote_lines", f"the quote total exceeds {MAX_MINOR_UNITS} minor units"))
    return tuple(valid)


def quote_total(lines: tuple[QuoteLine, ...]) -> Money | None:
    if not lines:
        return None
    return Money(sum(line.total.minor_units for line in lines), lines[0].unit_price.currency_code)


def validate_commitments(raw) -> tuple[str, ...]:
    raw = list(raw)
    if len(raw) > MAX_COMMITMENTS:
        raise InvalidArgument(FieldViolation("commitments", f"at most {MAX_COMMITMENTS} commitments"))
    violations: list[FieldViolation] = []
    out = [collect(violations, clean_text, text, f"commitments[{i}]", MAX_COMMITMENT, True, True)
           for i, text in enumerate(raw)]
    if violations:
        raise InvalidArgument(violations)
    return tuple(out)


def validate_occurred_at(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidArgument(FieldViolation("occurred_at", "must be a time with a UTC offset"))
    if value < EARLIEST or value > now + FUTURE_SKEW:
        raise InvalidArgument(FieldViolation("occurred_at", "must be between 2000-01-01 and now"))
    return to_ms(value)


def validate_date(value, field_name: str) -> date | None:
    """None (no date), a date, or (year, month, day) that names a real day."""
    if value is None or isinstance(value, date):
        return value
    try:
        year, month, day = value
        return date(year, month, day)
    except (TypeError, ValueError):
        raise InvalidArgument(FieldViolation(field_name, "is not a calendar date")) from None


def validate_follow_up(value, now: datetime) -> date | None:
    day = validate_date(value, "next_follow_up")
    if day is not None and not EARLIEST.date() <= day <= date(now.year + MAX_FOLLOW_UP_YEARS, 12, 31):
        raise InvalidArgument(FieldViolation("next_follow_up",
                                             f"must be between 2000-01-01 and {MAX_FOLLOW_UP_YEARS} years from now"))
    return day


def validate_request_id(value: str) -> str:
    """A caller's retry key: printable ASCII, so it is safe in a document `_id`."""
    if not isinstance(value, str) or len(value) > MAX_REQUEST_ID or not all(33 <= ord(ch) < 127 for ch in value):
        raise InvalidArgument(FieldViolation("request_id", f"at most {MAX_REQUEST_ID} printable ASCII characters"))
    return value


def build_draft(*, channel: str, direction: str, summary: str, occurred_at: datetime | None, quote_lines=(),
                commitments=(), next_follow_up=None, rep_id: str = "", now: datetime) -> InteractionDraft:
    """Validate every field, reporting all problems at once."""
    violations: list[FieldViolation] = []
    draft = InteractionDraft(
        channel=collect(violations, choice, channel, CHANNELS, "channel") or "",
        direction=collect(violations, choice, direction, DIRECTIONS, "direction") or "",
        summary=collect(violations, clean_text, summary, "summary", MAX_SUMMARY, True, True) or "",
        occurred_at=collect(violations, validate_occurred_at, occurred_at, now),
        quote_lines=collect(violations, validate_quote_lines, quote_lines) or (),
        commitments=collect(violations, validate_commitments, commitments) or (),
        next_follow_up=collect(violations, validate_follow_up, next_follow_up, now),
        rep_id=collect(violations, clean_text, rep_id, "rep_id", MAX_REP_ID) or "",
    )
    if violations:
        raise InvalidArgument(violations)
    return draft


def fingerprint(draft: InteractionDraft) -> str:
    """Identifies the content of a request, so a retry with the same request
    id is recognised and a reuse of the id for other content is refused."""
    data = asdict(draft)
    data["occurred_at"] = draft.occurred_at.isoformat() if draft.occurred_at else None
    data["next_follow_up"] = draft.next_follow_up.isoformat() if draft.next_follow_up else None
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def new_interaction(draft: InteractionDraft, *, customer_id: str, sequence: int, rep_id: str, recorded_by: str,
                    now: datetime) -> Interaction:
    return Interaction(
        customer_id=customer_id, sequence=sequence, channel=draft.channel, direction=draft.direction,
        rep_id=rep_id, occurred_at=draft.occurred_at or now, recorded_at=now, recorded_by=recorded_by,
        summary=draft.summary, quote_lines=draft.quote_lines, commitments=draft.commitments,
        next_follow_up=draft.next_follow_up)


def money_json(m: Money) -> dict:
    return {"minor_units": m.minor_units, "currency_code": m.currency_code}


def export_json(i: Interaction) -> dict:
    """An entry as a customer's data export shows it (JSON-ready: times as
    ISO strings, money as minor units plus currency)."""
    total = i.quote_total
    return {
        "sequence": i.sequence, "channel": i.channel, "direction": i.direction, "rep_id": i.rep_id,
        "occurred_at": i.occurred_at.isoformat(), "recorded_at": i.recorded_at.isoformat(),
        "recorded_by": i.recorded_by, "summary": i.summary,
        "quote_lines": [{"item": q.item, "quantity": q.quantity, "unit_price": money_json(q.unit_price)}
                        for q in i.quote_lines],
        "quote_total": money_json(total) if total else None,
        "commitments": list(i.commitments),
        "next_follow_up": i.next_follow_up.isoformat() if i.next_follow_up else None,
    }


# --- "the last quote" ---------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    """Which entry holds a summary slot."""

    sequence: int
    occurred_at: datetime


@dataclass(frozen=True)
class LogState:
    """Where the summary slots point as of one entry. Each entry stores the
    state as of itself (folded from the previous entry's), so the newest
    entry alone answers "what did we tell them last"."""

    last_quote: Slot | None = None
    last_commitment: Slot | None = None
    last_follow_up: Slot | None = None
    last_contact_at: datetime | None = None


def _later(entry: Interaction, slot: Slot | None) -> bool:
    """Later by when it happened (a call noted down afterwards does not
    displace a newer one); equal times go by recording order."""
    return slot is None or (entry.occurred_at, entry.sequence) > (slot.occurred_at, slot.sequence)


def advance(state: LogState, entry: Interaction) -> LogState:
    """The state after `entry`."""
    here = Slot(entry.sequence, entry.occurred_at)
    return LogState(
        last_quote=here if entry.quote_lines and _later(entry, state.last_quote) else state.last_quote,
        last_commitment=here if entry.commitments and _later(entry, state.last_commitment) else state.last_commitment,
        last_follow_up=here if entry.next_follow_up and _later(entry, state.last_follow_up) else state.last_follow_up,
        last_contact_at=max(filter(None, (state.last_contact_at, entry.occurred_at))),
    )


# --- buckets and pages ----------------------------------------------------------

def bucket_of(sequence: int) -> int:
    return (sequence - 1) // BUCKET_SIZE


def bucket_range(bucket: int) -> range:
    """The sequence numbers a bucket holds."""
    return range(bucket * BUCKET_SIZE + 1, (bucket + 1) * BUCKET_SIZE + 1)


def seals_bucket(sequence: int) -> bool:
    """The entry that fills its bucket: once it is written the bucket never changes."""
    return sequence % BUCKET_SIZE == 0


# --- who may do what -------------------------------------------------------------

def require_read_right(principal: Principal, customer: Customer) -> None:
    """Whoever sees the customer's contact details sees what was said to them.
    A pool customer's log waits for whoever claims it."""
    if access.view_for(principal, customer) not in (access.FULL, access.CONTACT):
        raise PermissionDenied("claim this customer to see its interactions")


def require_record_right(principal: Principal, customer: Customer) -> None:
    if not access.can_write(principal, customer):
        raise PermissionDenied("you may not record interactions for this customer")


def rep_for_interaction(principal: Principal, requested: str) -> str:
    """Reps record their own conversations; managers, admins and integrations may name the rep."""
    if not requested or requested == principal.subject:
        return principal.subject
    if principal.role == "rep":
        raise PermissionDenied("reps record only their own interactions")
    return requested

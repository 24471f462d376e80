"""Opportunities (the pipeline): pure rules, no I/O.

Stages come from configuration, in pipeline order, each with a win
probability in whole percent (`SALES_OPPORTUNITY_STAGES="qualify:10,
propose:40,negotiate:70"`). Three terminal outcomes follow them: won
(probability 100), lost and abandoned (0); closing needs a reason, and a
closed opportunity moves no more.

Arithmetic is integer only:
- weighted amount = amount × probability / 100, rounded down to the minor
  unit. A total (per rep, team, month) is Σ(amount × probability) / 100
  rounded down once, so it is never off by the sum of per-item roundings;
  it may exceed the sum of the rounded items by less than one minor unit
  per item.
- conversion from stage i to stage i+1 (the last open stage converts to
  won) = reached(i+1) / reached(i) in basis points, rounded down, where
  reached(i) counts the opportunities whose furthest stage (from their
  stage history) is i or later, won counting as past every stage. None
  when no opportunity reached stage i.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from crm_kit.clock import local_date
from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, PreconditionViolation
from crm_kit.money import MAX_MINOR_UNITS, Money, validate_money
from crm_kit.settings import SettingsError
from crm_kit.validation import clean_text, collect

WON, LOST, ABANDONED = "won", "lost", "abandoned"
TERMINAL = (WON, LOST, ABANDONED)
TERMINAL_PROBABILITY = {WON: 100, LOST: 0, ABANDONED: 0}
BASIS_POINTS = 10_000
DEFAULT_STAGES = "qualify:10,propose:40,negotiate:70"
TITLE_MAX, REASON_MAX = 200, 500
# An expected close this far back or ahead is a typing error, not a plan.
CLOSE_PAST_DAYS, CLOSE_FUTURE_YEARS = 366, 10
_STAGE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Stage:
    name: str
    probability: int  # win probability, whole percent


@dataclass(frozen=True)
class StageSet:
    """The configured open stages, in pipeline order."""
    stages: tuple[Stage, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @property
    def first(self) -> str:
        return self.stages[0].name

    def probability(self, stage: str) -> int:
        if stage in TERMINAL_PROBABILITY:
            return TERMINAL_PROBABILITY[stage]
        for s in self.stages:
            if s.name == stage:
                return s.probability
        return 0  # a stage dropped from the configuration since: counts for nothing

    def index(self, stage: str) -> int | None:
        """Position in the pipeline; won is past every stage; None otherwise."""
        if stage == WON:
            return len(self.stages)
        names = self.names
        return names.index(stage) if stage in names else None


def parse_stages(raw: str, variable: str = "SALES_OPPORTUNITY_STAGES") -> StageSet:
    """"qualify:10,propose:40" -> the stage set. Names are lowercase
    letters, digits and '_' (1..32, a letter first), unique, none of won /
    lost / abandoned; probabilities whole percent from 0 to 99."""
    stages: list[Stage] = []
    for part in raw.split(","):
        name, sep, probability = part.strip().partition(":")
        name, probability = name.strip(), probability.strip()
        if not sep or not _STAGE_NAME.fullmatch(name) or not re.fullmatch(r"\d{1,2}", probability):
            raise SettingsError(f"environment variable {variable}: {part.strip()!r} is not STAGE:PERCENT "
                                "(a lowercase name and a win probability from 0 to 99, e.g. propose:40)")
        if name in TERMINAL:
            raise SettingsError(f"environment variable {variable}: {name} is a closing outcome, not a stage")
        stages.append(Stage(name, int(probability)))
    if len({s.name for s in stages}) != len(stages):
        raise SettingsError(f"environment variable {variable} names a stage twice")
    return StageSet(tuple(stages))


@dataclass(frozen=True)
class StageChange:
    stage: str
    at: dt.datetime
    by: str
    reason: str = ""


@dataclass(frozen=True)
class Opportunity:
    id: str
    customer_id: str
    owner_id: str       # "" while the customer is in the pool
    team_id: str
    title: str
    amount: Money
    expected_close: dt.date
    stage: str
    history: tuple[StageChange, ...]
    revision: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    # When the owner / team last changed: a list entry stands only if it came then (books).
    owner_since: dt.datetime
    team_since: dt.datetime
    # The newest ownership event applied (or the creation): an older event redelivered is ignored.
    owner_as_of: dt.datetime
    dedupe_key: str = ""
    close_reason: str = field(default="")

    @property
    def is_open(self) -> bool:
        return self.stage not in TERMINAL

    @property
    def closed_at(self) -> dt.datetime | None:
        return None if self.is_open else self.history[-1].at


def weighted(amount: Money, probability: int) -> Money:
    """amount × probability / 100, rounded down to the minor unit."""
    return Money(amount.minor_units * probability // 100, amount.currency_code)


# --- input --------------------------------------------------------------------

def check_amount(amount: Money | None, violations: list[FieldViolation]) -> None:
    if amount is None:
        violations.append(FieldViolation("amount", "is required"))
        return
    if collect(violations, validate_money, amount, "amount") is not None and amount.minor_units == 0:
        violations.append(FieldViolation("amount.minor_units", "must be more than zero"))


def check_close_date(value: dt.date | None, today: dt.date, violations: list[FieldViolation]) -> None:
    if value is None:
        violations.append(FieldViolation("expected_close", "is required"))
    elif not today - dt.timedelta(days=CLOSE_PAST_DAYS) <= value <= today.replace(
            year=today.year + CLOSE_FUTURE_YEARS, day=min(today.day, 28)):
        violations.append(FieldViolation("expected_close", f"must be within {CLOSE_PAST_DAYS} days back and "
                                                           f"{CLOSE_FUTURE_YEARS} years ahead"))


@dataclass(frozen=True)
class OpportunityDraft:
    customer_id: str
    title: str
    amount: Money
    expected_close: dt.date
    stage: str
    owner_id: str = ""  # "": the customer's owner


def build_draft(*, customer_id: str, title: str, amount: Money | None, expected_close: dt.date | None,
                stage: str, owner_id: str, stages: StageSet, today: dt.date) -> OpportunityDraft:
    violations: list[FieldViolation] = []
    if not customer_id:
        violations.append(FieldViolation("customer_id", "is required"))
    title = collect(violations, clean_text, title, "title", TITLE_MAX, True)
    check_amount(amount, violations)
    check_close_date(expected_close, today, violations)
    stage = stage or stages.first
    if stage not in stages.names:
        violations.append(FieldViolation("stage", f"must be one of {', '.join(stages.names)} (an opportunity "
                                                  "opens in a stage; closing it is a stage move)"))
    owner_id = collect(violations, clean_text, owner_id or "", "owner_id", 128)
    if violations:
        raise InvalidArgument(violations)
    return OpportunityDraft(customer_id, title, amount, expected_close, stage, owner_id)


def new_opportunity(draft: OpportunityDraft, *, opportunity_id: str, owner_id: str, team_id: str, by: str,
                    now: dt.datetime, owner_read_at: dt.datetime | None = None, dedupe_key: str = "") -> Opportunity:
    """`owner_read_at`: when the customer's owner was read; an ownership
    change after it (an event arriving later) still moves the opportunity."""
    return Opportunity(
        id=opportunity_id, customer_id=draft.customer_id, owner_id=owner_id, team_id=team_id, title=draft.title,
        amount=draft.amount, expected_close=draft.expected_close, stage=draft.stage,
        history=(StageChange(draft.stage, now, by),), revision=1, created_at=now, created_by=by, updated_at=now,
        owner_since=now, team_since=now, owner_as_of=owner_read_at or now, dedupe_key=dedupe_key)


@dataclass(frozen=True)
class OpportunityChanges:
    """What an update sets; None leaves it."""
    title: str | None = None
    amount: Money | None = None
    expected_close: dt.date | None = None
    owner_id: str | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in (self.title, self.amount, self.expected_close, self.owner_id))


def clean_changes(changes: OpportunityChanges, today: dt.date) -> OpportunityChanges:
    violations: list[FieldViolation] = []
    title = collect(violations, clean_text, changes.title, "title", TITLE_MAX, True) \
        if changes.title is not None else None
    if changes.amount is not None:
        check_amount(changes.amount, violations)
    if changes.expected_close is not None:
        check_close_date(changes.expected_close, today, violations)
    owner_id = collect(violations, clean_text, changes.owner_id, "owner_id", 128, True) \
        if changes.owner_id is not None else None
    if changes.is_empty():
        violations.append(FieldViolation("update", "names nothing to change"))
    if violations:
        raise InvalidArgument(violations)
    return replace(changes, title=title, owner_id=owner_id)


def closed_error(opp: Opportunity) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation("CLOSED", f"opportunities/{opp.id}",
                                                     f"the opportunity was closed as {opp.stage}")],
                              "a closed opportunity does not change")


def apply_changes(current: Opportunity, changes: OpportunityChanges, now: dt.datetime) -> Opportunity:
    if not current.is_open:
        raise closed_error(current)
    updated = replace(
        current,
        title=current.title if changes.title is None else changes.title,
        amount=current.amount if changes.amount is None else changes.amount,
        expected_close=current.expected_close if changes.expected_close is None else changes.expected_close)
    if changes.owner_id is not None and changes.owner_id != current.owner_id:
        updated = replace(updated, owner_id=changes.owner_id, owner_since=now)
    return updated


def move_stage(current: Opportunity, stage: str, reason: str, stages: StageSet, by: str,
               now: dt.datetime) -> Opportunity | None:
    """The opportunity in `stage` (an open stage, or won / lost / abandoned
    with a reason); None when it is there already."""
    violations: list[FieldViolation] = []
    if stage not in stages.names and stage not in TERMINAL:
        violations.append(FieldViolation("stage", f"must be one of {', '.join(stages.names + TERMINAL)}"))
    reason = collect(violations, clean_text, reason or "", "reason", REASON_MAX)
    if stage in TERMINAL and not reason:
        violations.append(FieldViolation("reason", f"is required to close an opportunity as {stage}"))
    if violations:
        raise InvalidArgument(violations)
    if not current.is_open:
        if current.stage == stage:
            return None  # a repeat of the closing call
        raise closed_error(current)
    if stage == current.stage:
        return None
    return replace(current, stage=stage, history=current.history + (StageChange(stage, now, by, reason),),
                   close_reason=reason if stage in TERMINAL else "")


def following_owner(current: Opportunity, owner_id: str, team_id: str, as_of: dt.datetime,
                    now: dt.datetime) -> Opportunity | None:
    """The open opportunity handed to the customer's new owner; None when
    closed, already there, or the event is older than the last one applied."""
    if not current.is_open or as_of <= current.owner_as_of:
        return None
    if (current.owner_id, current.team_id) == (owner_id, team_id):
        return replace(current, owner_as_of=as_of)
    return replace(current, owner_id=owner_id, team_id=team_id, owner_as_of=as_of,
                   owner_since=now if owner_id != current.owner_id else current.owner_since,
                   team_since=now if team_id != current.team_id else current.team_since)


def erased(current: Opportunity) -> Opportunity | None:
    """Without the free text that may name the person (title, reasons);
    the money, dates, stages and who moved them stay. None when stripped."""
    stripped = replace(current, title="", close_reason="",
                       history=tuple(replace(c, reason="") for c in current.history))
    return None if stripped == current else stripped


# --- forecast and funnel ---------------------------------------------------------

def month_of(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def parse_month(raw: str, field_name: str) -> str:
    """"2026-03" (empty: no bound)."""
    if not raw:
        return ""
    m = _MONTH.fullmatch(raw)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidArgument(FieldViolation(field_name, "must be a month as YYYY-MM, e.g. 2026-03"))
    return raw


def forecast_month(opp: Opportunity, zone: dt.tzinfo) -> str:
    """Open ones by when they are expected to close, won ones by the business day they were won."""
    return month_of(local_date(opp.closed_at, zone) if opp.stage == WON else opp.expected_close)


@dataclass(frozen=True)
class ForecastRow:
    month: str
    group: str          # the owner or the team
    currency: str
    count: int
    amount: Money       # Σ amount
    weighted: Money     # Σ(amount × probability) / 100, rounded down once
    won: Money          # Σ amount of the won ones


def forecast(opps: list[Opportunity], stages: StageSet, by: str, from_month: str = "",
             to_month: str = "", *, zone: dt.tzinfo) -> list[ForecastRow]:
    """Open and won opportunities per (month, owner or team, currency);
    lost and abandoned ones forecast nothing. Rows in month, group,
    currency order."""
    sums: dict[tuple[str, str, str], list[int]] = {}
    for opp in opps:
        if opp.stage in (LOST, ABANDONED):
            continue
        month = forecast_month(opp, zone)
        if from_month and month < from_month or to_month and month > to_month:
            continue
        group = opp.owner_id if by == "owner" else opp.team_id
        row = sums.setdefault((month, group, opp.amount.currency_code), [0, 0, 0, 0])
        row[0] += 1
        row[1] += opp.amount.minor_units
        row[2] += opp.amount.minor_units * stages.probability(opp.stage)
        row[3] += opp.amount.minor_units if opp.stage == WON else 0
    _check_exact(total for _n, total, _w, _won in sums.values())  # weighted and won are at most the total
    return [ForecastRow(month, group, code, n, Money(total, code), Money(weighted_sum // 100, code),
                        Money(won, code))
            for (month, group, code), (n, total, weighted_sum, won) in sorted(sums.items())]


def _check_exact(totals) -> None:
    """Every amount answered stays within MAX_MINOR_UNITS, as every amount
    entered does (so a client reading JSON numbers as doubles reads it
    exactly, and it fits the int64 field): a sum beyond it is refused."""
    if any(total > MAX_MINOR_UNITS for total in totals):
        raise FailedPrecondition([PreconditionViolation("TOO_LARGE", "opportunities",
                                                        f"a sum above {MAX_MINOR_UNITS} minor units")],
                                 "the amounts add up to more than one answer holds exactly: name an owner or "
                                 "a team (or, for a forecast, fewer months)")


@dataclass(frozen=True)
class FunnelStage:
    stage: str
    probability: int
    count: int                   # opportunities in the stage now
    amounts: tuple[Money, ...]   # their amounts, one per currency (sorted by code)
    reached: int                 # opportunities that ever got this far (open stages and won)
    conversion_bp: int | None    # reached(next) / reached(this), rounded down; None for the outcomes


def furthest(opp: Opportunity, stages: StageSet) -> int | None:
    positions = [i for change in opp.history if (i := stages.index(change.stage)) is not None]
    return max(positions) if positions else None


def funnel(opps: list[Opportunity], stages: StageSet) -> list[FunnelStage]:
    """One row per open stage in pipeline order, then won, lost, abandoned."""
    order = stages.names + TERMINAL
    counts = {name: 0 for name in order}
    amounts: dict[str, dict[str, int]] = {name: {} for name in order}
    reached = [0] * (len(stages.stages) + 1)  # the open stages, then won
    for opp in opps:
        if opp.stage in counts:
            counts[opp.stage] += 1
            per_currency = amounts[opp.stage]
            per_currency[opp.amount.currency_code] = per_currency.get(opp.amount.currency_code, 0) + \
                opp.amount.minor_units
        top = furthest(opp, stages)
        for i in range(0, (top + 1) if top is not None else 0):
            reached[i] += 1
    _check_exact(v for per_currency in amounts.values() for v in per_currency.values())
    rows = []
    for i, name in enumerate(order):
        position = stages.index(name)
        conversion = None
        if name in stages.names and reached[position]:
            conversion = reached[position + 1] * BASIS_POINTS // reached[position]
        rows.append(FunnelStage(name, stages.probability(name), counts[name],
                                tuple(Money(v, c) for c, v in sorted(amounts[name].items())),
                                reached[position] if position is not None else 0, conversion))
    return rows

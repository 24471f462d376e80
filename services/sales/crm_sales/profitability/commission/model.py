"""Commission by margin grade: pure rules, integers only (minor units and
basis points), no I/O.

Plans. A commission plan gives each product margin grade a rate in basis
points and names its base: the line's **margin** (revenue - cost, a line
sold at a loss earns nothing, never a negative commission) or its
**revenue** (the line total after discount). A plan may add progressive
**bands** on a rep's month: bands ((above_1, extra_1), (above_2, extra_2),
...) with `above` strictly rising; the part of the rep's month base total
(the sum of the bases of the month's statement lines in the plan's
currency) above `above_i` and up to `above_{i+1}` earns `extra_i` basis
points more. The band bonus is one statement line: floor(sum(slice_i x
extra_i) / 10,000); a base total at or below the first bound earns none.

Which plan. Assignments name a scope ("rep:<id>", "team:<id>" or "*" for
everyone) and the month a plan applies from; a rep's plan for a month is
that of their own latest assignment starting at or before the month, else
their team's, else the default one. An order is priced once: by the plan in
force for its rep in the month of its first receipt that any plan covers;
its later receipts and refunds use the same rates (a plan change never
reprices money already collected on an order).

Earning. Commission is earned when cash is collected, pro rata: with an
order total T, cash collected to date P (receipts minus refunds, clamped
to [0, T]) and a line's full commission C = floor(base x rate / 10,000),
the line's commission earned to date is floor(base x rate x P / (T x
10,000)); each receipt or refund earns the difference from what was earned
before. So a fully paid order earns exactly C per line whatever the split
of its receipts (no cent lost or invented), and a refund claws back
exactly the share it takes off (a void or a full refund takes all back).
The same cumulative rule gives each line's base to date. The order's
present lines are used on every event: an amendment after a receipt moves
what the next receipt earns; a removed line is clawed back to zero.

Contract receipts are not commissionable: a contract has no lines, so no
margin grade (the issue grades products, not contracts).

Statements. Every commission line lands in the statement of the order's
rep (the rep at the order's first priced receipt) for the month its cash
moved (the receipt's or refund's date). A closed month is frozen: a line
for it (a late receipt, a refund) lands in the next open month instead,
marked with the month it counts in. A statement's total per currency is
the sum of its lines plus the band bonus (frozen at the close).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.money import MAX_MINOR_UNITS, validate_currency
from crm_kit.validation import clean_text, collect

from crm_sales.products.model import BASIS_POINTS, GradeBand, grade_for, margin_rate_bp
from crm_sales.profitability.months import Month

BASES = ("margin", "revenue")
MAX_RATE_BP = BASIS_POINTS  # a rate of 100 % of the base at most
MAX_BANDS = 10
PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SCOPE = re.compile(r"^(\*|rep:[A-Za-z0-9._@-]{1,64}|team:[A-Za-z0-9._@-]{1,64})$")
NAME_MAX = 120


@dataclass(frozen=True)
class Band:
    above: int     # minor units of the rep's month base total
    extra_bp: int  # basis points of the slice above `above`, on top of the line rates


@dataclass(frozen=True)
class CommissionPlan:
    id: str
    name: str
    base: str  # margin | revenue
    currency_code: str  # the bands' currency (lines in other currencies earn the rates, no bands)
    rates: tuple[tuple[str, int], ...]  # (margin grade, basis points), in the grades' order
    bands: tuple[Band, ...] = ()

    def rate_of(self, grade: str) -> int:
        return dict(self.rates).get(grade, 0)


@dataclass(frozen=True)
class Assignment:
    scope: str  # "rep:<id>", "team:<id>" or "*"
    plan_id: str
    from_month: Month


@dataclass(frozen=True)
class Setup:
    """Every plan and assignment: one small document the admin changes."""
    plans: tuple[CommissionPlan, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    revision: int = 0

    def plan(self, plan_id: str) -> CommissionPlan | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    def plan_for(self, rep_id: str, team_id: str, month: Month) -> CommissionPlan | None:
        """The rep's own assignment, else the team's, else the default (see the module's docstring)."""
        for scope in (f"rep:{rep_id}" if rep_id else None, f"team:{team_id}" if team_id else None, "*"):
            if scope is None:
                continue
            starting = [a for a in self.assignments if a.scope == scope and a.from_month <= month]
            if starting:
                return self.plan(max(starting, key=lambda a: a.from_month).plan_id)
        return None


def validate_plan(plan: CommissionPlan, grades: tuple[GradeBand, ...]) -> CommissionPlan:
    violations: list[FieldViolation] = []
    if not isinstance(plan.id, str) or not PLAN_ID.fullmatch(plan.id):
        violations.append(FieldViolation("plan.id", "must be 1-40 lower-case letters, digits, '-' or '_'"))
    name = collect(violations, clean_text, plan.name, "plan.name", NAME_MAX, True)
    if plan.base not in BASES:
        violations.append(FieldViolation("plan.base", "must be one of margin, revenue"))
    collect(violations, validate_currency, plan.currency_code, "plan.currency_code")
    known = [g.grade for g in grades]
    seen: set[str] = set()
    for i, (grade, rate) in enumerate(plan.rates):
        if grade not in known:
            violations.append(FieldViolation(f"plan.rates[{i}].grade", f"must be a margin grade ({', '.join(known)})"))
        elif grade in seen:
            violations.append(FieldViolation(f"plan.rates[{i}].grade", "is given twice"))
        seen.add(grade)
        if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= MAX_RATE_BP:
            violations.append(FieldViolation(f"plan.rates[{i}].rate_bp", f"must be from 0 to {MAX_RATE_BP}"))
    if not plan.rates:
        violations.append(FieldViolation("plan.rates", "at least one grade's rate is required"))
    if len(plan.bands) > MAX_BANDS:
        violations.append(FieldViolation("plan.bands", f"at most {MAX_BANDS} bands"))
    previous = -1
    for i, band in enumerate(plan.bands):
        if isinstance(band.above, bool) or not isinstance(band.above, int) or not 0 <= band.above <= MAX_MINOR_UNITS:
            violations.append(FieldViolation(f"plan.bands[{i}].above", f"must be from 0 to {MAX_MINOR_UNITS}"))
        elif band.above <= previous:
            violations.append(FieldViolation(f"plan.bands[{i}].above", "must rise strictly from band to band"))
        else:
            previous = band.above
        if isinstance(band.extra_bp, bool) or not isinstance(band.extra_bp, int) \
                or not 0 <= band.extra_bp <= MAX_RATE_BP:
            violations.append(FieldViolation(f"plan.bands[{i}].extra_bp", f"must be from 0 to {MAX_RATE_BP}"))
    if violations:
        raise InvalidArgument(violations)
    order = {g: n for n, g in enumerate(known)}
    return replace(plan, name=name, rates=tuple(sorted(plan.rates, key=lambda r: order[r[0]])))


def validate_assignment(assignment: Assignment, setup: Setup) -> Assignment:
    violations: list[FieldViolation] = []
    if not isinstance(assignment.scope, str) or not SCOPE.fullmatch(assignment.scope):
        violations.append(FieldViolation("scope", "must be rep:<rep id>, team:<team id> or *"))
    if setup.plan(assignment.plan_id) is None:
        violations.append(FieldViolation("plan_id", "must name an existing plan"))
    if violations:
        raise InvalidArgument(violations)
    return assignment


def with_plan(setup: Setup, plan: CommissionPlan) -> Setup:
    """The setup with `plan` added or replacing the plan of its id (orders
    priced already keep their rates)."""
    return replace(setup, plans=tuple([p for p in setup.plans if p.id != plan.id] + [plan]))


def with_assignment(setup: Setup, assignment: Assignment) -> Setup:
    """The setup with `assignment`; one of the same scope and month is replaced."""
    kept = [a for a in setup.assignments if (a.scope, a.from_month) != (assignment.scope, assignment.from_month)]
    return replace(setup, assignments=tuple(kept + [assignment]))


# --- lines of an order --------------------------------------------------------------------

def line_grade(unit_price: int, unit_cost: int, grades: tuple[GradeBand, ...]) -> str:
    """The margin grade of a line's product as of the order: its unit price
    (before discount) against the unit cost the line keeps, graded as the
    catalogue grades a product (crm_sales.products.model)."""
    return grade_for(margin_rate_bp(unit_price, unit_cost), unit_price, grades)


@dataclass(frozen=True)
class LineFigures:
    line_id: str
    product_id: str
    grade: str
    revenue: int  # the line total after discount
    cost: int

    def base(self, kind: str) -> int:
        return self.revenue if kind == "revenue" else max(0, self.revenue - self.cost)


@dataclass(frozen=True)
class Pricing:
    """The rates an order is priced by (fixed at its first priced receipt)."""
    plan_id: str
    base: str
    rates: tuple[tuple[str, int], ...]

    def rate_of(self, grade: str) -> int:
        return dict(self.rates).get(grade, 0)


def pricing_of(plan: CommissionPlan) -> Pricing:
    return Pricing(plan.id, plan.base, plan.rates)


@dataclass(frozen=True)
class Earned:
    base: int = 0
    commission: int = 0


def share_to_date(amount: int, paid: int, total: int) -> int:
    """floor(amount x P / T) with P clamped to [0, T]; 0 for an order of total 0."""
    if total <= 0:
        return 0
    return amount * min(max(paid, 0), total) // total


@dataclass(frozen=True)
class CommissionLine:
    """One traceable line of a statement: which cash movement on which order
    line earned (or clawed back) how much, on what base and at what rate."""
    event_id: str
    kind: str  # receipt | refund | void | bonus
    order_id: str
    line_id: str
    product_id: str
    receipt_id: str
    refund_id: str
    grade: str
    base: int       # the base this movement added (negative for a clawback)
    rate_bp: int
    amount: int     # the commission this movement earned (negative for a clawback)
    currency_code: str
    counts_in: str  # the month the cash moved in ("YYYY-MM"); a later month when that one was closed


@dataclass(frozen=True)
class Movement:
    """A cash movement on an order, from a payment event."""
    event_id: str
    kind: str  # receipt | refund | void
    order_id: str
    receipt_id: str
    refund_id: str
    amount: int  # positive for a receipt, negative for a refund or void
    month: Month


@dataclass(frozen=True)
class OrderLedger:
    """What an order earned so far: cash to date, per-line earnings, and the
    lines each applied event produced (a redelivered event produces them again)."""
    order_id: str
    rep_id: str = ""
    team_id: str = ""
    currency_code: str = ""
    pricing: Pricing | None = None
    paid: int = 0
    earned: dict[str, Earned] = field(default_factory=dict)
    applied: dict[str, tuple[CommissionLine, ...]] = field(default_factory=dict)
    revision: int = 0


def earn(ledger: OrderLedger, movement: Movement, lines: list[LineFigures], order_total: int,
         pricing: Pricing | None) -> tuple[OrderLedger, tuple[CommissionLine, ...]]:
    """The ledger after `movement` and the commission lines it makes (none
    while no plan prices the order). `pricing` is used only for an order not
    priced yet. The order's lines are its present ones."""
    if movement.event_id in ledger.applied:
        return ledger, ledger.applied[movement.event_id]
    paid = ledger.paid + movement.amount
    pricing = ledger.pricing or pricing
    made: list[CommissionLine] = []
    earned = dict(ledger.earned)
    if pricing is not None:
        present = {line.line_id: line for line in lines}
        for line_id in sorted(set(earned) | set(present), key=_line_order):
            line = present.get(line_id)
            before = earned.get(line_id, Earned())
            if line is None:
                after = Earned()
                grade, product_id = "", ""
            else:
                rate = pricing.rate_of(line.grade)
                base = line.base(pricing.base)
                after = Earned(share_to_date(base, paid, order_total),
                               share_to_date(base * rate, paid, order_total) // BASIS_POINTS)
                grade, product_id = line.grade, line.product_id
            if after == before:
                continue
            made.append(CommissionLine(
                movement.event_id, movement.kind, movement.order_id, line_id, product_id, movement.receipt_id,
                movement.refund_id, grade, after.base - before.base,
                pricing.rate_of(grade) if grade else 0, after.commission - before.commission,
                ledger.currency_code, str(movement.month)))
            earned[line_id] = after
        earned = {k: v for k, v in earned.items() if v != Earned()}
    lines_made = tuple(made)
    return replace(ledger, paid=paid, pricing=pricing, earned=earned,
                   applied={**ledger.applied, movement.event_id: lines_made}), lines_made


def _line_order(line_id: str) -> tuple:
    digits = line_id.lstrip("ln")
    return (0, int(digits), line_id) if digits.isdigit() else (1, 0, line_id)


# --- statements --------------------------------------------------------------------------------

def band_bonus(base_total: int, bands: tuple[Band, ...]) -> int:
    """The progressive band bonus of a month's base total (module docstring)."""
    if base_total <= 0 or not bands:
        return 0
    numerator = 0
    for i, band in enumerate(bands):
        upper = bands[i + 1].above if i + 1 < len(bands) else base_total
        slice_ = min(base_total, upper) - band.above
        if slice_ > 0:
            numerator += slice_ * band.extra_bp
    return numerator // BASIS_POINTS


@dataclass(frozen=True)
class Statement:
    rep_id: str
    month: Month
    team_id: str = ""
    lines: tuple[CommissionLine, ...] = ()
    closed: bool = False
    # Frozen at the close: the band bonus per currency (open months compute it when read).
    bonus: dict[str, int] = field(default_factory=dict)
    revision: int = 0

    @property
    def id(self) -> str:
        return statement_id(self.rep_id, self.month)

    def line_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.currency_code] = out.get(line.currency_code, 0) + line.amount
        return out

    def base_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.currency_code] = out.get(line.currency_code, 0) + line.base
        return out

    def bonus_under(self, plan: CommissionPlan | None) -> dict[str, int]:
        """The band bonus: frozen once closed, else under the rep's plan for the month."""
        if self.closed:
            return dict(self.bonus)
        if plan is None or not plan.bands:
            return {}
        bonus = band_bonus(self.base_totals().get(plan.currency_code, 0), plan.bands)
        return {plan.currency_code: bonus} if bonus else {}

    def totals(self, bonus: dict[str, int]) -> dict[str, int]:
        """Per currency: the lines' sum plus the bonus."""
        out = self.line_totals()
        for currency, amount in bonus.items():
            out[currency] = out.get(currency, 0) + amount
        return out


def statement_id(rep_id: str, month: Month) -> str:
    return f"{rep_id}|{month}"


def post(statement: Statement, lines: tuple[CommissionLine, ...], team_id: str) -> Statement:
    """The statement with `lines` added (an open statement only; the caller
    moves lines for a closed month to the next open one)."""
    if statement.closed:
        raise ValueError("a closed statement is never changed")
    return replace(statement, team_id=statement.team_id or team_id, lines=statement.lines + tuple(lines))


def posting_month(counts_in: Month, closed) -> Month:
    """Where a line for `counts_in` lands: that month, or the first open one
    after it when it is closed (`closed`: a set or predicate of closed months)."""
    is_closed = closed if callable(closed) else closed.__contains__
    month = counts_in
    while is_closed(month):
        month = month.next()
    return month


def close(statement: Statement, plan: CommissionPlan | None) -> Statement:
    """The statement frozen with its band bonus."""
    if statement.closed:
        return statement
    return replace(statement, closed=True, bonus=statement.bonus_under(plan))

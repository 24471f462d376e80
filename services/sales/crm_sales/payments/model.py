"""Payment plans, receipts and receivables: pure rules, no I/O.

A plan collects one debt (an order or a contract). Its whole money state is
one value (`Plan`): the instalments, every receipt with its allocations and
refunds, and whether `order.paid` went out. The store keeps it as ONE
revisioned document, so every rule below is checked against one consistent
state and a concurrent writer's change is never lost.

The rules, in the plan's terms (all amounts integer minor units of the
plan's currency):

- the instalments' amounts add up exactly to the debt's total;
- `collected` (receipts less refunds) never exceeds the total: a receipt
  over the balance is refused, saying by how much;
- a receipt is allocated to instalments (given explicitly, or oldest due
  first); it never allocates more than it holds, nor an instalment beyond
  its amount;
- a refund (or a void: all that is left of a receipt) gives back money of
  one receipt: first its unallocated remainder, then its allocations,
  latest due first; never more than the receipt still holds. Nothing is
  ever deleted: allocations are a ledger per receipt, and money moved off
  an instalment is a negative entry dated when it moved;
- the instalments may be replaced while nothing is allocated to any of
  them (money once applied to an instalment stays where it was applied);
- an amendment moves the total: an increase goes to the last instalment; a
  cut takes the unpaid parts of the latest instalments first, and only
  then moves allocated money back to its receipts (the customer's credit,
  to refund); cancelling is a cut to zero that also refuses new receipts.

Ageing as of a date counts the receipts received and the refunds made by
then (allocation entries dated on or before it). Each instalment's unpaid
part lands in exactly one bucket by its days past due, so the buckets add up
to the outstanding total by construction; an instalment's paid part as of a
date is clamped to [0, amount] (a receipt back-dated before a refund of
another could otherwise count twice for a past date).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, PreconditionViolation
from crm_kit.money import MAX_MINOR_UNITS, Money

KINDS = ("order", "contract")
METHODS = ("bank_transfer", "cash", "alipay", "wechat_pay", "cheque", "card", "other")
# Days past due: not yet due (0 or less), then 1-30, 31-60, 61-90, over 90.
BUCKETS = ("not_yet_due", "days_1_30", "days_31_60", "days_61_90", "over_90")
MAX_INSTALMENTS = 120
MAX_REFERENCE = 200
MAX_REASON = 500


@dataclass(frozen=True)
class Debt:
    """What a plan collects (an order, or a contract)."""

    kind: str  # "order" | "contract"
    id: str
    customer_id: str
    owner_id: str
    team_id: str
    total: Money
    starts_on: date  # confirmation / contract start: default due dates count from it


@dataclass(frozen=True)
class Instalment:
    number: int  # 1.. in due-date order
    due_on: date
    amount: int


@dataclass(frozen=True)
class Allocation:
    """A ledger entry: `amount` of a receipt applied to instalment `number`
    (negative: moved back off it by a refund or a cut), counting from `on`."""

    number: int
    amount: int
    on: date


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    refunded_on: date
    void: bool
    reason: str
    recorded_by: str
    recorded_at: datetime
    request_id: str = ""


@dataclass(frozen=True)
class Receipt:
    id: str
    method: str
    amount: int
    received_on: date
    reference: str
    recorded_by: str
    recorded_at: datetime
    request_id: str = ""
    allocations: tuple[Allocation, ...] = ()
    refunds: tuple[Refund, ...] = ()

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)

    @property
    def net(self) -> int:
        """What the receipt still holds after refunds."""
        return self.amount - self.refunded

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.allocations)

    @property
    def unallocated(self) -> int:
        return self.net - self.allocated

    def allocated_to(self, number: int) -> int:
        return sum(a.amount for a in self.allocations if a.number == number)


@dataclass(frozen=True)
class Plan:
    kind: str
    debt_id: str
    customer_id: str
    owner_id: str
    team_id: str
    currency: str
    total: int
    starts_on: date
    instalments: tuple[Instalment, ...]
    receipts: tuple[Receipt, ...] = ()
    cancelled: bool = False
    amendment: int = 0  # the last order amendment applied (events may come again or late)
    paid_announced: bool = False  # order.paid went out (once per order, ever)
    paid_at: datetime | None = None
    revision: int = 1
    created_at: datetime | None = None

    @property
    def id(self) -> str:
        return plan_id(self.kind, self.debt_id)

    @property
    def collected(self) -> int:
        return sum(r.net for r in self.receipts)

    @property
    def balance(self) -> int:
        """What the customer still owes; negative when an amendment cut the
        total below what was collected (a credit to refund)."""
        return self.total - self.collected

    @property
    def credit(self) -> int:
        return max(0, -self.balance)

    def paid_to(self, number: int) -> int:
        return sum(r.allocated_to(number) for r in self.receipts)

    def unpaid(self, instalment: Instalment) -> int:
        return instalment.amount - self.paid_to(instalment.number)

    @property
    def allocated(self) -> int:
        return sum(r.allocated for r in self.receipts)

    def receipt(self, receipt_id: str) -> Receipt | None:
        return next((r for r in self.receipts if r.id == receipt_id), None)

    def receipt_for_request(self, request_id: str) -> Receipt | None:
        return next((r for r in self.receipts if request_id and r.request_id == request_id), None)

    def refund_for_request(self, request_id: str) -> tuple[Receipt, Refund] | None:
        for r in self.receipts:
            for f in r.refunds:
                if request_id and f.request_id == request_id:
                    return r, f
        return None

    @property
    def fully_paid(self) -> bool:
        return self.total > 0 and not self.cancelled and self.balance <= 0


def plan_id(kind: str, debt_id: str) -> str:
    return f"{kind}:{debt_id}"


# --- errors ---------------------------------------------------------------------------

def _refused(kind: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation(kind, subject, description)], description)


def _money_text(minor: int, currency: str) -> str:
    return f"{minor} {currency} minor units"


# --- validation of what callers send ----------------------------------------------------

def validate_amount(amount: int, field_name: str) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_MINOR_UNITS:
        raise InvalidArgument(FieldViolation(field_name, f"must be a whole number of minor units from 1 to "
                                                         f"{MAX_MINOR_UNITS}"))
    return amount


def validate_currency_of(plan: Plan, currency: str, field_name: str) -> None:
    if currency != plan.currency:
        raise InvalidArgument(FieldViolation(field_name, f"must be {plan.currency}, the currency of the plan"))


def validate_past_date(on: date, today: date, field_name: str, not_before: date | None = None) -> date:
    if on > today:
        raise InvalidArgument(FieldViolation(field_name, "must not be in the future"))
    if not_before is not None and on < not_before:
        raise InvalidArgument(FieldViolation(field_name, f"must not be before {not_before.isoformat()}"))
    return on


def validate_method(method: str) -> str:
    if method not in METHODS:
        raise InvalidArgument(FieldViolation("method", f"must be one of {', '.join(METHODS)}"))
    return method


def validate_text(value: str, field_name: str, maximum: int) -> str:
    if len(value) > maximum:
        raise InvalidArgument(FieldViolation(field_name, f"must be at most {maximum} characters"))
    return value.strip()


def build_instalments(wanted: list[tuple[date, int]], total: int) -> tuple[Instalment, ...]:
    """Instalments numbered 1.. in due-date order; their amounts must add up
    exactly to `total`."""
    violations: list[FieldViolation] = []
    if not wanted:
        violations.append(FieldViolation("instalments", "must list at least one instalment"))
    if len(wanted) > MAX_INSTALMENTS:
        violations.append(FieldViolation("instalments", f"must list at most {MAX_INSTALMENTS} instalments"))
    for i, (_due, amount) in enumerate(wanted):
        try:
            validate_amount(amount, f"instalments[{i}].amount")
        except InvalidArgument as err:
            violations += err.violations
    if not violations:
        given = sum(amount for _due, amount in wanted)
        if given != total:
            violations.append(FieldViolation(
                "instalments", f"amounts add up to {given} but the debt is {total} (off by {given - total})"))
    if violations:
        raise InvalidArgument(violations)
    ordered = sorted(wanted, key=lambda w: w[0])
    return tuple(Instalment(n, due, amount) for n, (due, amount) in enumerate(ordered, start=1))


# --- the plan's changes ---------------------------------------------------------------------

def default_plan(debt: Debt, terms_days: int, now: datetime) -> Plan:
    """One instalment of the whole total, due `terms_days` after the start."""
    return Plan(kind=debt.kind, debt_id=debt.id, customer_id=debt.customer_id, owner_id=debt.owner_id,
                team_id=debt.team_id, currency=debt.total.currency_code, total=debt.total.minor_units,
                starts_on=debt.starts_on,
                instalments=(Instalment(1, debt.starts_on + timedelta(days=terms_days), debt.total.minor_units),),
                created_at=now)


def replace_instalments(plan: Plan, instalments: tuple[Instalment, ...]) -> Plan:
    if plan.cancelled:
        raise _refused("CANCELLED", plan.id, "the plan's debt was cancelled")
    if plan.allocated:
        raise _refused("COLLECTED", plan.id, f"{_money_text(plan.allocated, plan.currency)} are already applied "
                                             f"to the instalments; a plan is replaced only before any is paid")
    return replace(plan, instalments=instalments)


def _check_allocations(plan: Plan, wanted: list[tuple[int, int]], available: int, what: str) -> None:
    numbers = {i.number: i for i in plan.instalments}
    seen: set[int] = set()
    violations: list[FieldViolation] = []
    for i, (number, amount) in enumerate(wanted):
        if number not in numbers:
            violations.append(FieldViolation(f"allocations[{i}].instalment", f"the plan has no instalment {number}"))
        elif number in seen:
            violations.append(FieldViolation(f"allocations[{i}].instalment", f"instalment {number} is named twice"))
        seen.add(number)
        try:
            validate_amount(amount, f"allocations[{i}].amount")
        except InvalidArgument as err:
            violations += err.violations
    if violations:
        raise InvalidArgument(violations)
    asked = sum(amount for _n, amount in wanted)
    if asked > available:
        raise _refused("OVER_ALLOCATED", plan.id, f"allocating {_money_text(asked, plan.currency)} is "
                                                  f"{_money_text(asked - available, plan.currency)} more than "
                                                  f"{what} ({_money_text(available, plan.currency)})")
    for number, amount in wanted:
        unpaid = plan.unpaid(numbers[number])
        if amount > unpaid:
            raise _refused("OVER_ALLOCATED", f"{plan.id}#{number}",
                           f"instalment {number} has {_money_text(unpaid, plan.currency)} unpaid; allocating "
                           f"{_money_text(amount, plan.currency)} is {_money_text(amount - unpaid, plan.currency)} "
                           f"too much")


def _oldest_first(plan: Plan, amount: int, on: date) -> tuple[Allocation, ...]:
    out = []
    for instalment in plan.instalments:  # numbered in due-date order
        if amount <= 0:
            break
        take = min(amount, plan.unpaid(instalment))
        if take > 0:
            out.append(Allocation(instalment.number, take, on))
            amount -= take
    return tuple(out)


def add_receipt(plan: Plan, receipt: Receipt, allocations: list[tuple[int, int]] | None) -> Plan:
    """`receipt` (without allocations) recorded against the plan; allocated
    as given, or oldest due first when `allocations` is None."""
    if plan.cancelled:
        raise _refused("CANCELLED", plan.id, "the plan's debt was cancelled; it takes no more receipts")
    if receipt.amount > plan.balance:
        over = receipt.amount - max(plan.balance, 0)
        raise _refused("OVERPAYMENT", plan.id,
                       f"the receipt of {_money_text(receipt.amount, plan.currency)} is over the outstanding "
                       f"{_money_text(max(plan.balance, 0), plan.currency)} by {_money_text(over, plan.currency)}")
    if allocations is None:
        entries = _oldest_first(plan, receipt.amount, receipt.received_on)
    else:
        _check_allocations(plan, allocations, receipt.amount, "the receipt holds")
        entries = tuple(Allocation(n, a, receipt.received_on) for n, a in allocations)
    return replace(plan, receipts=(*plan.receipts, replace(receipt, allocations=entries)))


def _with_receipt(plan: Plan, updated: Receipt) -> Plan:
    return replace(plan, receipts=tuple(updated if r.id == updated.id else r for r in plan.receipts))


def allocate(plan: Plan, receipt_id: str, allocations: list[tuple[int, int]]) -> Plan:
    """Apply part or all of a receipt's unallocated remainder to instalments."""
    receipt = _receipt_or_refuse(plan, receipt_id)
    if not allocations:
        raise InvalidArgument(FieldViolation("allocations", "must name at least one instalment"))
    _check_allocations(plan, allocations, receipt.unallocated, "the receipt's unallocated remainder")
    entries = tuple(Allocation(n, a, receipt.received_on) for n, a in allocations)
    return _with_receipt(plan, replace(receipt, allocations=(*receipt.allocations, *entries)))


def _receipt_or_refuse(plan: Plan, receipt_id: str) -> Receipt:
    receipt = plan.receipt(receipt_id)
    if receipt is None:
        raise _refused("NO_RECEIPT", receipt_id, "the plan holds no such receipt")
    return receipt


def refund(plan: Plan, receipt_id: str, refund_: Refund) -> Plan:
    """Give back `refund_.amount` of a receipt (a void: all it still holds).
    The receipt's unallocated remainder goes first, then its allocations,
    latest due first."""
    receipt = _receipt_or_refuse(plan, receipt_id)
    if refund_.void:
        if receipt.net <= 0:
            raise _refused("NOTHING_LEFT", receipt_id, "the receipt was refunded or voided in full already")
        refund_ = replace(refund_, amount=receipt.net)
    elif refund_.amount > receipt.net:
        raise _refused("OVER_REFUND", receipt_id,
                       f"refunding {_money_text(refund_.amount, plan.currency)} is "
                       f"{_money_text(refund_.amount - receipt.net, plan.currency)} more than the receipt still "
                       f"holds ({_money_text(receipt.net, plan.currency)})")
    if refund_.refunded_on < receipt.received_on:
        raise InvalidArgument(FieldViolation("refund_date", "must not be before the receipt was received"))
    to_move = refund_.amount - max(receipt.unallocated, 0)
    entries = list(receipt.allocations)
    for instalment in reversed(plan.instalments):
        if to_move <= 0:
            break
        take = min(to_move, receipt.allocated_to(instalment.number))
        if take > 0:
            entries.append(Allocation(instalment.number, -take, refund_.refunded_on))
            to_move -= take
    updated = replace(receipt, allocations=tuple(entries), refunds=(*receipt.refunds, refund_))
    return _with_receipt(plan, updated)


def resize(plan: Plan, total: int, on: date) -> Plan:
    """The plan after its debt's total became `total` (an amendment)."""
    change = total - plan.total
    instalments = list(plan.instalments)
    if change > 0:
        last = instalments[-1]
        instalments[-1] = replace(last, amount=last.amount + change)
        return replace(plan, total=total, instalments=tuple(instalments))
    cut = -change
    # The unpaid parts of the latest instalments go first.
    for i in range(len(instalments) - 1, -1, -1):
        if cut <= 0:
            break
        take = min(cut, plan.unpaid(instalments[i]))
        if take > 0:
            instalments[i] = replace(instalments[i], amount=instalments[i].amount - take)
            cut -= take
    receipts = list(plan.receipts)
    # Then money already applied moves back to its receipts (newest receipt first).
    for i in range(len(instalments) - 1, -1, -1):
        for j in range(len(receipts) - 1, -1, -1):
            if cut <= 0:
                break
            take = min(cut, receipts[j].allocated_to(instalments[i].number))
            if take > 0:
                receipts[j] = replace(receipts[j], allocations=(
                    *receipts[j].allocations, Allocation(instalments[i].number, -take, on)))
                instalments[i] = replace(instalments[i], amount=instalments[i].amount - take)
                cut -= take
    return replace(plan, total=total, instalments=tuple(instalments), receipts=tuple(receipts))


def cancel(plan: Plan, on: date) -> Plan:
    return replace(resize(plan, 0, on), cancelled=True) if not plan.cancelled else plan


def without_free_text(plan: Plan) -> Plan:
    """The plan with receipt references and refund reasons blanked (free
    text that may name people); amounts, dates, methods and who recorded
    them stay: the money history."""
    return replace(plan, receipts=tuple(replace(r, reference="", refunds=tuple(replace(f, reason="") for f in r.refunds))
                                        for r in plan.receipts))


def announce_if_paid(before: Plan, after: Plan, now: datetime) -> tuple[Plan, bool]:
    """(after, True) with `paid_announced` set when this change makes an
    order's plan fully paid for the first time: order.paid goes out with it."""
    if after.kind == "order" and not before.paid_announced and after.fully_paid:
        return replace(after, paid_announced=True, paid_at=now), True
    return after, False


# --- ageing ------------------------------------------------------------------------------

def bucket_of(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "not_yet_due"
    if days_past_due <= 30:
        return "days_1_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "over_90"


@dataclass
class Ageing:
    """Outstanding amounts of one currency by days past due."""

    currency: str
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    plans: int = 0  # plans with something outstanding

    @property
    def outstanding(self) -> int:
        return sum(self.buckets.values())

    @property
    def overdue(self) -> int:
        return self.outstanding - self.buckets["not_yet_due"]


def unpaid_as_of(plan: Plan, instalment: Instalment, as_of: date) -> int:
    paid = sum(a.amount for r in plan.receipts for a in r.allocations
               if a.number == instalment.number and a.on <= as_of)
    return instalment.amount - min(max(paid, 0), instalment.amount)


def plan_buckets(plan: Plan, as_of: date) -> dict[str, int]:
    """The plan's unpaid amounts as of `as_of`, by days past due (nothing
    for a debt that started later)."""
    out = dict.fromkeys(BUCKETS, 0)
    if plan.starts_on > as_of:
        return out
    for instalment in plan.instalments:
        unpaid = unpaid_as_of(plan, instalment, as_of)
        if unpaid:
            out[bucket_of((as_of - instalment.due_on).days)] += unpaid
    return out


def ageing(plans, as_of: date) -> list[Ageing]:
    """Per-currency ageing of `plans`, currencies in code order."""
    by_currency: dict[str, Ageing] = {}
    for plan in plans:
        buckets = plan_buckets(plan, as_of)
        report = by_currency.setdefault(plan.currency, Ageing(plan.currency))
        for name, amount in buckets.items():
            report.buckets[name] += amount
        if any(buckets.values()):
            report.plans += 1
    return [by_currency[c] for c in sorted(by_currency)]


# --- ageing roll-ups: a book's ageing as a sum of exact per-plan cells ------------------
#
# As a function of the date D, a plan's unpaid amount of each instalment (as
# `plan_buckets` counts it, clamp included) is constant between the plan's
# start and its dated ledger entries. So it is stored exactly as changes:
# `amounts[(currency, effective_on, due_on)]` is how much the unpaid amount of
# what falls due on `due_on` moves on `effective_on` (the first change, at the
# start, is the whole unpaid amount then). Summed over a book's plans, they
# give the book's ageing as of any date (`ageing_from_cells`) without reading
# a plan. Whether a plan has anything outstanding is constant on the same
# intervals: `outstanding[(currency, effective_on)]` counts plans starting
# (+1) or ceasing (-1) to owe; `members[currency]` counts the plans in the
# book (a currency whose plans are all paid still has its row of zeros).

# Summary books: a rep's whole book, a team's, and a rep's within one team
# (what that team's managers see of the rep's book). Customer books are read
# plan by plan: a customer has few plans.


def ageing_books(plan: Plan) -> list[str]:
    books = []
    if plan.owner_id:
        books.append(f"rep:{plan.owner_id}")
    if plan.team_id:
        books.append(f"team:{plan.team_id}")
    if plan.owner_id and plan.team_id:
        books.append(rep_in_team_book(plan.owner_id, plan.team_id))
    return books


def rep_in_team_book(rep_id: str, team_id: str) -> str:
    return f"rep:{rep_id}@team:{team_id}"


@dataclass
class AgeingCells:
    """Changes of unpaid amounts and of plan counts, by effective date (see above)."""

    amounts: dict[tuple[str, date, date], int] = field(default_factory=dict)
    outstanding: dict[tuple[str, date], int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)

    def add(self, other: "AgeingCells", sign: int = 1) -> "AgeingCells":
        """In place: self + sign * other, zero cells dropped."""
        for mine, theirs in ((self.amounts, other.amounts), (self.outstanding, other.outstanding),
                             (self.members, other.members)):
            for key, value in theirs.items():
                total = mine.get(key, 0) + sign * value
                if total:
                    mine[key] = total
                else:
                    mine.pop(key, None)
        return self

    def __bool__(self) -> bool:
        return bool(self.amounts or self.outstanding or self.members)


def ageing_cells(plan: Plan) -> AgeingCells:
    """The plan's exact contribution to a book's ageing, as cells."""
    cells = AgeingCells(members={plan.currency: 1})
    c = plan.currency
    moments = sorted({plan.starts_on} | {a.on for r in plan.receipts for a in r.allocations if a.on > plan.starts_on})
    entries: dict[int, list[Allocation]] = {}
    for r in plan.receipts:
        for a in r.allocations:
            entries.setdefault(a.number, []).append(a)
    before = {i.number: 0 for i in plan.instalments}
    owing_before = False
    for moment in moments:
        owing = 0
        for instalment in plan.instalments:
            paid = sum(a.amount for a in entries.get(instalment.number, ()) if a.on <= moment)
            unpaid = instalment.amount - min(max(paid, 0), instalment.amount)
            owing += unpaid
            if unpaid != before[instalment.number]:
                key = (c, moment, instalment.due_on)
                cells.amounts[key] = cells.amounts.get(key, 0) + unpaid - before[instalment.number]
                before[instalment.number] = unpaid
        if (owing > 0) != owing_before:
            owing_before = owing > 0
            cells.outstanding[(c, moment)] = 1 if owing_before else -1
    cells.amounts = {k: v for k, v in cells.amounts.items() if v}  # instalments due the same day may cancel out
    return cells


def cells_change(before: Plan | None, after: Plan | None) -> dict[str, AgeingCells]:
    """What a plan's change does to each summary book: its new cells added to
    the books it is in now, its old cells taken off the books it was in."""
    out: dict[str, AgeingCells] = {}
    if before is not None:
        old = ageing_cells(before)
        for book in ageing_books(before):
            out.setdefault(book, AgeingCells()).add(old, -1)
    if after is not None:
        new = ageing_cells(after)
        for book in ageing_books(after):
            out.setdefault(book, AgeingCells()).add(new)
    return {book: cells for book, cells in out.items() if cells}


def ageing_from_cells(cells: AgeingCells, as_of: date) -> list[Ageing]:
    """The ageing, as of `as_of`, of the plans whose cells were summed into `cells`."""
    by_currency = {c: Ageing(c) for c, n in cells.members.items() if n > 0}
    unpaid: dict[tuple[str, date], int] = {}
    for (c, effective_on, due_on), delta in cells.amounts.items():
        if effective_on <= as_of:
            unpaid[(c, due_on)] = unpaid.get((c, due_on), 0) + delta
    for (c, due_on), amount in unpaid.items():
        if amount:
            report = by_currency.setdefault(c, Ageing(c))
            report.buckets[bucket_of((as_of - due_on).days)] += amount
    for (c, effective_on), delta in cells.outstanding.items():
        if effective_on <= as_of:
            by_currency.setdefault(c, Ageing(c)).plans += delta
    return [by_currency[c] for c in sorted(by_currency)]

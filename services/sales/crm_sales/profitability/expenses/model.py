"""Sales expenses: pure rules, money in integer minor units, no I/O.

A rep records an expense: a category from the configured list
(SALES_EXPENSE_CATEGORIES, default travel, entertainment, gift, sample,
other), an amount, the day it was spent (not in the future), optionally the
customer or the opportunity it was for (an opportunity's expense is its
customer's), and the receipt's reference (free text). It stays **pending**
while its rep may still edit it; a manager of the rep's team (never for
their own expense), finance or an admin **approves** it or **rejects** it
with a reason. Both decisions are final. Only an approved expense counts:
it is announced by expense.approved and lowers its customer's net
contribution (and its rep's) in the month it was spent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, PreconditionViolation
from crm_kit.money import Money, validate_money
from crm_kit.settings import SettingsError
from crm_kit.validation import clean_text, collect

DEFAULT_CATEGORIES = "travel,entertainment,gift,sample,other"
STATES = ("pending", "approved", "rejected")
REFERENCE_MAX, DESCRIPTION_MAX, REASON_MAX = 120, 500, 500
EARLIEST = dt.date(2000, 1, 1)
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def parse_categories(raw: str, variable: str = "SALES_EXPENSE_CATEGORIES") -> tuple[str, ...]:
    """"travel,gift,..." -> ("travel", "gift", ...): lower-case names, each once, at least one."""
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not names or any(not _CATEGORY.fullmatch(n) for n in names) or len(set(names)) != len(names):
        raise SettingsError(f"environment variable {variable} must list distinct lower-case category names, "
                            "comma-separated")
    return names


@dataclass(frozen=True)
class ExpenseDraft:
    category: str
    amount: Money
    spent_on: dt.date | None
    customer_id: str = ""
    opportunity_id: str = ""
    receipt_reference: str = ""
    description: str = ""


@dataclass(frozen=True)
class Expense:
    id: str
    owner_id: str
    team_id: str
    category: str
    amount: Money
    spent_on: dt.date
    customer_id: str
    opportunity_id: str
    receipt_reference: str
    description: str
    state: str
    created_at: dt.datetime
    updated_at: dt.datetime
    decided_by: str = ""
    decided_at: dt.datetime | None = None
    reason: str = ""
    revision: int = 1


def validate_draft(draft: ExpenseDraft, categories: tuple[str, ...], today: dt.date) -> ExpenseDraft:
    violations: list[FieldViolation] = []
    if draft.category not in categories:
        violations.append(FieldViolation("category", f"must be one of {', '.join(categories)}"))
    amount = collect(violations, validate_money, draft.amount, "amount")
    if amount is not None and amount.minor_units == 0:
        violations.append(FieldViolation("amount.minor_units", "must be more than 0"))
    if draft.spent_on is None:
        violations.append(FieldViolation("spent_on", "is required"))
    elif not EARLIEST <= draft.spent_on <= today:
        violations.append(FieldViolation("spent_on", f"must be a day from {EARLIEST} to today"))
    reference = collect(violations, clean_text, draft.receipt_reference, "receipt_reference", REFERENCE_MAX)
    description = collect(violations, clean_text, draft.description, "description", DESCRIPTION_MAX, False, True)
    if draft.customer_id and draft.opportunity_id:
        violations.append(FieldViolation("opportunity_id", "give the customer or the opportunity, not both"))
    if violations:
        raise InvalidArgument(violations)
    return replace(draft, receipt_reference=reference, description=description)


def new_expense(expense_id: str, draft: ExpenseDraft, owner_id: str, team_id: str, customer_id: str,
                now: dt.datetime) -> Expense:
    return Expense(expense_id, owner_id, team_id, draft.category, draft.amount, draft.spent_on, customer_id,
                   draft.opportunity_id, draft.receipt_reference, draft.description, "pending", now, now)


def _require_pending(expense: Expense) -> None:
    if expense.state != "pending":
        raise FailedPrecondition([PreconditionViolation("EXPENSE_DECIDED", expense.id,
                                                        f"the expense is {expense.state} already")],
                                 f"the expense is {expense.state}: it can no longer change")


def edited(expense: Expense, draft: ExpenseDraft, customer_id: str, now: dt.datetime) -> Expense:
    """A pending expense with new details (its rep's edit)."""
    _require_pending(expense)
    return replace(expense, category=draft.category, amount=draft.amount, spent_on=draft.spent_on,
                   customer_id=customer_id, opportunity_id=draft.opportunity_id,
                   receipt_reference=draft.receipt_reference, description=draft.description, updated_at=now)


def decided(expense: Expense, approve: bool, reason: str, by: str, now: dt.datetime) -> Expense:
    """Approved or rejected (a rejection needs its reason), once."""
    _require_pending(expense)
    reason = clean_text(reason, "reason", REASON_MAX, required=not approve, multiline=True)
    return replace(expense, state="approved" if approve else "rejected", decided_by=by, decided_at=now,
                   reason=reason, updated_at=now)


def erased(expense: Expense) -> Expense:
    """The expense without its free text (its customer was erased)."""
    return replace(expense, receipt_reference="", description="", reason="")

"""Commission use cases: the admin's plans, earning from payment events,
statements, team totals and the close. Rules live in model.py; rights here:

- plans and assignments: admins change them; managers, finance and admins read them;
- a statement: its rep, the manager of the team it is credited to, finance
  and admins (integrations with sales:read); its lines' margin grade and
  base (the line's margin, on a margin plan) are cost figures, shown to
  managers, finance and admins only (crm_sales.access.sees_costs);
- team totals: the team's manager, finance and admins;
- the close: finance and admins, for a month that has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from crm_kit.auth import Principal
from crm_kit.errors import Aborted, FailedPrecondition, FieldViolation, InvalidArgument, NotFound, \
    PermissionDenied, PreconditionViolation
from crm_kit.persistence.revisions import write_with_retries

from crm_sales import metrics
from crm_sales.access import READ_SCOPE, sees_costs
from crm_sales.products.model import GradeBand
from crm_sales.profitability.commission import model
from crm_sales.profitability.commission.model import (
    Assignment, CommissionLine, CommissionPlan, LineFigures, Movement, Setup, Statement)
from crm_sales.profitability.commission.store import CommissionStore
from crm_sales.profitability.months import DEFAULT_TIMEZONE, Month

WRITER = "sales-commission"
# A line for a closed month moves forward to the first open one; this many months at most.
MAX_MONTHS_FORWARD = 240
REP_ID_MAX = 64


@dataclass(frozen=True)
class StatementView:
    statement: Statement
    plan_id: str
    bonus: dict[str, int]
    totals: dict[str, int]
    # Margin grades and bases (a line's margin on a margin plan) are cost figures: managers, finance, admins.
    shows_costs: bool = False


@dataclass(frozen=True)
class RepTotals:
    rep_id: str
    totals: dict[str, int]
    closed: bool


def _reads_all(principal: Principal) -> bool:
    return principal.role in ("admin", "finance") or (
        principal.role == "integration" and READ_SCOPE in principal.scopes)


class CommissionService:
    def __init__(self, store: CommissionStore, load_order: Callable[[str], object],
                 grades: tuple[GradeBand, ...], zone: str = DEFAULT_TIMEZONE,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.store = store
        self.load_order = load_order
        self.grades = grades
        self.zone = ZoneInfo(zone)
        self.now = now

    # --- plans ----------------------------------------------------------------

    def setup(self, principal: Principal) -> Setup:
        if not (_reads_all(principal) or principal.role == "manager"):
            raise PermissionDenied("only managers, finance and admins read commission plans")
        return self.store.setup()

    def put_plan(self, principal: Principal, plan: CommissionPlan) -> Setup:
        self._require_admin(principal)
        plan = model.validate_plan(plan, self.grades)
        return self._change_setup(principal, lambda s: model.with_plan(s, plan))

    def assign(self, principal: Principal, assignment: Assignment) -> Setup:
        self._require_admin(principal)
        return self._change_setup(
            principal, lambda s: model.with_assignment(s, model.validate_assignment(assignment, s)))

    def _change_setup(self, principal: Principal, change: Callable[[Setup], Setup]) -> Setup:
        def apply(before: Setup) -> Setup:
            after = replace(change(before), revision=before.revision + 1)
            self.store.save_setup(before, after, principal.subject)
            return after
        return write_with_retries("commission setup", "setup", self.store.setup, apply)

    @staticmethod
    def _require_admin(principal: Principal) -> None:
        if principal.role != "admin":
            raise PermissionDenied("only admins change commission plans")

    # --- earning (the sales-commission consumer) ----------------------------------

    def apply(self, movement: Movement, owner_id: str, team_id: str) -> tuple[CommissionLine, ...]:
        """One cash movement applied (see apply_all); the lines it made."""
        return self.apply_all([(movement, owner_id, team_id)])[0]

    def apply_all(self, movements: list[tuple[Movement, str, str]]) -> list[tuple[CommissionLine, ...]]:
        """Apply cash movements on orders (with the owner and team their events
        name): each order's ledger first, in the movements' order (the event
        id recorded in the same write), then the lines posted to the reps'
        statements, one statement write per rep and month for all of them (a statement holds a
        month's lines, so a write per movement would rewrite it thousands of
        times). A redelivery re-posts the lines the ledger recorded, which the
        statement skips when it holds them. Returns each movement's lines."""
        made_by = [self._apply_to_ledger(*item) for item in movements]
        events_of: dict[tuple[str, Month], list[tuple[str, tuple[CommissionLine, ...]]]] = {}
        team_of: dict[tuple[str, Month], str] = {}
        for (movement, _owner, _team), made in zip(movements, made_by):
            if made is None or not made[1]:
                continue
            ledger, lines = made
            key = (ledger.rep_id, movement.month)
            events_of.setdefault(key, []).append((movement.event_id, lines))
            team_of[key] = team_of.get(key) or ledger.team_id  # the first team named
        for (rep_id, month), events in events_of.items():
            self._post(rep_id, team_of[(rep_id, month)], month, events)
        return [made[1] if made is not None else () for made in made_by]

    def _apply_to_ledger(self, movement: Movement, owner_id: str, team_id: str
                         ) -> tuple[model.OrderLedger, tuple[CommissionLine, ...]] | None:
        """The order's ledger with the movement applied, and the lines it made
        (also when it was applied before); None for an order with no lines."""
        order = self.load_order(movement.order_id)
        if order is None or not order.lines:
            return None
        lines = [LineFigures(line.line_id, line.product_id,
                             model.line_grade(line.unit_price.minor_units, line.unit_cost.minor_units, self.grades),
                             line.total.minor_units, line.cost.minor_units) for line in order.lines]

        def change(ledger: model.OrderLedger) -> model.OrderLedger:
            if movement.event_id in ledger.applied:
                return ledger
            pricing = None
            rep, team = owner_id or order.owner_id, team_id or order.team_id
            if ledger.pricing is None and rep:  # an order of a pool customer credits nobody (yet)
                plan = self.store.setup().plan_for(rep, team, movement.month)
                if plan is not None:
                    pricing = model.pricing_of(plan)
                    ledger = replace(ledger, rep_id=rep, team_id=team)
            ledger = replace(ledger, currency_code=ledger.currency_code or order.currency_code)
            after, _made = model.earn(ledger, movement, lines, order.total.minor_units, pricing)
            after = replace(after, revision=ledger.revision + 1)
            self.store.save_ledger(after, WRITER)
            return after

        ledger = write_with_retries("commission ledger", movement.order_id,
                                    lambda: self.store.ledger(movement.order_id), change)
        return ledger, ledger.applied[movement.event_id]

    def _post(self, rep_id: str, team_id: str, month: Month,
              events: list[tuple[str, tuple[CommissionLine, ...]]]) -> None:
        """Post each event's lines to the statement of `month`, or of the first
        open month after it when it is closed (model.posting_month, walked one
        statement at a time so a close racing the posting is seen); an event
        goes no further than a statement on the way that holds it already."""
        for _ in range(MAX_MONTHS_FORWARD):
            events = self._post_in(rep_id, team_id, month, events)
            if not events:
                return
            month = month.next()
        raise Aborted("commission statement", rep_id, "no open month to post a correction in")

    def _post_in(self, rep_id: str, team_id: str, month: Month,
                 events: list[tuple[str, tuple[CommissionLine, ...]]]) -> list[tuple[str, tuple[CommissionLine, ...]]]:
        """The events' lines posted to this month's statement in one write;
        returns the events left to post in a later month (this one is closed)."""
        posted: list[CommissionLine] = []

        def change(current: Statement) -> list:
            posted.clear()
            held = {line.event_id for line in current.lines}
            new = []
            for event_id, lines in events:
                if event_id not in held:  # nor an event twice in one read
                    held.add(event_id)
                    new.append((event_id, lines))
            if not new:
                return []
            # The close marks the month first, then freezes its statements: a posting either lands before
            # the freeze (which then includes it) or loses the revision to it and reads it closed here.
            if current.closed or self.store.closed(month):
                return new
            lines = tuple(line for _event_id, made in new for line in made)
            after = replace(model.post(current, lines, team_id), revision=current.revision + 1)
            if current.revision == 0:  # its first write: listed in its books before, for the close walks them
                self.store.note_statement(rep_id, team_id, month)
            self.store.save_statement(after, WRITER)
            posted.extend(lines)
            return []

        left = write_with_retries("commission statement", rep_id,
                                  lambda: self.store.statement(rep_id, month) or Statement(rep_id, month, team_id),
                                  change)
        if posted:
            metrics.commission_posted([(line.currency_code, line.amount) for line in posted])
        return left

    # --- reading ---------------------------------------------------------------------------------

    def statement(self, principal: Principal, rep_id: str, month: Month) -> StatementView:
        rep_id = _rep_id(rep_id)
        statement = self.store.statement(rep_id, month)
        if not self._may_read_statement(principal, rep_id, statement):
            raise NotFound("commission statement", rep_id)
        statement = statement or Statement(rep_id, month)
        plan = self.store.setup().plan_for(rep_id, statement.team_id, month)
        bonus = statement.bonus_under(plan)
        return StatementView(statement, plan.id if plan else "", bonus, statement.totals(bonus),
                             sees_costs(principal))

    @staticmethod
    def _may_read_statement(principal: Principal, rep_id: str, statement: Statement | None) -> bool:
        if _reads_all(principal):
            return True
        if principal.role == "rep":
            return principal.subject == rep_id
        if principal.role == "manager" and principal.team:
            # a manager reads what is credited to their team (an empty month shows nothing either way)
            return statement is None or statement.team_id == principal.team
        return False

    def team_totals(self, principal: Principal, team_id: str, month: Month) -> list[RepTotals]:
        team_id = _team_id(team_id)
        if not (_reads_all(principal) or (principal.role == "manager" and principal.team == team_id)):
            raise NotFound("commission team", team_id)  # a team's commission: its manager, finance and admins
        setup = self.store.setup()
        out: list[RepTotals] = []
        for rep_id in self.store.reps_in(f"team:{team_id}|{month}"):
            statement = self.store.statement(rep_id, month)
            if statement is None or statement.team_id != team_id:
                continue
            bonus = statement.bonus_under(setup.plan_for(rep_id, team_id, month))
            out.append(RepTotals(rep_id, statement.totals(bonus), statement.closed))
        return out

    # --- the close ---------------------------------------------------------------------------------

    def close_month(self, principal: Principal, month: Month) -> tuple[int, dict]:
        """Freeze `month` (finance, admins): every statement of it closed with
        its band bonus; later lines for it land in the next open month. Running
        it again finishes a close that was interrupted. Returns how many
        statements it froze now and the close's record."""
        if principal.role not in ("admin", "finance"):
            raise PermissionDenied("only finance and admins close a commission month")
        current = Month.of(self.now(), self.zone)
        if month >= current:
            raise FailedPrecondition([PreconditionViolation("MONTH_NOT_ENDED", str(month),
                                                            "only a month that has ended can be closed")],
                                     f"{month} has not ended")
        decision = self.store.mark_closed(month, principal.subject)
        setup = self.store.setup()
        frozen = 0
        for rep_id in self.store.reps_in(f"month:{month}"):
            def freeze(current_statement: Statement | None) -> bool:
                if current_statement is None or current_statement.closed:
                    return False
                plan = setup.plan_for(rep_id, current_statement.team_id, month)
                after = replace(model.close(current_statement, plan), revision=current_statement.revision + 1)
                self.store.save_statement(after, principal.subject)
                return True
            if write_with_retries("commission statement", rep_id,
                                  lambda: self.store.statement(rep_id, month), freeze):
                frozen += 1
        return frozen, decision

    def is_closed(self, month: Month) -> bool:
        return self.store.closed(month)


def _rep_id(rep_id: object) -> str:
    if not isinstance(rep_id, str) or not rep_id or len(rep_id) > REP_ID_MAX or not rep_id.isprintable() \
            or "|" in rep_id:
        raise InvalidArgument(FieldViolation("rep_id", f"must be a rep id of 1 to {REP_ID_MAX} characters"))
    return rep_id


def _team_id(team_id: object) -> str:
    if not isinstance(team_id, str) or not team_id or len(team_id) > REP_ID_MAX or not team_id.isprintable() \
            or "|" in team_id:
        raise InvalidArgument(FieldViolation("team_id", f"must be a team id of 1 to {REP_ID_MAX} characters"))
    return team_id

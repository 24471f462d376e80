"""Target, attainment and ranking use cases. Actual figures come from the
profitability roll-ups (app.features["rollups"]); nothing here scans orders.

Rights (enforced here, for every caller):
- set: admins any target; managers their own team's target and the targets
  of reps in their team (a rep's target belongs to the team that set it: a
  manager of another team is refused, and so is a rep the roll-ups of the
  target's month and the three before attribute to another team; admins
  may move it by naming the team);
- read targets and attainment: finance, admins and integrations with
  sales:read all; managers their team and the reps attributed to it (by the
  roll-ups in the range, or, when they attribute the rep to no team, by a
  target of the range); a rep their own and
  their team's; margin figures only for managers, finance and admins;
- rankings: finance, admins and sales:read integrations every rep or one
  team; managers their own team; a rep their own team's ranking, with every
  rep's rank and id but only their own figure (never a margin figure), so a
  rep knows where they stand without reading colleagues' books.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, PermissionDenied

from crm_sales import access
from crm_sales.profitability.months import Month
from crm_sales.profitability.targets import model
from crm_sales.profitability.targets.model import Goals, MonthFigures, Ranked, Target
from crm_sales.profitability.targets.store import TargetStore


@dataclass(frozen=True)
class AttainmentReport:
    scope: str
    subject_id: str
    currency: str
    months: list[MonthFigures]
    total: MonthFigures
    margin_hidden: bool


@dataclass(frozen=True)
class RankEntry:
    rank: int
    rep_id: str
    team_id: str
    value: int
    value_hidden: bool


@dataclass(frozen=True)
class Ranking:
    metric: str
    entries: list[RankEntry]
    own: RankEntry | None
    ranked: int


def _reads_all(principal: Principal) -> bool:
    return principal.role in ("admin", "finance") or (
        principal.role == "integration" and access.READ_SCOPE in principal.scopes)


def _goals(figures) -> Goals:
    return Goals(figures.revenue, figures.margin, figures.cash)


def _hide_margin(goals: Goals) -> Goals:
    return Goals(goals.revenue, 0, goals.cash)


class TargetService:
    def __init__(self, store: TargetStore, features: dict):
        self.store = store
        self.features = features  # app.features: "rollups" is looked up at call time

    @property
    def rollups(self):
        return self.features["rollups"]

    # --- targets ------------------------------------------------------------------------

    def set(self, principal: Principal, scope: str, subject_id: str, team_id: str, month: str, currency: str,
            revenue: int, margin: int, cash: int) -> Target:
        scope = model.clean_scope(scope)
        subject_id = model.clean_subject(subject_id)
        team_id = model.clean_subject(team_id, "team_id", required=False)
        when = Month.parse(month)
        currency = model.clean_currency(currency)
        goals = model.clean_goals(revenue, margin, cash)
        if principal.role == "manager":
            if not principal.team:
                raise PermissionDenied("a manager without a team sets no targets")
            if scope == "team" and subject_id != principal.team:
                raise PermissionDenied("managers set their own team's target only")
            if team_id and team_id != principal.team:
                raise PermissionDenied("managers set targets of their own team's reps only")
            if scope == "rep" and self._sells_for_another_team(principal, subject_id, when.plus(-3), when,
                                                                 currency):
                raise PermissionDenied("managers set targets of their own team's reps only")
            team_id = principal.team
        elif principal.role != "admin":
            raise PermissionDenied("only managers and admins set targets")
        if scope == "team":
            team_id = subject_id

        def check(current: Target | None) -> None:
            if principal.role == "manager" and current is not None and current.team_id != principal.team:
                raise PermissionDenied("this rep's target belongs to another team")

        target = Target(scope, subject_id, team_id, when, currency, goals)
        if principal.role == "admin" and not team_id and scope == "rep":
            existing = self.store.get(scope, subject_id, when, currency)
            target = Target(scope, subject_id, existing.team_id if existing else "", when, currency, goals)
        stored = self.store.put(target, principal.subject, check)
        return self._shown(principal, stored)

    def list(self, principal: Principal, scope: str, subject_id: str, start: str, end: str,
             currency: str) -> list[Target]:
        scope = model.clean_scope(scope)
        subject_id = model.clean_subject(subject_id)
        months = model.clean_range(start, end)
        currency = model.clean_currency(currency)
        found = self.store.months(scope, subject_id, months, currency)
        self._require_read(principal, scope, subject_id, months, currency, list(found.values()))
        return [self._shown(principal, found[m]) for m in months if m in found]

    def _sells_for_another_team(self, principal: Principal, rep_id: str, start: Month, end: Month,
                                currency: str) -> bool:
        """Whether the roll-ups attribute the rep's latest sales in start..end to a team not the caller's
        (a manager claiming another team's rep by setting the first target would then read their figures)."""
        attributed = self.rollups.reps(start, end, currency).get(rep_id)
        return attributed is not None and attributed.team_id != principal.team

    @staticmethod
    def _shown(principal: Principal, target: Target) -> Target:
        if access.sees_costs(principal):
            return target
        return Target(target.scope, target.subject_id, target.team_id, target.month, target.currency,
                      _hide_margin(target.goals), target.revision, target.updated_at, target.updated_by)

    def _require_read(self, principal: Principal, scope: str, subject_id: str, months: list[Month], currency: str,
                      targets: list[Target]) -> None:
        access.require_any_read(principal)
        if _reads_all(principal):
            return
        if principal.role == "manager" and principal.team:
            if scope == "team" and subject_id == principal.team:
                return
            if scope == "rep":
                attributed = self.rollups.reps(months[0], months[-1], currency).get(subject_id)
                if attributed is not None:  # the roll-ups tell whose rep it is: a target filed elsewhere does not
                    if attributed.team_id == principal.team:
                        return
                elif any(t.team_id == principal.team for t in targets):
                    return
        if principal.role == "rep":
            if scope == "rep" and subject_id == principal.subject:
                return
            if scope == "team" and principal.team and subject_id == principal.team:
                return
        raise PermissionDenied("you may read your own (and your team's) targets only")

    # --- attainment -----------------------------------------------------------------------

    def attainment(self, principal: Principal, scope: str, subject_id: str, start: str, end: str,
                   currency: str) -> AttainmentReport:
        scope = model.clean_scope(scope)
        subject_id = model.clean_subject(subject_id)
        months = model.clean_range(start, end)
        currency = model.clean_currency(currency)
        targets = self.store.months(scope, subject_id, months, currency)
        self._require_read(principal, scope, subject_id, months, currency, list(targets.values()))
        actual = self._actuals(scope, subject_id, months, currency)
        hidden = not access.sees_costs(principal)
        rows = []
        for m in months:
            target = targets[m].goals if m in targets else Goals()
            got = actual.get(m, Goals())
            rows.append(MonthFigures(str(m), _hide_margin(target) if hidden else target,
                                     _hide_margin(got) if hidden else got))
        return AttainmentReport(scope, subject_id, currency, rows, model.total(rows), hidden)

    def _actuals(self, scope: str, subject_id: str, months: list[Month], currency: str) -> dict[Month, Goals]:
        if scope == "rep":
            return {m: _goals(f) for m, f in self.rollups.rep_series(subject_id, months[0], months[-1], currency)}
        out = {}
        for m in months:  # a team's month: its reps as the roll-ups attribute them that month
            reps = self.rollups.reps(m, m, currency)
            goals = Goals()
            for attributed in reps.values():
                if attributed.team_id == subject_id:
                    goals = goals + _goals(attributed.figures)
            out[m] = goals
        return out

    # --- rankings ---------------------------------------------------------------------------

    def rank(self, principal: Principal, metric: str, start: str, end: str, currency: str, team_id: str = "",
             limit: int = 0) -> Ranking:
        metric = model.clean_metric(metric)
        months = model.clean_range(start, end)
        currency = model.clean_currency(currency)
        team_id = model.clean_subject(team_id, "team_id", required=False)
        if not isinstance(limit, int) or not 0 <= limit <= 500:
            raise InvalidArgument(FieldViolation("limit", "must be from 1 to 500 (0: 100)"))
        limit = limit or 100
        access.require_any_read(principal)
        if _reads_all(principal):
            scope_team = team_id
        elif principal.role in ("manager", "rep"):
            if team_id and team_id != principal.team:
                raise PermissionDenied("you may rank your own team's reps only")
            scope_team = principal.team
            if principal.role == "manager" and not scope_team:
                raise PermissionDenied("a manager without a team ranks nobody")
        else:
            raise PermissionDenied("your role reads no rankings")
        reps = self.rollups.reps(months[0], months[-1], currency)
        if metric == "new_customers":
            counts = self.rollups.new_customers_by_rep(months[0], months[-1], currency)
            values = {rep: (n, reps[rep].team_id if rep in reps else "") for rep, n in counts.items()}
        else:
            values = {rep: (_metric(a.figures, metric), a.team_id) for rep, a in reps.items()}
        if scope_team:
            values = {rep: v for rep, v in values.items() if v[1] == scope_team}
        elif principal.role == "rep":
            values = {rep: v for rep, v in values.items() if rep == principal.subject}  # no team: only oneself
        ranked = model.rank(values)
        entries = [self._entry(principal, metric, r) for r in ranked]
        own = next((e for e in entries if e.rep_id == principal.subject), None)
        return Ranking(metric, entries[:limit], own, len(entries))

    @staticmethod
    def _entry(principal: Principal, metric: str, r: Ranked) -> RankEntry:
        hidden = (metric == "margin" and not access.sees_costs(principal)) or (
            principal.role == "rep" and r.rep_id != principal.subject)
        return RankEntry(r.rank, r.rep_id, r.team_id, 0 if hidden else r.value, hidden)


def _metric(figures, metric: str) -> int:
    return {"revenue": figures.revenue, "margin": figures.margin, "cash": figures.cash,
            "orders": figures.orders}[metric]

"""Contribution reports: the roll-ups as the caller may see them.

Rights (checked here, in the service): reps see their own customers (those
whose latest counted order in the period was theirs) and their own rep
figures, never cost of goods; managers their team's customers and reps;
finance, admins and integrations with sales:read everything. The report by
product is company-wide and for managers, finance and admins only.

A contribution rate is a member's margin over the total margin of the
period among the members the caller may see (filters narrow the rows
listed, not that total), in ppm: integers only.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from crm_kit.validation import clean_text

from crm_sales import access
from crm_sales.profitability.months import Month
from crm_sales.profitability.rollups.model import CUSTOMER, PRODUCT, REP, ZERO, Attributed, Figures, change_ppm, rate_ppm
from crm_sales.profitability.rollups.service import RollupService, check_period

DEFAULT_CURRENCY = "CNY"
# A page is at most MAX_PAGE rows (the CSV export reads in pages this big: each page recomputes the report).
MAX_PAGE, DEFAULT_PAGE = 5000, 100


@dataclass(frozen=True)
class ReportRow:
    id: str
    rank: int
    attributed: Attributed
    rate_ppm: int
    value_grade: str = ""


@dataclass(frozen=True)
class Report:
    dimension: str
    start: Month
    end: Month
    currency: str
    total: Figures
    member_count: int
    rows: list[ReportRow]
    next_page_token: str
    shows_cost: bool = True  # False for reps: cost of goods is not shown (margin and net are)


@dataclass(frozen=True)
class SeriesPoint:
    month: Month
    figures: Figures
    year_earlier: Figures

    @property
    def change(self) -> Figures:
        return self.figures - self.year_earlier

    @property
    def margin_change_ppm(self) -> int | None:
        return change_ppm(self.figures.margin, self.year_earlier.margin)


@dataclass(frozen=True)
class Filters:
    team_id: str = ""
    rep_id: str = ""
    region: str = ""
    value_grade: str = ""


def validate_currency(code: str) -> str:
    code = (code or "").strip() or DEFAULT_CURRENCY
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise InvalidArgument(FieldViolation("currency_code", "must be an ISO 4217 code such as CNY"))
    return code


def _filter_text(value: str, field_name: str) -> str:
    return clean_text(value or "", field_name, 100)


class ProfitReports:
    def __init__(self, rollups: RollupService, features: dict | None = None, customers=None):
        self.rollups = rollups
        self.features = features if features is not None else {}
        self.customers = customers

    # --- who sees what ------------------------------------------------------------------

    def _require_reader(self, principal: Principal, dimension: str) -> None:
        access.require_any_read(principal)
        if principal.role == "agent":
            raise PermissionDenied("profit figures are not shown to agents")
        if principal.role not in ("rep", "manager", "finance", "admin", "integration"):
            raise PermissionDenied("your role may not read profit figures")
        if dimension == PRODUCT and principal.role == "rep":
            raise PermissionDenied("the report by product is for managers, finance and admins")

    @staticmethod
    def _visible(principal: Principal, dimension: str, member: str, a: Attributed) -> bool:
        if principal.role == "rep":
            return a.owner_id == principal.subject if dimension == CUSTOMER else member == principal.subject
        if principal.role == "manager":
            return dimension == PRODUCT or (bool(principal.team) and a.team_id == principal.team)
        return True

    @staticmethod
    def shows_cost(principal: Principal) -> bool:
        """Reps never see cost of goods (margin and net stay: their contribution)."""
        return access.sees_costs(principal) or principal.role == "integration"

    # --- the report ------------------------------------------------------------------------

    def report(self, principal: Principal, dimension: str, start: Month, end: Month, currency: str,
               filters: Filters = Filters(), *, page_size: int = 0, page_token: str = "") -> Report:
        self._require_reader(principal, dimension)
        check_period(start, end)
        currency = validate_currency(currency)
        filters = Filters(*(_filter_text(v, n) for v, n in (
            (filters.team_id, "team_id"), (filters.rep_id, "rep_id"), (filters.region, "region"),
            (filters.value_grade, "value_grade"))))
        if not 0 <= page_size <= MAX_PAGE:
            raise InvalidArgument(FieldViolation("page_size", f"must be from 0 to {MAX_PAGE}"))
        size = page_size or DEFAULT_PAGE
        query = {"d": dimension, "s": str(start), "e": str(end), "c": currency, "u": principal.subject,
                 "f": [filters.team_id, filters.rep_id, filters.region, filters.value_grade]}
        position = paging.decode(page_token, query) or {}
        offset = position.get("o", 0)
        if not isinstance(offset, int) or offset < 0:
            raise InvalidArgument(FieldViolation("page_token", "is not a token of this report"))

        period = {CUSTOMER: self.rollups.customers, PRODUCT: self.rollups.products, REP: self.rollups.reps}[dimension]
        members = {m: a for m, a in period(start, end, currency).items() if self._visible(principal, dimension, m, a)}
        total = ZERO
        for a in members.values():
            total = total + a.figures
        ranked = sorted(members.items(), key=lambda item: (-item[1].figures.margin, item[0]))
        ranks = {member: n for n, (member, _a) in enumerate(ranked, start=1)}
        # A grade is one read per customer: every member's only to filter by grade, else the page's.
        grades = self._grades([m for m, _a in ranked]) if dimension == CUSTOMER and filters.value_grade else {}
        matching = [(m, a) for m, a in ranked if self._matches(dimension, m, a, filters, grades)]
        page = matching[offset:offset + size]
        if dimension == CUSTOMER and not filters.value_grade:
            grades = self._grades([m for m, _a in page])
        rows = [ReportRow(m, ranks[m], a, rate_ppm(a.figures.margin, total.margin),
                          grades.get(m, "")) for m, a in page]
        more = offset + size < len(matching)
        next_token = paging.encode({"o": offset + size}, query) if more else ""
        return Report(dimension, start, end, currency, total, len(matching), rows, next_token,
                      self.shows_cost(principal))

    def _grades(self, customer_ids: list[str]) -> dict[str, str]:
        grades = self.features.get("value_grades")
        if grades is None or not customer_ids:
            return {}
        return dict(grades.current(customer_ids))

    @staticmethod
    def _matches(dimension: str, member: str, a: Attributed, f: Filters, grades: dict[str, str]) -> bool:
        if f.team_id and a.team_id != f.team_id:
            return False
        if f.rep_id and (member if dimension == REP else a.owner_id) != f.rep_id:
            return False
        if f.region and a.region != f.region:
            return False
        if f.value_grade and grades.get(member, "") != f.value_grade:
            return False
        return True

    # --- one member's series -------------------------------------------------------------

    def series(self, principal: Principal, dimension: str, member: str, start: Month, end: Month,
               currency: str) -> list[SeriesPoint]:
        self._require_reader(principal, dimension)
        check_period(start, end)
        currency = validate_currency(currency)
        if not isinstance(member, str) or not member.strip() or len(member) > 100:
            raise InvalidArgument(FieldViolation("id", "is required (a customer, product or rep id)"))
        self._require_member(principal, dimension, member, start, end, currency)
        if dimension == CUSTOMER:
            now, before = self.rollups.customer_series_and_year_before(member, start, end, currency)
        else:
            read = self.rollups.product_series if dimension == PRODUCT else self.rollups.rep_series
            now = read(member, start, end, currency)
            before = read(member, start.year_earlier(), end.year_earlier(), currency)
        return [SeriesPoint(month, figures, earlier) for (month, figures), (_m, earlier) in zip(now, before)]

    def _require_member(self, principal: Principal, dimension: str, member: str, start: Month, end: Month,
                        currency: str) -> None:
        if dimension == CUSTOMER:
            access.require_customer_id(member)
            if self.customers is not None:
                access.require_read(principal, self.customers.get(member))  # NotFound when not theirs
            return
        if dimension != REP:
            return
        if not access.may_see_book(principal, rep_id=member):
            raise NotFound("rep", "")
        if principal.role == "manager":
            # A rep of the manager's team: as the period's figures attribute the rep (a rep read is cheap).
            rep = self.rollups.reps(start, end, currency).get(member)
            if rep is None or rep.team_id != principal.team:
                raise NotFound("rep", "")

    # --- the rebuild -------------------------------------------------------------------------

    def rebuild(self, principal: Principal) -> tuple[int, int]:
        if principal.role != "admin":
            raise PermissionDenied("only admins rebuild the profit roll-ups")
        return self.rollups.rebuild()

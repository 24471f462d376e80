"""Profit contribution reports: REST in, the sales service's
ProfitabilityService gRPC out; the report also as CSV (cells a spreadsheet
would run as a formula neutralised, as the CLI's exports do)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from flask import Blueprint, Response, g
from pydantic import BaseModel, Field

from crm.sales.v1 import profitability_service_pb2 as pb
from crm.sales.v1 import profitability_service_pb2_grpc as pb_grpc
from crm_kit.spreadsheet import neutralize_formula

from crm_gateway.fields import NEXT_PAGE, Out, PageToken, Query, text
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("sales_profitability", __name__, url_prefix="/api/v1")

# The service decides what each caller sees (reps: their own customers; managers: their team).
READ = Policy(("admin", "manager", "rep", "finance", "integration"), scope="sales:read")
ADMIN = Policy(("admin",))
Dimension = Literal["customer", "product", "rep"]
_DIMENSION_PB = {"customer": pb.CONTRIBUTION_DIMENSION_CUSTOMER, "product": pb.CONTRIBUTION_DIMENSION_PRODUCT,
                 "rep": pb.CONTRIBUTION_DIMENSION_REP}
_DIMENSION_JSON = {v: k for k, v in _DIMENSION_PB.items()}
MonthText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", description="A month, YYYY-MM.")]
_NOT_FOUND = {404: "No such customer or rep, or not one you may see."}
# A CSV export reads the report a page at a time, up to this many rows.
CSV_MAX_ROWS = 100_000
CSV_PAGE = 5000  # the service's largest page: every page recomputes the report
CSV_COLUMNS = ("rank", "id", "revenue_minor_units", "cost_minor_units", "margin_minor_units", "expenses_minor_units",
               "net_minor_units", "order_count", "cash_minor_units", "contribution_rate", "owner_id", "team_id",
               "region", "margin_grade", "value_grade")


class ReportQuery(Query):
    dimension: Dimension = "customer"
    start_month: MonthText
    end_month: MonthText
    currency_code: Annotated[str, Field(pattern="^[A-Z]{3}$", description="ISO 4217; CNY when left out.")] = "CNY"
    team_id: text(100, description="Only this team's customers or reps.") = ""
    rep_id: text(100, description="Only this rep's customers (or this rep).") = ""
    region: text(100, description="Only customers of this region (province).") = ""
    value_grade: text(8, description="Only customers of this value grade.") = ""
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100
    page_token: PageToken = ""


class CsvQuery(Query):
    dimension: Dimension = "customer"
    start_month: MonthText
    end_month: MonthText
    currency_code: Annotated[str, Field(pattern="^[A-Z]{3}$")] = "CNY"
    team_id: text(100) = ""
    rep_id: text(100) = ""
    region: text(100) = ""
    value_grade: text(8) = ""


class SeriesPath(BaseModel):
    dimension: Dimension
    member_id: text(100, 1)


class SeriesQuery(Query):
    start_month: MonthText
    end_month: MonthText
    currency_code: Annotated[str, Field(pattern="^[A-Z]{3}$")] = "CNY"


class Figures(Out):
    revenue_minor_units: int
    cost_minor_units: Annotated[int, Field(description="0 for reps (they see margin, not cost).")]
    margin_minor_units: int
    expenses_minor_units: int
    net_minor_units: int
    order_count: int
    cash_minor_units: Annotated[int, Field(description="Receipts minus refunds and voids in the period.")]


def figures_json(f: pb.ContributionFigures) -> dict:
    return {"revenue_minor_units": f.revenue_minor_units, "cost_minor_units": f.cost_minor_units,
            "margin_minor_units": f.margin_minor_units, "expenses_minor_units": f.expenses_minor_units,
            "net_minor_units": f.net_minor_units, "order_count": f.order_count,
            "cash_minor_units": f.cash_minor_units}


class Row(Out):
    id: str
    rank: int
    figures: Figures
    contribution_rate_ppm: Annotated[int, Field(description="Margin over the period's total margin, in ppm.")]
    contribution_rate: Annotated[str, Field(description="The same rate as an exact decimal, e.g. 0.123457.")]
    owner_id: str
    team_id: str
    region: str
    margin_grade: str
    value_grade: str


class Report(Out):
    dimension: Dimension
    start_month: str
    end_month: str
    currency_code: str
    total: Figures
    member_count: int
    rows: list[Row]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(r: pb.ContributionReport) -> dict:
        return {"dimension": _DIMENSION_JSON[r.dimension], "start_month": r.start_month, "end_month": r.end_month,
                "currency_code": r.currency_code, "total": figures_json(r.total), "member_count": r.member_count,
                "rows": [row_json(row) for row in r.rows], "next_page_token": r.next_page_token}


def row_json(row: pb.ContributionRow) -> dict:
    return {"id": row.id, "rank": row.rank, "figures": figures_json(row.figures),
            "contribution_rate_ppm": row.contribution_rate_ppm, "contribution_rate": row.contribution_rate,
            "owner_id": row.owner_id, "team_id": row.team_id, "region": row.region,
            "margin_grade": row.margin_grade, "value_grade": row.value_grade}


class SeriesMonth(Out):
    month: str
    figures: Figures
    year_earlier: Figures
    change: Figures
    margin_change_ppm: Annotated[int | None, Field(description="null when the year-earlier margin is 0.")]
    margin_change_rate: str


class Series(Out):
    dimension: Dimension
    id: str
    currency_code: str
    months: list[SeriesMonth]
    total: Figures
    total_year_earlier: Figures

    @staticmethod
    def from_pb(s: pb.ContributionSeries) -> dict:
        return {"dimension": _DIMENSION_JSON[s.dimension], "id": s.id, "currency_code": s.currency_code,
                "months": [{"month": m.month, "figures": figures_json(m.figures),
                            "year_earlier": figures_json(m.year_earlier), "change": figures_json(m.change),
                            "margin_change_ppm": m.margin_change_ppm if m.HasField("margin_change_ppm") else None,
                            "margin_change_rate": m.margin_change_rate} for m in s.months],
                "total": figures_json(s.total), "total_year_earlier": figures_json(s.total_year_earlier)}


class Rebuilt(Out):
    documents: int
    rewritten: int

    @staticmethod
    def from_pb(r: pb.RebuildRollupsResponse) -> dict:
        return {"documents": r.documents, "rewritten": r.rewritten}


def stub() -> pb_grpc.ProfitabilityServiceStub:
    return g.downstream.stub("sales", pb_grpc.ProfitabilityServiceStub)


def _report_timeout() -> float:
    """A report reads every member of the period: the deadline of lists, not of one record."""
    return g.downstream.settings.list_timeout_seconds


def _request(q, page_size: int, page_token: str) -> pb.GetContributionReportRequest:
    return pb.GetContributionReportRequest(
        dimension=_DIMENSION_PB[q.dimension], start_month=q.start_month, end_month=q.end_month,
        currency_code=q.currency_code, team_id=q.team_id, rep_id=q.rep_id, region=q.region,
        value_grade=q.value_grade, page_size=page_size, page_token=page_token)


# --- routes --------------------------------------------------------------------------------

@route(bp, "GET", "/profitability/contribution", "getContributionReport",
       "Profit contribution over a period, ranked by margin", allow=READ, query=ReportQuery,
       ok=Ok(Report, "One page of the ranked report."), service="sales", tags=("profitability",),
       description="Each customer's (product's, rep's) revenue, margin, net contribution and contribution rate "
                   "over whole months. Reps: their own customers; managers: their team; finance and admins: all. "
                   "By product: managers, finance and admins.")
def get_report(a: Args):
    q = a.query
    return stub().GetContributionReport(_request(q, q.page_size, q.page_token), timeout=_report_timeout())


@route(bp, "GET", "/profitability/contribution.csv", "exportContributionReport",
       "The contribution report as CSV", allow=READ, query=CsvQuery,
       ok=Ok(None, "CSV (UTF-8 with a byte-order mark, for Excel).", content_type="text/csv"), service="sales",
       tags=("profitability",), description=f"Every row of the report (at most {CSV_MAX_ROWS}), ranked.")
def export_report(a: Args):
    q = a.query
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    token, written = "", 0
    while written < CSV_MAX_ROWS:
        page = stub().GetContributionReport(_request(q, CSV_PAGE, token), timeout=_report_timeout())
        for row in page.rows:
            f = row.figures
            # Numbers stay numbers (a quoted "'-3000" is text a SUM skips); only text cells could be formulas.
            writer.writerow([row.rank, neutralize_formula(row.id), f.revenue_minor_units, f.cost_minor_units,
                             f.margin_minor_units, f.expenses_minor_units, f.net_minor_units, f.order_count,
                             f.cash_minor_units, row.contribution_rate,
                             *(neutralize_formula(v) for v in (row.owner_id, row.team_id, row.region,
                                                               row.margin_grade, row.value_grade))])
            written += 1
        token = page.next_page_token
        if not token:
            break
    name = f"contribution-{q.dimension}-{q.start_month}-{q.end_month}.csv"
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@route(bp, "GET", "/profitability/series/<dimension>/<member_id>", "getContributionSeries",
       "One customer's (product's, rep's) figures month by month, beside the year before", allow=READ,
       path=SeriesPath, query=SeriesQuery, ok=Ok(Series, "The series."), errors=_NOT_FOUND, service="sales",
       tags=("profitability",))
def get_series(a: Args):
    q = a.query
    return stub().GetContributionSeries(pb.GetContributionSeriesRequest(
        dimension=_DIMENSION_PB[a.path.dimension], id=a.path.member_id, start_month=q.start_month,
        end_month=q.end_month, currency_code=q.currency_code))


@route(bp, "POST", "/profitability/rollups/rebuild", "rebuildProfitRollups",
       "Recompute every profit roll-up from the orders, plans and approved expenses", allow=ADMIN,
       ok=Ok(Rebuilt, "What was recomputed and rewritten."), service="sales", tags=("profitability",),
       description="Admins; run it in a quiet moment (events applied during the run may count twice or not at all "
                   "until the next rebuild). A large store takes longer than the gateway waits (503 while it "
                   "goes on, as for any downstream deadline): use `crm profitability rebuild` there.")
def rebuild(a: Args):
    return stub().RebuildRollups(pb.RebuildRollupsRequest(), timeout=_report_timeout())

"""gRPC transport for the contribution reports: messages in, use cases, messages out."""

from __future__ import annotations

from crm.sales.v1 import profitability_service_pb2 as pb
from crm.sales.v1 import profitability_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_sales.profitability.months import Month
from crm_sales.profitability.rollups.model import CUSTOMER, PRODUCT, REP, ZERO, Figures, ppm_text
from crm_sales.profitability.rollups.reports import ProfitReports, Report, SeriesPoint, Filters

DIMENSION_FROM_PB = {pb.CONTRIBUTION_DIMENSION_UNSPECIFIED: CUSTOMER, pb.CONTRIBUTION_DIMENSION_CUSTOMER: CUSTOMER,
                     pb.CONTRIBUTION_DIMENSION_PRODUCT: PRODUCT, pb.CONTRIBUTION_DIMENSION_REP: REP}
DIMENSION_TO_PB = {CUSTOMER: pb.CONTRIBUTION_DIMENSION_CUSTOMER, PRODUCT: pb.CONTRIBUTION_DIMENSION_PRODUCT,
                   REP: pb.CONTRIBUTION_DIMENSION_REP}


def dimension_of(value: int) -> str:
    if value not in DIMENSION_FROM_PB:
        raise InvalidArgument(FieldViolation("dimension", "is not a known dimension"))
    return DIMENSION_FROM_PB[value]


def period_of(request) -> tuple[Month, Month]:
    return Month.parse(request.start_month, "start_month"), Month.parse(request.end_month, "end_month")


def figures_pb(f: Figures, shows_cost: bool = True) -> pb.ContributionFigures:
    """`shows_cost` False (reps): cost of goods sent as 0; margin and net are the true ones."""
    return pb.ContributionFigures(revenue_minor_units=f.revenue, cost_minor_units=f.cost if shows_cost else 0,
                                  margin_minor_units=f.margin, expenses_minor_units=f.expenses,
                                  net_minor_units=f.net, order_count=f.orders, cash_minor_units=f.cash)


def report_pb(r: Report) -> pb.ContributionReport:
    return pb.ContributionReport(
        dimension=DIMENSION_TO_PB[r.dimension], start_month=str(r.start), end_month=str(r.end),
        currency_code=r.currency, total=figures_pb(r.total, r.shows_cost), member_count=r.member_count,
        next_page_token=r.next_page_token,
        rows=[pb.ContributionRow(id=row.id, rank=row.rank, figures=figures_pb(row.attributed.figures, r.shows_cost),
                                 contribution_rate_ppm=row.rate_ppm, contribution_rate=ppm_text(row.rate_ppm),
                                 owner_id=row.attributed.owner_id, team_id=row.attributed.team_id,
                                 region=row.attributed.region, margin_grade=row.attributed.margin_grade,
                                 value_grade=row.value_grade) for row in r.rows])


def series_pb(dimension: str, member: str, currency: str, points: list[SeriesPoint], shows_cost: bool = True
              ) -> pb.ContributionSeries:
    out = pb.ContributionSeries(dimension=DIMENSION_TO_PB[dimension], id=member, currency_code=currency)
    total, earlier = ZERO, ZERO
    for p in points:
        month = out.months.add(month=str(p.month), figures=figures_pb(p.figures, shows_cost),
                               year_earlier=figures_pb(p.year_earlier, shows_cost),
                               change=figures_pb(p.change, shows_cost))
        change = p.margin_change_ppm
        if change is not None:
            month.margin_change_ppm = change
            month.margin_change_rate = ppm_text(change)
        total, earlier = total + p.figures, earlier + p.year_earlier
    out.total.CopyFrom(figures_pb(total, shows_cost))
    out.total_year_earlier.CopyFrom(figures_pb(earlier, shows_cost))
    return out


class ProfitabilityServicer(pb_grpc.ProfitabilityServiceServicer):
    def __init__(self, reports: ProfitReports):
        self.reports = reports

    def GetContributionReport(self, request, context):
        start, end = period_of(request)
        report = self.reports.report(
            current_principal(), dimension_of(request.dimension), start, end, request.currency_code,
            Filters(request.team_id, request.rep_id, request.region, request.value_grade),
            page_size=request.page_size, page_token=request.page_token)
        return report_pb(report)

    def GetContributionSeries(self, request, context):
        start, end = period_of(request)
        dimension = dimension_of(request.dimension)
        principal = current_principal()
        points = self.reports.series(principal, dimension, request.id, start, end, request.currency_code)
        return series_pb(dimension, request.id, request.currency_code or "CNY", points,
                         self.reports.shows_cost(principal))

    def RebuildRollups(self, request, context):
        documents, rewritten = self.reports.rebuild(current_principal())
        return pb.RebuildRollupsResponse(documents=documents, rewritten=rewritten)

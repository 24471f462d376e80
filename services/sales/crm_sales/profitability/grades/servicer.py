"""gRPC transport for customer value grades: messages in, use cases, messages out."""

from __future__ import annotations

from crm.sales.v1 import value_grade_service_pb2 as pb
from crm.sales.v1 import value_grade_service_pb2_grpc as pb_grpc
from crm_kit.grpc_server import current_principal

from crm_sales.profitability.grades.service import CustomerGrade, GradeService, RunResult
from crm_sales.wire import timestamp_pb


class ValueGradeServicer(pb_grpc.ValueGradeServiceServicer):
    def __init__(self, service: GradeService):
        self.service = service

    def GetCustomerValueGrade(self, request, context):
        return grade_pb(self.service.get(current_principal(), request.customer_id))

    def RunValueGrading(self, request, context):
        return run_pb(self.service.run(current_principal(), request.year), self.service.bands.grades)

    def GetValueGradingRun(self, request, context):
        return run_pb(self.service.get_run(current_principal(), request.run_id), self.service.bands.grades)


def grade_pb(g: CustomerGrade) -> pb.CustomerValueGrade:
    msg = pb.CustomerValueGrade(customer_id=g.customer_id, grade=g.grade, graded_year=g.graded_year)
    for change in g.history:
        entry = msg.history.add(grade=change.grade, graded_year=change.graded_year, run_id=change.run_id)
        if change.graded_at is not None:
            entry.graded_at.CopyFrom(timestamp_pb(change.graded_at))
    return msg


def run_pb(r: RunResult, grades: tuple[str, ...]) -> pb.ValueGradingRun:
    msg = pb.ValueGradingRun(run_id=r.run_id, graded_year=r.graded_year, graded=r.graded, changed=r.changed,
                             started_by=r.started_by)
    for grade in [*grades, *sorted(set(r.counts) - set(grades))]:
        if grade in r.counts:
            msg.counts.add(grade=grade, customers=int(r.counts[grade]))
    if r.started_at is not None:
        msg.started_at.CopyFrom(timestamp_pb(r.started_at))
    if r.finished_at is not None:
        msg.finished_at.CopyFrom(timestamp_pb(r.finished_at))
    return msg

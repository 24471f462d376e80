"""gRPC transport for scheduled visits: messages in, use cases, messages out."""

from __future__ import annotations

from datetime import datetime

from crm.customer.v1 import visit_service_pb2 as pb
from crm.customer.v1 import visit_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_customer.visits import model as rules
from crm_customer.interactions.servicer import datetime_from_pb, draft_from_pb, timestamp_pb
from crm_customer.interactions.servicer import to_pb as interaction_pb
from crm_customer.visits.service import VisitService
from crm_customer.visits.model import Visit

STATE_TO_PB = {name: pb.VisitState.Value(f"VISIT_STATE_{name.upper()}") for name in rules.STATES}


class VisitServicer(pb_grpc.VisitServiceServicer):
    def __init__(self, service: VisitService):
        self.service = service

    def ScheduleVisit(self, request, context):
        v = request.visit
        violations: list[FieldViolation] = []
        scheduled_at = None
        if v.HasField("schedule_time"):
            scheduled_at = _collect_time(violations, v.schedule_time, "scheduled_at")
        try:
            draft = rules.build_draft(customer_id=v.customer_id, scheduled_at=scheduled_at, purpose=v.purpose,
                                      recurrence_days=v.recurrence_days, rep_id=v.rep_id, now=self.service.clock())
        except InvalidArgument as err:
            violations.extend(err.violations)
        if violations:
            raise InvalidArgument(violations)
        return self._pb(self.service.schedule(current_principal(), draft, request.request_id))

    def GetVisit(self, request, context):
        return self._pb(self.service.get(current_principal(), request.id))

    def ListVisits(self, request, context):
        violations: list[FieldViolation] = []
        due_before = _collect_time(violations, request.due_before, "due_before") if request.HasField("due_before") else None
        if violations:
            raise InvalidArgument(violations)
        page, token = self.service.list(current_principal(), rep_id=request.rep_id, due_before=due_before,
                                        page_size=request.page_size, page_token=request.page_token,
                                        customer_id=request.customer_id)
        now = self.service.clock()
        return pb.ListVisitsResponse(visits=[to_pb(v, now) for v in page], next_page_token=token)

    def CompleteVisit(self, request, context):
        draft = draft_from_pb(request.interaction, self.service.clock(), channel="visit", default_direction="outbound")
        visit, entry, following = self.service.complete(current_principal(), request.id, draft)
        now = self.service.clock()
        response = pb.CompleteVisitResponse(visit=to_pb(visit, now), interaction=interaction_pb(entry))
        if following is not None:
            response.next_visit.CopyFrom(to_pb(following, now))
        return response

    def CancelVisit(self, request, context):
        return self._pb(self.service.cancel(current_principal(), request.id))

    def _pb(self, visit: Visit) -> pb.Visit:
        return to_pb(visit, self.service.clock())


def _collect_time(violations: list[FieldViolation], ts, field_name: str) -> datetime | None:
    try:
        return datetime_from_pb(ts, field_name)
    except InvalidArgument as err:
        violations.extend(err.violations)
        return None


def to_pb(v: Visit, now: datetime) -> pb.Visit:
    msg = pb.Visit(
        id=v.id, customer_id=v.customer_id, rep_id=v.rep_id, schedule_time=timestamp_pb(v.scheduled_at),
        purpose=v.purpose, recurrence_days=v.recurrence_days, state=STATE_TO_PB[v.state],
        overdue=v.is_overdue(now), create_time=timestamp_pb(v.created_at), created_by=v.created_by,
        interaction_sequence=v.interaction_sequence, next_visit_id=v.next_visit_id,
    )
    if v.closed_at is not None:
        msg.close_time.CopyFrom(timestamp_pb(v.closed_at))
    return msg

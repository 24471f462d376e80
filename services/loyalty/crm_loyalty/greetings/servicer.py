"""gRPC transport for the care plans: messages in, use cases, messages out."""

from __future__ import annotations

from datetime import date, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.loyalty.v1 import greeting_service_pb2 as pb
from crm.loyalty.v1 import greeting_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_loyalty.greetings.model import RunSummary, Template
from crm_loyalty.greetings.service import GreetingService
from crm_loyalty.greetings.store import Delivery


class GreetingServicer(pb_grpc.GreetingServiceServicer):
    def __init__(self, service: GreetingService):
        self.service = service

    def ListGreetingTemplates(self, request, context):
        found = self.service.list_templates(current_principal())
        return pb.ListGreetingTemplatesResponse(templates=[_template_pb(t, at) for t, at in found])

    def UpdateGreetingTemplate(self, request, context):
        t = request.template
        template, at = self.service.update_template(current_principal(), t.occasion, t.language, t.subject, t.body)
        return _template_pb(template, at)

    def ResetGreetingTemplate(self, request, context):
        return _template_pb(self.service.reset_template(current_principal(), request.occasion, request.language),
                            None)

    def RunGreetings(self, request, context):
        on_date = _date(request.on_date) if request.HasField("on_date") else None
        return run_pb(self.service.run_as_admin(current_principal(), on_date))

    def GetGreetingRun(self, request, context):
        return run_pb(self.service.get_run(current_principal(), request.run_id))

    def ListGreetingDeliveries(self, request, context):
        found = self.service.deliveries(current_principal(), request.customer_id, request.page_size)
        return pb.ListGreetingDeliveriesResponse(deliveries=[delivery_pb(d) for d in found])


def _date(d: common_pb2.Date) -> date:
    try:
        return date(d.year, d.month, d.day)
    except ValueError:
        raise InvalidArgument(FieldViolation("on_date", "not a calendar date")) from None


def _timestamp(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at)
    return ts


def _template_pb(t: Template, at: datetime | None) -> pb.GreetingTemplate:
    msg = pb.GreetingTemplate(occasion=t.occasion, language=t.language, subject=t.subject, body=t.body,
                              built_in=t.built_in)
    if at is not None:
        msg.update_time.CopyFrom(_timestamp(at))
    return msg


def run_pb(s: RunSummary) -> pb.RunGreetingsResponse:
    msg = pb.RunGreetingsResponse(
        on_date=common_pb2.Date(year=s.on_date.year, month=s.on_date.month, day=s.on_date.day), run_id=s.run_id,
        customers=s.customers, sent=s.sent, failed=s.failed, skipped=s.skipped, already_done=s.already_done,
        errors=s.errors, started_by=s.started_by, stopped_reason=s.stopped_reason)
    for name in ("started_at", "updated_at", "finished_at"):
        if (at := getattr(s, name)) is not None:
            getattr(msg, name).CopyFrom(_timestamp(at))
    return msg


def delivery_pb(d: Delivery) -> pb.GreetingDelivery:
    """Also the card's last greeting (L3)."""
    return pb.GreetingDelivery(occasion=d.occasion, year=d.year, channel=d.channel, outcome=d.outcome,
                               reason=d.reason, message_id=d.message_id, time=_timestamp(d.time))

"""gRPC transport for the interaction log: messages in, use cases, messages out."""

from __future__ import annotations

from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.customer.v1 import interaction_service_pb2 as pb
from crm.customer.v1 import interaction_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_customer.interactions import model as rules
from crm_customer.interactions.service import InteractionService
from crm_customer.interactions.model import Interaction, InteractionDraft, InteractionSummary, Money, QuoteLine

CHANNEL_TO_PB = {name: pb.InteractionChannel.Value(f"INTERACTION_CHANNEL_{name.upper()}") for name in rules.CHANNELS}
CHANNEL_FROM_PB = {v: k for k, v in CHANNEL_TO_PB.items()}
DIRECTION_TO_PB = {name: pb.InteractionDirection.Value(f"INTERACTION_DIRECTION_{name.upper()}")
                   for name in rules.DIRECTIONS}
DIRECTION_FROM_PB = {v: k for k, v in DIRECTION_TO_PB.items()}


class InteractionServicer(pb_grpc.InteractionServiceServicer):
    def __init__(self, service: InteractionService):
        self.service = service

    def RecordInteraction(self, request, context):
        draft = draft_from_pb(request.interaction, self.service.clock())
        return to_pb(self.service.record(current_principal(), request.customer_id, draft, request.request_id))

    def ListInteractions(self, request, context):
        page, token = self.service.list(current_principal(), request.customer_id, page_size=request.page_size,
                                        page_token=request.page_token)
        return pb.ListInteractionsResponse(interactions=[to_pb(i) for i in page], next_page_token=token)

    def GetInteractionSummary(self, request, context):
        return summary_to_pb(self.service.summary(current_principal(), request.customer_id, recent=request.recent))


# --- messages <-> domain (also used by the visit servicer) ---------------------------

def datetime_from_pb(ts: Timestamp, field_name: str) -> datetime:
    try:
        return ts.ToDatetime(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise InvalidArgument(FieldViolation(field_name, "is not a valid time")) from None


def timestamp_pb(dt: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(dt)
    return ts


def draft_from_pb(i: pb.Interaction, now: datetime, channel: str | None = None,
                  default_direction: str = "") -> InteractionDraft:
    """Validated draft; `channel` overrides (a completed visit is a visit)."""
    violations: list[FieldViolation] = []
    if channel is None:
        channel = CHANNEL_FROM_PB.get(i.channel, "")
        if not channel:
            violations.append(FieldViolation("channel", f"must be one of {', '.join(rules.CHANNELS)}"))
    direction = DIRECTION_FROM_PB.get(i.direction, "")
    if i.direction == pb.INTERACTION_DIRECTION_UNSPECIFIED:
        direction = default_direction
    if not direction:
        violations.append(FieldViolation("direction", f"must be one of {', '.join(rules.DIRECTIONS)}"))
    occurred_at = None
    if i.HasField("occur_time"):
        try:
            occurred_at = datetime_from_pb(i.occur_time, "occurred_at")
        except InvalidArgument as err:
            violations.extend(err.violations)
    try:
        draft = rules.build_draft(
            channel=channel or rules.CHANNELS[0], direction=direction or rules.DIRECTIONS[0], summary=i.summary,
            occurred_at=occurred_at,
            quote_lines=[QuoteLine(q.item, q.quantity, Money(q.unit_price.minor_units, q.unit_price.currency_code))
                         for q in i.quote_lines],
            commitments=list(i.commitments),
            next_follow_up=(i.next_follow_up_date.year, i.next_follow_up_date.month, i.next_follow_up_date.day)
            if i.HasField("next_follow_up_date") else None,
            rep_id=i.rep_id, now=now)
    except InvalidArgument as err:
        violations.extend(err.violations)
    if violations:
        raise InvalidArgument(violations)
    return draft


def money_pb(m: Money) -> common_pb2.Money:
    return common_pb2.Money(minor_units=m.minor_units, currency_code=m.currency_code)


def to_pb(i: Interaction) -> pb.Interaction:
    msg = pb.Interaction(
        customer_id=i.customer_id, sequence=i.sequence, channel=CHANNEL_TO_PB[i.channel],
        direction=DIRECTION_TO_PB[i.direction], rep_id=i.rep_id, occur_time=timestamp_pb(i.occurred_at),
        summary=i.summary,
        quote_lines=[pb.QuoteLine(item=q.item, quantity=q.quantity, unit_price=money_pb(q.unit_price))
                     for q in i.quote_lines],
        commitments=list(i.commitments), record_time=timestamp_pb(i.recorded_at), recorded_by=i.recorded_by,
    )
    total = i.quote_total
    if total is not None:
        msg.quote_total.CopyFrom(money_pb(total))
    if i.next_follow_up:
        d = i.next_follow_up
        msg.next_follow_up_date.CopyFrom(common_pb2.Date(year=d.year, month=d.month, day=d.day))
    return msg


def summary_to_pb(s: InteractionSummary) -> pb.InteractionSummary:
    msg = pb.InteractionSummary(customer_id=s.customer_id)
    for slot in ("last_quote", "last_commitment", "last_follow_up"):
        entry = getattr(s, slot)
        if entry is not None:
            getattr(msg, slot).CopyFrom(to_pb(entry))
    if s.last_contact_at is not None:
        msg.last_contact_time.CopyFrom(timestamp_pb(s.last_contact_at))
    msg.recent.extend(to_pb(entry) for entry in s.recent)
    return msg

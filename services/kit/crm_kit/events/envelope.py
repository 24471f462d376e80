"""Event envelopes: making, encoding and decoding them (`crm.events.v1`).

An event carries ids and what changed, never personal data; a consumer that
needs data asks the owning service. `TYPES` maps each event type to its
payload message, so decoding knows the class.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from google.protobuf.message import DecodeError, Message

from crm.events.v1 import events_pb2 as pb
from crm_kit import context

Envelope = pb.Envelope

CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"
CUSTOMER_OWNER_CHANGED = "customer.owner_changed"
CUSTOMER_CONSENT_CHANGED = "customer.consent_changed"
CUSTOMER_ERASED = "customer.erased"
INTERACTION_RECORDED = "interaction.recorded"
REFERRAL_LINKED = "referral.linked"
ORDER_CONFIRMED = "order.confirmed"
ORDER_AMENDED = "order.amended"
ORDER_DELIVERED = "order.delivered"
ORDER_CANCELLED = "order.cancelled"
ORDER_PAID = "order.paid"
PAYMENT_RECEIVED = "payment.received"
PAYMENT_REFUNDED = "payment.refunded"
CONTRACT_EXPIRING = "contract.expiring"
RECEIVABLES_CHANGED = "receivables.changed"
CUSTOMER_VALUE_GRADE_CHANGED = "customer.value_grade_changed"
EXPENSE_APPROVED = "expense.approved"
TIER_CHANGED = "tier.changed"

# Event type -> payload message class.
TYPES: dict[str, type[Message]] = {
    CUSTOMER_CREATED: pb.CustomerCreated,
    CUSTOMER_UPDATED: pb.CustomerUpdated,
    CUSTOMER_OWNER_CHANGED: pb.CustomerOwnerChanged,
    CUSTOMER_CONSENT_CHANGED: pb.CustomerConsentChanged,
    CUSTOMER_ERASED: pb.CustomerErased,
    INTERACTION_RECORDED: pb.InteractionRecorded,
    REFERRAL_LINKED: pb.ReferralLinked,
    ORDER_CONFIRMED: pb.OrderConfirmed,
    ORDER_AMENDED: pb.OrderAmended,
    ORDER_DELIVERED: pb.OrderDelivered,
    ORDER_CANCELLED: pb.OrderCancelled,
    ORDER_PAID: pb.OrderPaid,
    PAYMENT_RECEIVED: pb.PaymentReceived,
    PAYMENT_REFUNDED: pb.PaymentRefunded,
    CONTRACT_EXPIRING: pb.ContractExpiring,
    RECEIVABLES_CHANGED: pb.ReceivablesChanged,
    CUSTOMER_VALUE_GRADE_CHANGED: pb.CustomerValueGradeChanged,
    EXPENSE_APPROVED: pb.ExpenseApproved,
    TIER_CHANGED: pb.TierChanged,
}

EVENT_ID_PREFIX = "evt_"


class EventError(ValueError):
    """An event that cannot be made or read (unknown type, wrong payload, bad bytes)."""


def new_event_id() -> str:
    """`evt_` plus 128 random bits (never guessable, never time-ordered)."""
    return EVENT_ID_PREFIX + secrets.token_hex(16)


def new_event(type: str, subject_id: str, payload_msg: Message, producer: str) -> Envelope:  # noqa: A002
    """An envelope for `payload_msg`, stamped now (UTC) with the current request id."""
    expected = TYPES.get(type)
    if expected is None:
        raise EventError(f"unknown event type {type!r}")
    if not isinstance(payload_msg, expected):
        raise EventError(f"{type} carries {expected.__name__}, not {payload_msg.__class__.__name__}")
    env = Envelope(event_id=new_event_id(), type=type, producer=producer, subject_id=subject_id,
                   request_id=context.request_id.get())
    env.occurred_at.FromDatetime(datetime.now(timezone.utc))
    env.payload.Pack(payload_msg)
    return env


def encode(env: Envelope) -> bytes:
    return env.SerializeToString()


def decode(data: bytes) -> Envelope:
    env = Envelope()
    try:
        env.ParseFromString(data)
    except DecodeError as e:
        raise EventError(f"undecodable envelope: {e}") from None
    if not env.event_id or not env.type:
        raise EventError("envelope without event id or type")
    return env


def payload_of(env: Envelope) -> Message:
    """The envelope's payload as its message class (by `env.type`)."""
    cls = TYPES.get(env.type)
    if cls is None:
        raise EventError(f"unknown event type {env.type!r}")
    msg = cls()
    if not env.payload.Unpack(msg):
        raise EventError(f"{env.type} payload is {env.payload.TypeName()!r}, not {cls.DESCRIPTOR.full_name}")
    return msg


def occurred_at(env: Envelope) -> datetime:
    return env.occurred_at.ToDatetime(tzinfo=timezone.utc)

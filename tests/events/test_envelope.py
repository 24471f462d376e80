from __future__ import annotations

import pytest

from crm.events.v1 import events_pb2 as pb
from crm_kit import context
from crm_kit.events.envelope import TYPES, EventError, decode, encode, new_event, payload_of


def test_new_event_round_trips_with_request_id():
    token = context.request_id.set("req-123")
    try:
        env = new_event("customer.erased", "cus_1", pb.CustomerErased(customer_id="cus_1"), "customer")
    finally:
        context.request_id.reset(token)
    assert env.event_id.startswith("evt_") and len(env.event_id) >= 4 + 24
    back = decode(encode(env))
    assert back == env and back.request_id == "req-123" and back.producer == "customer"
    assert payload_of(back) == pb.CustomerErased(customer_id="cus_1")
    assert back.occurred_at.seconds > 0


def test_event_ids_are_distinct():
    ids = {new_event("customer.erased", "c", pb.CustomerErased(customer_id="c"), "customer").event_id
           for _ in range(1000)}
    assert len(ids) == 1000


def test_type_table_and_mismatches():
    assert {"customer.created", "customer.updated", "customer.owner_changed", "customer.consent_changed",
            "customer.erased", "interaction.recorded", "referral.linked", "order.confirmed", "order.paid",
            "payment.received", "payment.refunded", "contract.expiring"} <= set(TYPES)
    # Each type names its payload: "order.paid" carries crm.events.v1.OrderPaid.
    for name, cls in TYPES.items():
        assert cls.DESCRIPTOR.full_name == "crm.events.v1." + "".join(
            part.capitalize() for part in name.replace(".", "_").split("_")), name
    with pytest.raises(EventError):
        new_event("customer.erased", "c", pb.CustomerCreated(customer_id="c"), "customer")
    with pytest.raises(EventError):
        new_event("order.unknown", "c", pb.CustomerErased(customer_id="c"), "customer")
    with pytest.raises(EventError):
        decode(b"\xff\xff\xff")


def test_payloads_hold_no_personal_fields():
    """Events carry ids and what changed: no name, phone, e-mail or free-text fields."""
    banned = ("name", "phone", "email", "e_mail", "summary", "note", "address", "text")
    for cls in TYPES.values():
        for field in cls.DESCRIPTOR.fields:
            assert not any(b in field.name for b in banned), (cls.__name__, field.name)

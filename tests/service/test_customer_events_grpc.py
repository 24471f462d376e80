"""The customer service's domain events, as a consumer sees them on the
`events:customer` stream: one per change users rely on, carrying ids and
the names of what changed, never personal data."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import redis
from google.protobuf import field_mask_pb2

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import interaction_service_pb2 as ipb
from crm_kit.events import envelope as ev
from tests.service.support import as_, create, ts

MANAGER = as_("boss", "manager")
ADMIN = as_("root", "admin")


def events_about(events_redis_url: str, subject_id: str, until_type: str, seconds: float = 15.0) -> list:
    """Decoded events about `subject_id`, once one of type `until_type` has arrived (the relay is asynchronous)."""
    client = redis.Redis.from_url(events_redis_url)
    deadline = time.monotonic() + seconds
    while True:
        found = [ev.decode(fields[b"data"]) for _id, fields in client.xrange("events:customer")]
        about = [e for e in found if e.subject_id == subject_id]
        if any(e.type == until_type for e in about) or time.monotonic() > deadline:
            return about
        time.sleep(0.05)


def test_creating_a_referred_customer_publishes_created_and_the_referral(stub, phone, events_redis_url):
    referrer = create(stub, phone(), display_name="推荐人")
    made = create(stub, phone(), display_name="被推荐", referred_by=referrer.id)
    events = events_about(events_redis_url, made.id, ev.REFERRAL_LINKED)
    by_type = {e.type: ev.payload_of(e) for e in events}
    assert by_type[ev.CUSTOMER_CREATED].owner_id == "rep-a"
    assert by_type[ev.CUSTOMER_CREATED].referred_by == referrer.id
    assert by_type[ev.REFERRAL_LINKED].referrer_id == referrer.id
    assert all(e.producer == "customer" and e.event_id.startswith("evt_") for e in events)


def test_an_update_names_the_changed_fields_and_a_consent_change_its_channel(stub, phone, events_redis_url):
    number = phone()
    made = create(stub, number, display_name="隐私测试")
    stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, stage="target", consent_sms=pb.Consent(state="granted")),
        update_mask=field_mask_pb2.FieldMask(paths=["stage", "consent_sms"]), etag=made.etag), metadata=as_())
    events = events_about(events_redis_url, made.id, ev.CUSTOMER_CONSENT_CHANGED)
    updated = [ev.payload_of(e) for e in events if e.type == ev.CUSTOMER_UPDATED]
    assert [sorted(u.changed_fields) for u in updated] == [["consent_sms", "stage"]]
    assert updated[0].version == 2
    consent = [ev.payload_of(e) for e in events if e.type == ev.CUSTOMER_CONSENT_CHANGED]
    assert [(c.channel, c.state) for c in consent] == [("sms", "granted")]
    # Ids and field names only: neither the name nor the phone travels on the stream.
    for e in events:
        raw = ev.encode(e)
        assert "隐私测试".encode() not in raw and number.encode() not in raw


def test_ownership_changes_and_erasure_are_published(stub, phone, events_redis_url):
    made = create(stub, phone())
    stub.TransferCustomer(pb.TransferCustomerRequest(id=made.id, to_owner_id="rep-b", reason="区域调整"),
                          metadata=MANAGER)
    stub.EraseCustomer(pb.EraseCustomerRequest(id=made.id, reason="customer asked"), metadata=ADMIN)
    events = events_about(events_redis_url, made.id, ev.CUSTOMER_ERASED)
    moved = [ev.payload_of(e) for e in events if e.type == ev.CUSTOMER_OWNER_CHANGED]
    assert [(m.action, m.from_owner_id, m.to_owner_id, m.changed_by) for m in moved] == \
        [("transfer", "rep-a", "rep-b", "boss")]
    assert [ev.payload_of(e).customer_id for e in events if e.type == ev.CUSTOMER_ERASED] == [made.id]


def test_recording_an_interaction_publishes_it_and_moves_no_customer_field(stub, log, phone, events_redis_url):
    made = create(stub, phone())
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=3)
    log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=made.id, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_INBOUND, summary="来电咨询",
        occur_time=ts(when))), metadata=as_())
    events = events_about(events_redis_url, made.id, ev.INTERACTION_RECORDED)
    recorded = [ev.payload_of(e) for e in events if e.type == ev.INTERACTION_RECORDED]
    assert len(recorded) == 1
    assert (recorded[0].channel, recorded[0].direction, recorded[0].recorded_by) == ("call", "inbound", "rep-a")
    assert recorded[0].occurred_at.ToDatetime(tzinfo=timezone.utc) == when
    # The last-contact time moved, which users do not edit: no customer.updated for it.
    assert [e.type for e in events if e.type == ev.CUSTOMER_UPDATED] == []

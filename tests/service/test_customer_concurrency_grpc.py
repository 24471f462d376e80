"""Writers of one customer never undo each other. FerretDB 1.24 applies update
operators as an unisolated read-modify-write, so the service claims a
revision for every write (profile edits, ownership changes, last-contact
touches from recorded interactions) and keeps concurrent lists (referrals)
as insert-only chains."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import interaction_service_pb2_grpc
from tests.service.support import as_, create, race


@pytest.fixture(scope="module")
def log(channel):
    return interaction_service_pb2_grpc.InteractionServiceStub(channel)


def record(log, customer_id: str, when: datetime):
    occurred = Timestamp()
    occurred.FromDatetime(when)
    return log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=customer_id, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_OUTBOUND, summary="回访",
        occur_time=occurred)), metadata=as_())


def test_recording_an_interaction_moves_last_contact_but_not_the_etag(stub, log, phone):
    made = create(stub, phone())
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)
    record(log, made.id, when)
    after = stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_())
    assert after.last_contact_time.ToDatetime(tzinfo=timezone.utc) == when
    assert after.etag == made.etag  # a rep editing since before the call is not refused
    edited = stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, stage="contacted"), update_mask=field_mask_pb2.FieldMask(paths=["stage"]),
        etag=made.etag), metadata=as_())
    assert edited.stage == "contacted" and edited.last_contact_time == after.last_contact_time


def test_profile_edits_racing_recorded_interactions_are_all_kept(stub, log, phone):
    made = create(stub, phone())
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    stop = threading.Event()

    def keep_calling():
        n = 0
        while not stop.is_set():
            n += 1
            record(log, made.id, base + timedelta(seconds=n))

    callers = [threading.Thread(target=keep_calling) for _ in range(3)]
    for t in callers:
        t.start()
    try:
        etag = made.etag
        for i in range(15):
            edited = stub.UpdateCustomer(pb.UpdateCustomerRequest(
                customer=pb.Customer(id=made.id, intent_notes=f"edit {i}"),
                update_mask=field_mask_pb2.FieldMask(paths=["intent_notes"]), etag=etag), metadata=as_())
            etag = edited.etag
    finally:
        stop.set()
        for t in callers:
            t.join()
    final = stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_())
    assert final.intent_notes == "edit 14" and final.etag == etag
    summary = log.GetInteractionSummary(ipb.GetInteractionSummaryRequest(customer_id=made.id), metadata=as_())
    assert summary.HasField("last_contact_time") and final.last_contact_time == summary.last_contact_time


def test_customers_referred_at_the_same_time_are_all_listed(stub, phone):
    referrer = create(stub, phone())
    numbers = [phone() for _ in range(12)]
    outcomes = race(12, lambda i: create(stub, numbers[i], referred_by=referrer.id).id)
    assert all(isinstance(o, str) for o in outcomes)
    listed = stub.ListReferrals(pb.ListReferralsRequest(id=referrer.id), metadata=as_()).referred_ids
    assert sorted(listed) == sorted(outcomes)


def test_a_referral_moved_to_another_referrer_is_listed_once_under_the_new_one(stub, phone):
    first, second = create(stub, phone()), create(stub, phone())
    friend = create(stub, phone(), referred_by=first.id)
    stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=friend.id, referred_by=second.id),
        update_mask=field_mask_pb2.FieldMask(paths=["referred_by"]), etag=friend.etag), metadata=as_())
    assert list(stub.ListReferrals(pb.ListReferralsRequest(id=first.id), metadata=as_()).referred_ids) == []
    assert list(stub.ListReferrals(pb.ListReferralsRequest(id=second.id), metadata=as_()).referred_ids) == [friend.id]


def test_a_phone_added_by_an_update_while_another_rep_creates_it_ends_up_with_one_customer(stub, phone, customer_db):
    for _round in range(3):
        existing = create(stub, phone(), as_("rep-a"))
        contested = phone()

        def attempt(i):
            if i % 2:
                return stub.UpdateCustomer(pb.UpdateCustomerRequest(
                    customer=pb.Customer(id=existing.id, phones=[existing.phones[0], contested]),
                    update_mask=field_mask_pb2.FieldMask(paths=["phones"])), metadata=as_("rep-a")).id
            return create(stub, contested, as_("rep-b")).id

        race(6, attempt)
        holders = [d["_id"] for d in customer_db.customers.find({"phones": contested}, {"_id": 1})]
        assert len(holders) == 1
        found = stub.LookupCustomer(pb.LookupCustomerRequest(phone=contested), metadata=as_("root", "admin"))
        assert found.id == holders[0]

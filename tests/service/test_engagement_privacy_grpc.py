"""A customer's interactions and visits in their data export, and gone (the
personal text at least) once the customer is erased: over real gRPC, with
the raw collections checked too."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf import json_format

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb
from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import visit_service_pb2 as vpb
from crm_customer.customers.service import CustomerService
from crm_customer.customers.store import CustomerStore
from crm_customer.interactions.model import build_draft
from crm_customer.interactions.service import InteractionService
from crm_customer.interactions.store import InteractionStore
from crm_kit.auth import Principal
from crm_kit.errors import NotFound
from crm_kit.persistence.chain import link_id
from tests.service.support import all_pages, as_in, code_of, create, ts

TEAM = "team-privacy"
as_ = as_in(TEAM)
REP_ID = "rep-privacy"
REP, ADMIN = as_(REP_ID), as_("root-privacy", "admin", team="")
NOW = datetime.now(timezone.utc).replace(microsecond=0)
ENGAGEMENT = ("interaction_entries", "interaction_heads", "interaction_buckets", "interaction_requests",
              "visits", "visit_rep_lists", "visit_reps", "visit_outcomes")


def secret(tag: str) -> str:
    """Personal text no other test writes, to look for afterwards."""
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def record(log, cid, summary, request_id="", **fields):
    entry = ipb.Interaction(channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_INBOUND,
                            summary=summary, **fields)
    return log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=cid, interaction=entry,
                                                              request_id=request_id), metadata=REP)


def plan(visits, cid, purpose, at=NOW + timedelta(days=1), every=0):
    visit = vpb.Visit(customer_id=cid, schedule_time=ts(at), purpose=purpose, recurrence_days=every)
    return visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=visit), metadata=REP)


def exported(stub, cid) -> dict:
    return json_format.MessageToDict(stub.ExportCustomerData(cpb.ExportCustomerDataRequest(id=cid),
                                                             metadata=ADMIN).data)


def erase(stub, cid):
    return stub.EraseCustomer(cpb.EraseCustomerRequest(id=cid, reason="erasure request"), metadata=ADMIN)


def raw_docs_holding(customer_db, *texts: str) -> list[dict]:
    """Documents of the log and the visits that still contain any of `texts` (a scan: fine in a test)."""
    return [doc for name in ENGAGEMENT for doc in customer_db[name].find({}) if any(t in str(doc) for t in texts)]


def test_export_holds_the_log_and_visits_and_erase_leaves_no_personal_text(stub, log, visits, phone, customer_db):
    from crm_customer.interactions.service import request_key

    cid = create(stub, phone(), REP, display_name="隐私测试").id
    said, item, promise, purpose, outcome = (secret("说过"), secret("商品"), secret("承诺"), secret("目的"),
                                             secret("结果"))
    quote = record(log, cid, said, request_id="erp-privacy-1",
                   quote_lines=[ipb.QuoteLine(item=item, quantity=2, unit_price=common_pb2.Money(
                       minor_units=329900, currency_code="CNY"))],
                   commitments=[promise], next_follow_up_date=common_pb2.Date(year=2030, month=1, day=31))
    for i in range(50):  # a full bucket of 50 too
        record(log, cid, f"{said} #{i}")
    open_visit = plan(visits, cid, purpose)
    recurring = plan(visits, cid, f"{purpose} 定期", at=NOW - timedelta(days=1), every=30)
    done = visits.CompleteVisit(vpb.CompleteVisitRequest(id=recurring.id, interaction=ipb.Interaction(
        summary=outcome)), metadata=REP)
    assert customer_db.interaction_buckets.find_one({"_id": f"{cid}#b00000000"}) is not None

    data = exported(stub, cid)
    entries = data["interactions"]
    assert [e["sequence"] for e in entries] == list(range(1, 53))
    first = entries[0]
    assert (first["summary"], first["commitments"], first["next_follow_up"]) == (said, [promise], "2030-01-31")
    assert first["quote_lines"] == [{"item": item, "quantity": 2,
                                     "unit_price": {"minor_units": 329900, "currency_code": "CNY"}}]
    assert first["quote_total"] == {"minor_units": 659800, "currency_code": "CNY"}
    assert datetime.fromisoformat(first["occurred_at"]) == quote.occur_time.ToDatetime(tzinfo=timezone.utc)
    assert entries[-1]["summary"] == outcome and entries[-1]["channel"] == "visit"
    by_id = {v["id"]: v for v in data["visits"]}
    assert set(by_id) == {open_visit.id, recurring.id, done.next_visit.id}
    assert by_id[open_visit.id]["purpose"] == purpose and by_id[open_visit.id]["state"] == "scheduled"
    assert by_id[recurring.id]["state"] == "completed"
    assert datetime.fromisoformat(by_id[open_visit.id]["scheduled_at"]) == NOW + timedelta(days=1)

    erased = erase(stub, cid)
    again = erase(stub, cid)  # a second erase is harmless
    assert again.etag == erased.etag

    # Over gRPC: the log is gone with the customer, and its visits are not found like the customer
    # (they follow its rights); the export shows they stay, closed and without their purpose.
    assert code_of(lambda: log.GetInteractionSummary(ipb.GetInteractionSummaryRequest(customer_id=cid),
                                                     metadata=ADMIN)) == grpc.StatusCode.NOT_FOUND
    for vid in by_id:
        assert code_of(lambda: visits.GetVisit(vpb.GetVisitRequest(id=vid), metadata=ADMIN)) == \
            grpc.StatusCode.NOT_FOUND
    assert all_pages(lambda t: visits.ListVisits(vpb.ListVisitsRequest(page_token=t), metadata=REP), "visits") == []
    assert code_of(lambda: visits.CompleteVisit(vpb.CompleteVisitRequest(
        id=open_visit.id, interaction=ipb.Interaction(summary="after")), metadata=ADMIN)) == \
        grpc.StatusCode.NOT_FOUND
    after = exported(stub, cid)
    assert after["interactions"] == [] and {v["purpose"] for v in after["visits"]} == {""}
    states = {v["id"]: v["state"] for v in after["visits"]}
    assert set(states.values()) <= {"cancelled", "completed"} and states[open_visit.id] == "cancelled"

    # In the store: no entry, bucket, head or request key of the customer, and the text nowhere.
    assert customer_db.interaction_heads.find_one({"_id": cid}) is None
    assert all(customer_db.interaction_entries.find_one({"_id": link_id(cid, n)}) is None for n in range(1, 53))
    assert customer_db.interaction_buckets.find_one({"_id": f"{cid}#b00000000"}) is None
    for key in (request_key(REP_ID, "erp-privacy-1"), f"visit:{recurring.id}"):
        assert customer_db.interaction_requests.find_one({"_id": f"{cid}#{key}"}) is None
    assert raw_docs_holding(customer_db, said, item, promise, purpose, outcome) == []


def test_an_erase_that_stopped_part_way_is_finished_by_the_next(stub, log, visits, phone, customer_db):
    """As if the process died inside the log's erase: request keys and the
    bucket gone, entries half deleted, the customer not yet marked erased."""
    cid = create(stub, phone(), REP).id
    said, purpose = secret("半途"), secret("半途目的")
    for i in range(52):
        record(log, cid, f"{said} {i}", request_id=f"half-{i}")
    plan(visits, cid, purpose)
    customer_db.interaction_requests.delete_many({"_id": {"$regex": f"^{cid}#"}})
    customer_db.interaction_buckets.delete_many({"_id": {"$regex": f"^{cid}#"}})
    for n in range(1, 31):
        customer_db.interaction_entries.delete_one({"_id": link_id(cid, n)})
    assert raw_docs_holding(customer_db, said)  # what the crash left

    erase(stub, cid)
    assert raw_docs_holding(customer_db, said, purpose) == []
    assert customer_db.interaction_heads.find_one({"_id": cid}) is None


def _recorded_after_the_erase(customer_db, cid, summary, store_class=InteractionStore) -> None:
    """Record an entry on an erased customer the way a recording that read
    the customer just before the erase does (its check comes after its
    write): it is refused, and leaves nothing behind."""
    service = InteractionService(store_class(customer_db), CustomerService(CustomerStore(customer_db)))
    draft = build_draft(channel="call", direction="inbound", summary=summary, occurred_at=None, rep_id=REP_ID,
                        now=datetime.now(timezone.utc))
    with pytest.raises(NotFound):
        service.write(Principal(REP_ID, "rep", TEAM), cid, draft)
    assert raw_docs_holding(customer_db, summary) == []
    assert customer_db.interaction_heads.find_one({"_id": cid}) is None


def test_an_entry_written_while_its_customer_is_erased_does_not_outlive_the_erase(stub, phone, customer_db):
    """A recording that read the customer just before the erase and writes
    just after it: the write notices (the customer is gone) and takes its
    entry with it."""
    cid = create(stub, phone(), REP).id
    erase(stub, cid)
    _recorded_after_the_erase(customer_db, cid, secret("迟到"))


def test_an_entry_outlives_no_erase_that_deleted_the_log_head_under_it(stub, phone, customer_db):
    """The erasure found the log empty, and deleted its head just after a
    recording had written its first entry and moved the head (CI once saw it
    at random): the recording still finds its entry, and takes it along."""
    cid = create(stub, phone(), REP).id
    erase(stub, cid)  # the erasure marks the customer and finds its log empty...

    class ErasedUnderIt(InteractionStore):
        def append(self, *args, **kwargs):
            entry = super().append(*args, **kwargs)
            self.chain.hints.delete_one({"_id": cid})  # ...and deletes its head only now
            return entry

    _recorded_after_the_erase(customer_db, cid, secret("竞态"), ErasedUnderIt)


def test_a_retry_whose_entry_the_erasure_took_is_not_found_not_an_internal_error(stub, phone, customer_db):
    """The first attempt wrote its entry and pointed its request key at it;
    the customer's erasure then took the entry (a key's claim may outlive
    it). The retry finds the key answered but no entry: the customer is gone."""
    from crm_customer.interactions.model import fingerprint
    from crm_customer.interactions.service import request_key

    cid = create(stub, phone(), REP).id
    draft = build_draft(channel="call", direction="inbound", summary=secret("重试"), occurred_at=None,
                        rep_id=REP_ID, now=datetime.now(timezone.utc))
    store = InteractionStore(customer_db)
    key = request_key(REP_ID, "retry-after-erase")
    assert store.claim_request(cid, key, fingerprint(draft), datetime.now(timezone.utc)) is None
    store.finish_request(cid, key, 1)  # entry 1 was written, then erased with the customer
    erase(stub, cid)
    service = InteractionService(store, CustomerService(CustomerStore(customer_db)))
    with pytest.raises(NotFound):
        service.write(Principal(REP_ID, "rep", TEAM), cid, draft, key)


def test_only_admins_export_and_erase(stub, log, phone):
    cid = create(stub, phone(), REP).id
    record(log, cid, secret("普通"))
    for who in (REP, as_("boss-privacy", "manager")):
        assert code_of(lambda: stub.ExportCustomerData(cpb.ExportCustomerDataRequest(id=cid), metadata=who)) == \
            grpc.StatusCode.PERMISSION_DENIED
        assert code_of(lambda: stub.EraseCustomer(cpb.EraseCustomerRequest(id=cid), metadata=who)) == \
            grpc.StatusCode.PERMISSION_DENIED
    assert len(all_pages(lambda t: log.ListInteractions(ipb.ListInteractionsRequest(customer_id=cid, page_token=t),
                                                        metadata=REP), "interactions")) == 1

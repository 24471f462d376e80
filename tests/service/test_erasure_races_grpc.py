"""Erasure cannot be undone by a write in flight: a visit scheduled or an
interaction recorded at the same moment as the customer's erasure does not
outlive it (the erasure marks the customer first; each writer re-checks
after its own write and removes it)."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta, timezone

import grpc

from crm.customer.v1 import customer_service_pb2 as cpb
from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import visit_service_pb2 as vpb
from tests.service.support import as_, create, ts

ADMIN = as_("root", "admin")
ROUNDS = 12


def _at_once(*calls) -> None:
    go = threading.Barrier(len(calls))

    def run(call):
        go.wait()
        time.sleep(random.uniform(0, 0.01))
        try:
            call()
        except grpc.RpcError:
            pass  # refused because the customer is gone: that is one of the right outcomes

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_visit_or_a_log_entry_written_during_an_erasure_does_not_survive_it(stub, log, visits, phone, customer_db):
    rep = as_("rep-race")
    for i in range(ROUNDS):
        cid = create(stub, phone(), rep).id
        secret = f"RACE-{i}-{random.randrange(10**9)}"
        backdated = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
        _at_once(
            lambda: visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
                customer_id=cid, schedule_time=ts(datetime.now(timezone.utc) + timedelta(days=1)), purpose=secret)),
                metadata=rep),
            lambda: log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=cid, interaction=ipb.Interaction(
                channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_INBOUND, summary=secret,
                occur_time=ts(backdated))), metadata=rep),
            lambda: stub.EraseCustomer(cpb.EraseCustomerRequest(id=cid, reason="asked"), metadata=ADMIN))
        stub.EraseCustomer(cpb.EraseCustomerRequest(id=cid, reason="asked"), metadata=ADMIN)  # it did happen
        assert customer_db.visits.find_one({"customer_id": cid, "purpose": secret}) is None
        assert customer_db.interaction_heads.find_one({"_id": cid}) is None
        assert customer_db.interaction_entries.find_one({"summary": secret}) is None


def test_a_recurring_visit_closed_while_its_customer_changes_hands_leaves_the_next_one_with_the_new_owner(
        stub, log, visits, phone, customer_db):
    rep, manager = as_("rep-hand-a"), as_("boss-hand", "manager")
    for i in range(8):
        cid = create(stub, phone(), rep).id
        visit = visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
            customer_id=cid, schedule_time=ts(datetime.now(timezone.utc) + timedelta(hours=1)), purpose=f"p{i}",
            recurrence_days=7)), metadata=rep)
        _at_once(
            lambda: visits.CompleteVisit(vpb.CompleteVisitRequest(id=visit.id, interaction=ipb.Interaction(
                summary="done")), metadata=rep),
            lambda: stub.TransferCustomer(cpb.TransferCustomerRequest(id=cid, to_owner_id="rep-hand-b"),
                                          metadata=manager))
        done = customer_db.visits.find_one({"_id": visit.id})
        owner = customer_db.customers.find_one({"_id": cid})["owner_id"]
        following = customer_db.visits.find_one({"_id": done["next_visit_id"]}) if done.get("next_visit_id") else None
        # Whoever owns the customer now has every open visit of it: none is stranded with a rep who cannot see it.
        if following is not None:
            assert following["rep_id"] == owner
        if done["state"] == "scheduled":
            assert done["rep_id"] == owner


def test_erasure_strips_free_text_reasons_from_history_but_keeps_its_own(stub, phone, customer_db):
    cid = create(stub, phone(), as_("rep-why")).id
    stub.TransferCustomer(cpb.TransferCustomerRequest(id=cid, to_owner_id="rep-why-2", reason="王芳的丈夫要求换人"),
                          metadata=as_("boss-why", "manager"))
    stub.EraseCustomer(cpb.EraseCustomerRequest(id=cid, reason="GDPR request 7"), metadata=ADMIN)
    changes = [d.get("change") for d in customer_db.customer_versions.find({"_id": {"$regex": f"^{cid}#"}})]
    reasons = {c["action"]: c.get("reason", "") for c in changes if c}
    assert reasons == {"transfer": "", "erase": "GDPR request 7"}

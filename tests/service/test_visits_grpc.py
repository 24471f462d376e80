"""Scheduled visits over real gRPC, backed by real FerretDB: planning,
a rep's due list, completing (which records the interaction and plans the
next occurrence), cancelling, and who may do each."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import visit_service_pb2 as pb
from crm_customer.visits.store import VisitStore
from crm_kit.grpc_errors import details_of
from tests.service.support import all_pages, as_in, code_of, create, ts

TEAM = "team-visit"
as_ = as_in(TEAM)
MANAGER, ADMIN = as_("boss-visit", "manager"), as_("root-visit", "admin", team="")


@pytest.fixture
def rep(request):
    """A rep of their own for each test, so due lists start empty."""
    return f"rep-v-{request.node.name[5:40]}"


@pytest.fixture
def customer(stub, phone, rep):
    def make(who=None) -> str:
        return create(stub, phone(), who or as_(rep), display_name="孙悟空").id
    return make


NOW = datetime.now(timezone.utc).replace(microsecond=0)


def plan(visits, cid, who, at=NOW + timedelta(days=1), purpose="季度回访", every=0, request_id="", **fields):
    visit = pb.Visit(customer_id=cid, schedule_time=ts(at), purpose=purpose, recurrence_days=every, **fields)
    return visits.ScheduleVisit(pb.ScheduleVisitRequest(visit=visit, request_id=request_id), metadata=who)


def complete(visits, vid, who, summary="拜访完成", **fields):
    return visits.CompleteVisit(pb.CompleteVisitRequest(id=vid, interaction=ipb.Interaction(summary=summary, **fields)),
                                metadata=who)


def due(visits, who, rep_id="", before=None, page_size=0):
    def fetch(page_token):
        request = pb.ListVisitsRequest(rep_id=rep_id, page_size=page_size, page_token=page_token)
        if before is not None:
            request.due_before.CopyFrom(ts(before))
        return visits.ListVisits(request, metadata=who)
    return all_pages(fetch, "visits")


def test_a_reps_list_is_in_time_order_flags_overdue_and_filters_by_due_before(visits, customer, rep):
    me, cid = as_(rep), customer()
    late = plan(visits, cid, me, at=NOW - timedelta(days=2), purpose="逾期")
    today = plan(visits, cid, me, at=NOW + timedelta(hours=3), purpose="今天")
    later = plan(visits, cid, me, at=NOW + timedelta(days=30), purpose="下月")
    assert late.state == pb.VISIT_STATE_SCHEDULED and late.rep_id == rep and late.created_by == rep
    listed = due(visits, me, page_size=2)
    assert [v.id for v in listed] == [late.id, today.id, later.id]
    assert [v.overdue for v in listed] == [True, False, False]
    assert [v.id for v in due(visits, me, before=NOW + timedelta(days=1))] == [late.id, today.id]
    assert visits.GetVisit(pb.GetVisitRequest(id=today.id), metadata=me) == today


def test_completing_a_recurring_visit_records_the_interaction_and_plans_the_next(visits, log, customer, rep):
    me, cid = as_(rep), customer()
    visit = plan(visits, cid, me, at=NOW - timedelta(days=1), every=90)
    done = complete(visits, visit.id, me, summary="客户满意, 想加购", commitments=["下周寄样品"])
    assert done.visit.state == pb.VISIT_STATE_COMPLETED and not done.visit.overdue
    assert done.interaction.channel == ipb.INTERACTION_CHANNEL_VISIT
    assert done.interaction.direction == ipb.INTERACTION_DIRECTION_OUTBOUND
    assert done.interaction.rep_id == rep and done.visit.interaction_sequence == done.interaction.sequence
    assert done.next_visit.schedule_time.ToDatetime(tzinfo=timezone.utc) == NOW + timedelta(days=89)
    assert done.visit.next_visit_id == done.next_visit.id and done.next_visit.recurrence_days == 90
    assert [v.id for v in due(visits, me)] == [done.next_visit.id]
    summary = log.GetInteractionSummary(ipb.GetInteractionSummaryRequest(customer_id=cid), metadata=me)
    assert summary.last_commitment == done.interaction
    # Repeating the completion (a lost answer) changes nothing and answers the same.
    assert complete(visits, visit.id, me, summary="客户满意, 想加购", commitments=["下周寄样品"]) == done
    assert len(log.ListInteractions(ipb.ListInteractionsRequest(customer_id=cid), metadata=me).interactions) == 1
    with pytest.raises(grpc.RpcError) as err:
        complete(visits, visit.id, me, summary="另一种说法")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_one_off_visit_has_no_next_and_concurrent_completions_record_once(visits, log, customer, rep):
    me, cid = as_(rep), customer()
    visit = plan(visits, cid, me)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: complete(visits, visit.id, me, summary="一次性拜访"), range(6)))
    assert all(not r.HasField("next_visit") for r in results)
    assert len({r.interaction.sequence for r in results}) == 1
    assert len(log.ListInteractions(ipb.ListInteractionsRequest(customer_id=cid), metadata=me).interactions) == 1
    assert due(visits, me) == []


def test_cancelling_removes_it_from_the_list_and_blocks_completion(visits, customer, rep):
    me, cid = as_(rep), customer()
    visit = plan(visits, cid, me)
    cancelled = visits.CancelVisit(pb.CancelVisitRequest(id=visit.id), metadata=me)
    assert cancelled.state == pb.VISIT_STATE_CANCELLED and cancelled.HasField("close_time")
    assert due(visits, me) == []
    assert code_of(lambda: complete(visits, visit.id, me)) == grpc.StatusCode.FAILED_PRECONDITION
    assert visits.CancelVisit(pb.CancelVisitRequest(id=visit.id), metadata=me).state == pb.VISIT_STATE_CANCELLED
    done = plan(visits, cid, me)
    complete(visits, done.id, me)
    assert code_of(lambda: visits.CancelVisit(pb.CancelVisitRequest(id=done.id), metadata=me)) == \
        grpc.StatusCode.FAILED_PRECONDITION


def test_a_retried_schedule_with_the_same_request_id_plans_one_visit(visits, customer, rep):
    me, cid = as_(rep), customer()
    first = plan(visits, cid, me, request_id="plan-1")
    assert plan(visits, cid, me, request_id="plan-1") == first
    assert code_of(lambda: plan(visits, cid, me, request_id="plan-1", purpose="别的")) == \
        grpc.StatusCode.FAILED_PRECONDITION
    assert [v.id for v in due(visits, me)] == [first.id]


def test_a_list_entry_whose_visit_is_closed_or_never_written_is_skipped(visits, customer, rep, customer_db):
    me, cid = as_(rep), customer()
    kept = plan(visits, cid, me)
    gone = plan(visits, cid, me, at=NOW + timedelta(hours=1))
    customer_db.visits.update_one({"_id": gone.id}, {"$set": {"state": "cancelled"}})  # crashed before unlisting
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    store = VisitStore(customer_db)
    never_written = replace(store.get(kept.id), id="vis_0123456789abcdef01234567")
    store.add_open(never_written, long_ago)  # a schedule that crashed before writing the visit
    assert [v.id for v in due(visits, me)] == [kept.id]
    assert set(store.open_visits(rep)) == {kept.id}


@pytest.mark.parametrize("fields,field", [
    (dict(purpose=""), "purpose"),
    (dict(purpose="p" * 501), "purpose"),
    (dict(every=-1), "recurrence_days"),
    (dict(every=3651), "recurrence_days"),
    (dict(at=NOW - timedelta(days=400)), "scheduled_at"),
    (dict(at=NOW + timedelta(days=6 * 366)), "scheduled_at"),
    (dict(rep_id="r" * 129), "rep_id"),
])
def test_bad_plans_are_invalid_argument_and_nothing_is_written(visits, customer, rep, customer_db, fields, field):
    cid = customer()
    with pytest.raises(grpc.RpcError) as err:
        plan(visits, cid, MANAGER, **fields)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in [v.field for d in details_of(err.value) for v in d.field_violations]
    assert customer_db.visit_reps.find_one({"_id": f"rep:{rep}"}) is None
    assert customer_db.visit_reps.find_one({"_id": "rep:boss-visit"}) is None


def test_missing_and_malformed_customer_and_time_are_refused(visits):
    for visit in (pb.Visit(purpose="x", schedule_time=ts(NOW)), pb.Visit(customer_id="nope", purpose="x"),
                  pb.Visit(customer_id="cus_000000000000000000000000", purpose="x",
                           schedule_time=Timestamp(seconds=10**15))):
        assert code_of(lambda: visits.ScheduleVisit(pb.ScheduleVisitRequest(visit=visit), metadata=MANAGER)) == \
            grpc.StatusCode.INVALID_ARGUMENT


def test_reps_plan_and_see_only_their_own_visits(visits, customer, rep):
    me, other = as_(rep), as_(f"{rep}-other")
    cid = customer()
    assert code_of(lambda: plan(visits, cid, me, rep_id=f"{rep}-other")) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: plan(visits, cid, other)) == grpc.StatusCode.NOT_FOUND  # not their customer
    visit = plan(visits, cid, me)
    assert code_of(lambda: visits.GetVisit(pb.GetVisitRequest(id=visit.id), metadata=other)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: complete(visits, visit.id, other)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: visits.CancelVisit(pb.CancelVisitRequest(id=visit.id), metadata=other)) == \
        grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: due(visits, other, rep_id=rep)) == grpc.StatusCode.PERMISSION_DENIED
    assert due(visits, other) == []


def test_managers_and_admins_plan_list_and_complete_for_any_rep(visits, customer, rep):
    cid = customer()
    planned = plan(visits, cid, MANAGER)  # defaults to the customer's owner
    assert planned.rep_id == rep and planned.created_by == "boss-visit"
    assert [v.id for v in due(visits, MANAGER, rep_id=rep)] == [planned.id]
    assert [v.id for v in due(visits, ADMIN, rep_id=rep)] == [planned.id]
    done = complete(visits, planned.id, MANAGER, summary="经理代记")
    assert done.interaction.rep_id == rep and done.interaction.recorded_by == "boss-visit"


def test_integrations_need_scopes_and_other_roles_have_no_visits(visits, customer, rep):
    cid = customer()
    visit = plan(visits, cid, as_(rep))
    reader = as_("erp-visit", "integration", team="", scopes="customers:read")
    writer = as_("erp-visit", "integration", team="", scopes="customers:read customers:write")
    assert [v.id for v in due(visits, reader, rep_id=rep)] == [visit.id]
    assert code_of(lambda: due(visits, reader)) == grpc.StatusCode.INVALID_ARGUMENT  # must name the rep
    assert code_of(lambda: plan(visits, cid, reader, rep_id=rep)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: visits.CancelVisit(pb.CancelVisitRequest(id=visit.id), metadata=reader)) == \
        grpc.StatusCode.PERMISSION_DENIED
    assert plan(visits, cid, writer, rep_id=rep).rep_id == rep
    unscoped = as_("erp-visit", "integration", team="")
    assert code_of(lambda: visits.GetVisit(pb.GetVisitRequest(id=visit.id), metadata=unscoped)) == \
        grpc.StatusCode.NOT_FOUND
    for role in ("agent", "finance"):
        assert code_of(lambda: due(visits, as_(f"{role}-visit", role))) == grpc.StatusCode.PERMISSION_DENIED


def test_page_tokens_belong_to_their_query(visits, customer, rep):
    me, cid = as_(rep), customer()
    for hours in (1, 2, 3):
        plan(visits, cid, me, at=NOW + timedelta(hours=hours))
    tokn = visits.ListVisits(pb.ListVisitsRequest(page_size=1), metadata=me).next_page_token
    assert tokn
    assert code_of(lambda: visits.ListVisits(pb.ListVisitsRequest(page_token=tokn), metadata=MANAGER)) == \
        grpc.StatusCode.INVALID_ARGUMENT  # the manager's own list is another query
    assert code_of(lambda: visits.ListVisits(pb.ListVisitsRequest(page_token="x"), metadata=me)) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_visits_follow_the_customers_rights_at_the_time_of_the_call(visits, stub, customer, rep):
    from crm.customer.v1 import customer_service_pb2 as cpb

    me, cid = as_(rep), customer()
    visit = plan(visits, cid, me)
    stranger = as_("boss-elsewhere", "manager", team="team-elsewhere")  # 404 on the customer
    assert code_of(lambda: stub.GetCustomer(cpb.GetCustomerRequest(id=cid), metadata=stranger)) == \
        grpc.StatusCode.NOT_FOUND
    assert due(visits, stranger, rep_id=rep) == []
    for call in (lambda: visits.GetVisit(pb.GetVisitRequest(id=visit.id), metadata=stranger),
                 lambda: visits.CancelVisit(pb.CancelVisitRequest(id=visit.id), metadata=stranger),
                 lambda: complete(visits, visit.id, stranger)):
        assert code_of(call) == grpc.StatusCode.NOT_FOUND
    assert visits.GetVisit(pb.GetVisitRequest(id=visit.id), metadata=me).state == pb.VISIT_STATE_SCHEDULED


def test_after_a_transfer_the_new_owner_has_the_open_visits_and_the_old_rep_none(visits, stub, customer, rep):
    from crm.customer.v1 import customer_service_pb2 as cpb

    me, cid = as_(rep), customer()
    heir = f"{rep}-heir"
    first = plan(visits, cid, me, at=NOW + timedelta(hours=2))
    second = plan(visits, cid, me, at=NOW + timedelta(days=3), every=30)
    done = plan(visits, cid, me, at=NOW + timedelta(hours=1))
    complete(visits, done.id, me)
    stub.TransferCustomer(cpb.TransferCustomerRequest(id=cid, to_owner_id=heir, reason="调岗"), metadata=MANAGER)
    # The old rep neither lists, reads nor cancels the visits any more.
    assert due(visits, me) == []
    for vid in (first.id, second.id, done.id):
        assert code_of(lambda: visits.GetVisit(pb.GetVisitRequest(id=vid), metadata=me)) == grpc.StatusCode.NOT_FOUND
        assert code_of(lambda: visits.CancelVisit(pb.CancelVisitRequest(id=vid), metadata=me)) == \
            grpc.StatusCode.NOT_FOUND
    # The new owner has the open ones on their list, and can complete them.
    new = as_(heir)
    listed = due(visits, new)
    assert [v.id for v in listed] == [first.id, second.id] and {v.rep_id for v in listed} == {heir}
    assert visits.GetVisit(pb.GetVisitRequest(id=done.id), metadata=new).state == pb.VISIT_STATE_COMPLETED
    finished = complete(visits, second.id, new, summary="新负责人拜访")
    assert finished.interaction.rep_id == heir and finished.next_visit.rep_id == heir
    assert [v.id for v in due(visits, new)] == [first.id, finished.next_visit.id]
    assert [v.id for v in due(visits, MANAGER, rep_id=heir)] == [first.id, finished.next_visit.id]


def test_a_customers_open_visits_are_listed_by_customer_whoever_visits(visits, customer, rep):
    """The 360 card asks for one customer's open visits, not its owner's whole list."""
    mine, other = customer(), customer()
    late = plan(visits, mine, as_(rep), at=NOW + timedelta(days=3)).id
    early = plan(visits, mine, MANAGER, at=NOW + timedelta(days=2), rep_id="rep-v-colleague").id
    plan(visits, other, as_(rep))
    done = plan(visits, mine, as_(rep), at=NOW + timedelta(days=1)).id
    complete(visits, done, as_(rep))

    def of_customer(who, page_size=0):
        return all_pages(lambda token: visits.ListVisits(pb.ListVisitsRequest(
            customer_id=mine, page_size=page_size, page_token=token), metadata=who), "visits")

    assert [v.id for v in of_customer(as_(rep))] == [early, late]
    assert [v.id for v in of_customer(MANAGER, page_size=1)] == [early, late]  # paged, earliest first
    assert code_of(lambda: of_customer(as_("rep-v-stranger"))) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: visits.ListVisits(pb.ListVisitsRequest(customer_id=mine, rep_id=rep),
                                             metadata=as_(rep))) == grpc.StatusCode.INVALID_ARGUMENT

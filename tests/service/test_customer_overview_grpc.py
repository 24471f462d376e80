"""The customer service's part of the 360 card in one call
(CustomerOverviewService.GetCustomerOverview), over real gRPC and FerretDB:
each part follows its own feature's rules, a part the caller may not have
is named instead of failing the call, and the customer itself answers as
GetCustomer and LookupCustomer do."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest

from crm.customer.v1 import customer_service_pb2 as cpb
from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import overview_service_pb2 as pb
from crm.customer.v1 import overview_service_pb2_grpc
from crm.customer.v1 import visit_service_pb2 as vpb
from tests.service.support import as_in, code_of, create, ts

TEAM = "team-overview"
as_ = as_in(TEAM)
REP = as_("rep-overview")
ADMIN = as_("root-overview", "admin", team="")
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def overview(channel):
    return overview_service_pb2_grpc.CustomerOverviewServiceStub(channel)


@pytest.fixture
def customer(stub, log, visits, phone):
    """A customer of REP with a quote and two open visits (the later one planned first)."""
    number = phone()
    made = create(stub, number, REP, display_name="李雷", emails=[f"lilei.{number[1:]}@example.com"])
    log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=made.id, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_INBOUND, summary="asked for a quote", commitments=["call back Monday"])),
        metadata=REP)
    later = visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
        customer_id=made.id, schedule_time=ts(NOW + timedelta(days=9)), purpose="second")), metadata=REP)
    sooner = visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
        customer_id=made.id, schedule_time=ts(NOW + timedelta(days=2)), purpose="first")), metadata=REP)
    return {"customer": made, "phone": number, "email": made.emails[0], "visits": [sooner.id, later.id]}


def ask(overview, who, **fields):
    fields = {"interactions": True, "recent_interactions": 5, "open_visits": True, "open_visits_limit": 10, **fields}
    return overview.GetCustomerOverview(pb.GetCustomerOverviewRequest(**fields), metadata=who)


@pytest.mark.parametrize("key", ["id", "phone", "email"])
def test_one_call_answers_the_customer_its_interactions_and_its_open_visits(overview, stub, customer, key):
    value = customer["customer"].id if key == "id" else customer[key]
    o = ask(overview, REP, **{key: value})
    assert o.customer == stub.GetCustomer(cpb.GetCustomerRequest(id=customer["customer"].id), metadata=REP)
    assert o.interactions.last_commitment.commitments == ["call back Monday"]
    assert [i.summary for i in o.interactions.recent] == ["asked for a quote"]
    assert [v.id for v in o.open_visits] == customer["visits"] and not o.more_open_visits
    assert list(o.not_permitted) == []


def test_only_the_parts_asked_for_are_read(overview, customer):
    o = ask(overview, REP, id=customer["customer"].id, interactions=False, open_visits=False)
    assert o.customer.id == customer["customer"].id
    assert not o.HasField("interactions") and list(o.open_visits) == [] and list(o.not_permitted) == []
    few = ask(overview, REP, id=customer["customer"].id, recent_interactions=0, open_visits_limit=1)
    assert list(few.interactions.recent) == [] and few.interactions.HasField("last_commitment")
    assert [v.id for v in few.open_visits] == customer["visits"][:1] and few.more_open_visits


def test_an_agent_gets_the_contact_view_and_interactions_but_no_visits(overview, customer):
    o = ask(overview, as_("agent-overview", "agent"), phone=customer["phone"])
    assert o.customer.view == cpb.CUSTOMER_VIEW_CONTACT and list(o.customer.phones) == [customer["phone"]]
    assert o.interactions.last_commitment.commitments == ["call back Monday"]
    assert list(o.not_permitted) == ["open_visits"] and list(o.open_visits) == []


def test_a_caller_who_may_not_see_the_customer_learns_nothing(overview, customer):
    for who in (as_("rep-overview-other"), as_("boss-elsewhere", "manager", team="team-elsewhere"),
                as_("int-overview", "integration", scopes=["sales:read"])):
        for key in ("id", "phone"):
            value = customer["customer"].id if key == "id" else customer["phone"]
            assert code_of(lambda: ask(overview, who, **{key: value})) in (
                grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED), (who, key)


def test_an_erased_customer_is_not_found(overview, stub, customer):
    cid = customer["customer"].id
    stub.EraseCustomer(cpb.EraseCustomerRequest(id=cid, reason="erasure request"), metadata=ADMIN)
    assert code_of(lambda: ask(overview, ADMIN, id=cid)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: ask(overview, ADMIN, phone=customer["phone"])) == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("fields", [{}, {"id": "cus_x", "phone": "13800138000"},
                                    {"phone": "13800138000", "email": "a@example.com"},
                                    {"phone": "not a phone"}, {"email": "not an e-mail"},
                                    {"phone": "13800138000", "recent_interactions": 51},
                                    {"phone": "13800138000", "open_visits_limit": 201}])
def test_bad_requests_are_invalid_arguments(overview, fields):
    assert code_of(lambda: ask(overview, REP, **fields)) == grpc.StatusCode.INVALID_ARGUMENT


def test_the_card_skips_the_log_and_visit_list_of_a_customer_with_no_activity_mark(overview, stub, log, visits,
                                                                                    phone, customer_db):
    """A customer's first interaction or first listed visit marks it first
    (crm_customer.activity), so one of either is enough to be read; a
    customer with neither has no mark, and its card reads neither (empty
    parts, not refused ones). The service trusts the marks once its own
    backfill at start has run."""
    talked, visited, bare = (create(stub, phone(), REP, display_name=name) for name in ("韩梅梅", "林涛", "魏华"))
    log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=talked.id, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_INBOUND, summary="asked the price",
        commitments=["send the list"])), metadata=REP)
    visit = visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
        customer_id=visited.id, schedule_time=ts(NOW + timedelta(days=3)), purpose="measure the room")), metadata=REP)
    a, b, c = (ask(overview, REP, id=x.id) for x in (talked, visited, bare))
    assert a.interactions.last_commitment.commitments == ["send the list"] and list(a.open_visits) == []
    assert [v.id for v in b.open_visits] == [visit.id] and list(b.interactions.recent) == []
    assert c.HasField("interactions") and list(c.interactions.recent) == [] and list(c.open_visits) == []
    assert not c.interactions.HasField("last_commitment") and list(c.not_permitted) == list(c.failed) == []
    marks = customer_db["customer_activity"]
    assert {m["_id"] for m in marks.find({"_id": {"$in": [talked.id, visited.id, bare.id]}})} == {talked.id, visited.id}


def test_without_a_mark_a_caller_who_may_not_see_the_parts_is_refused_them_all_the_same(overview, stub, phone):
    """The skipped reads are not a way around the parts' rights: an agent is
    refused a bare customer's open visits as any customer's."""
    bare = create(stub, phone(), REP, display_name="李明")
    o = ask(overview, as_("agent-overview", "agent"), id=bare.id)
    assert list(o.not_permitted) == ["open_visits"] and o.HasField("interactions")

"""Contracts over real gRPC, backed by real FerretDB and the real event
Redis: what reps drafting and signing contracts, and managers watching
renewals, rely on; rights enforced in the sales service itself."""

from __future__ import annotations

import datetime as dt
import time

import grpc
import pytest
import redis

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb
from crm.sales.v1 import contract_service_pb2 as pb
from crm.sales.v1 import contract_service_pb2_grpc
from crm.sales.v1 import opportunity_service_pb2 as oppb
from crm.sales.v1 import opportunity_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb
from crm.sales.v1 import order_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.grpc_errors import details_of
from tests.service.support import as_in, code_of, create, race
from tests.conftest import business_today

TEAM = "team-contracts"
as_ = as_in(TEAM)
REP, OTHER_REP = as_("rep-con"), as_("rep-con-2")
MANAGER, FOREIGN_MANAGER = as_("boss-con", "manager"), as_("boss-elsewhere", "manager", team="team-elsewhere")
AGENT, ADMIN = as_("agent-con", "agent"), as_("root-con", "admin", team="")
READ_ONLY_INTEGRATION = as_("erp-con", "integration", team="", scopes="sales:read customers:read")


@pytest.fixture(scope="module")
def contracts(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    yield contract_service_pb2_grpc.ContractServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def orders(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    yield order_service_pb2_grpc.OrderServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def opportunities(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    yield opportunity_service_pb2_grpc.OpportunityServiceStub(channel)
    channel.close()


def day(d: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def today() -> dt.date:
    return business_today()


def customer_of(stub, phone, who=REP):
    return create(stub, phone(), who=who)


def draft(contracts, customer_id, who=REP, start=None, end=None, minor=1_200_000, order_ids=(), **renewal):
    start = start or today() - dt.timedelta(days=300)
    end = end or today() + dt.timedelta(days=200)
    return contracts.CreateContract(pb.CreateContractRequest(contract=pb.Contract(
        customer_id=customer_id, title="年度维保 2027", start_date=day(start), end_date=day(end),
        value=common_pb2.Money(minor_units=minor, currency_code="CNY"), order_ids=list(order_ids),
        renewal=pb.RenewalTerms(**renewal))), metadata=who)


def signed(contracts, customer_id, who=REP, **kw):
    made = draft(contracts, customer_id, who, **kw)
    return contracts.SignContract(pb.SignContractRequest(id=made.id), metadata=who)


def violations_of(fn) -> set[str]:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return {v.field for d in details_of(err.value) if hasattr(d, "field_violations") for v in d.field_violations}


def listed(contracts, customer_id, who=REP) -> list[pb.Contract]:
    return list(contracts.ListCustomerContracts(pb.ListCustomerContractsRequest(customer_id=customer_id),
                                                metadata=who).contracts)


def expiring_events(events_redis_url: str, contract_id: str, seconds: float = 15.0) -> list:
    """contract.expiring events about the contract, once at least one has arrived (the relay is asynchronous)."""
    client = redis.Redis.from_url(events_redis_url)
    deadline = time.monotonic() + seconds
    while True:
        found = [ev.decode(fields[b"data"]) for _id, fields in client.xrange("events:sales")]
        about = [e for e in found if e.subject_id == contract_id and e.type == ev.CONTRACT_EXPIRING]
        if about or time.monotonic() > deadline:
            return about
        time.sleep(0.05)


# --- drafting ------------------------------------------------------------------------------

def test_a_rep_drafts_a_contract_for_their_customer(contracts, stub, phone):
    customer = customer_of(stub, phone)
    made = draft(contracts, customer.id, auto_renew=True, renewal_months=12, notice_days=60)
    assert made.id.startswith("con_") and made.state == pb.CONTRACT_STATE_DRAFT and made.revision == 1
    assert made.owner_id == "rep-con" and made.team_id == TEAM and made.created_by == "rep-con"
    assert made.value == common_pb2.Money(minor_units=1_200_000, currency_code="CNY")
    assert made.renewal == pb.RenewalTerms(auto_renew=True, renewal_months=12, notice_days=60)
    assert contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=MANAGER) == made
    assert [c.id for c in listed(contracts, customer.id)] == [made.id]


def test_a_contract_ending_before_it_starts_is_refused_and_nothing_is_written(contracts, stub, phone):
    customer = customer_of(stub, phone)
    start = today() + dt.timedelta(days=10)
    assert violations_of(lambda: draft(contracts, customer.id, start=start, end=start - dt.timedelta(days=1))) \
        == {"end_date"}
    assert listed(contracts, customer.id) == []


def test_bad_input_names_every_field_and_writes_nothing(contracts, stub, phone):
    customer = customer_of(stub, phone)
    assert violations_of(lambda: draft(contracts, customer.id, minor=0, auto_renew=True, notice_days=400)) == {
        "value.minor_units", "renewal.renewal_months", "renewal.notice_days"}
    assert violations_of(lambda: contracts.CreateContract(pb.CreateContractRequest(contract=pb.Contract(
        customer_id=customer.id, title="x", start_date=common_pb2.Date(year=2026, month=2, day=30),
        value=common_pb2.Money(minor_units=100, currency_code="CNY"))), metadata=REP)) == {"start_date", "end_date"}
    assert violations_of(lambda: draft(contracts, customer.id, order_ids=["ord_x", "ord_x"])) == {"order_ids"}
    assert listed(contracts, customer.id) == []


def test_a_linked_order_of_another_customer_is_refused(contracts, orders, stub, phone):
    mine, theirs = customer_of(stub, phone), customer_of(stub, phone)
    their_order = orders.CreateOrder(opb.CreateOrderRequest(customer_id=theirs.id), metadata=REP)
    my_order = orders.CreateOrder(opb.CreateOrderRequest(customer_id=mine.id), metadata=REP)
    assert violations_of(lambda: draft(contracts, mine.id, order_ids=[my_order.id, their_order.id])) \
        == {"order_ids[1]"}
    assert violations_of(lambda: draft(contracts, mine.id, order_ids=["ord_aaaaaaaaaaaaaaaaaaaaaaaa"])) \
        == {"order_ids[0]"}
    assert listed(contracts, mine.id) == []
    linked = draft(contracts, mine.id, order_ids=[my_order.id])
    assert list(linked.order_ids) == [my_order.id]


# --- rights ----------------------------------------------------------------------------------

def test_another_reps_customer_and_its_contracts_are_not_found(contracts, stub, phone):
    customer = customer_of(stub, phone)
    made = draft(contracts, customer.id)
    assert code_of(lambda: draft(contracts, customer.id, who=OTHER_REP)) == grpc.StatusCode.NOT_FOUND
    for who in (OTHER_REP, FOREIGN_MANAGER):
        assert code_of(lambda: contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=who)) \
            == grpc.StatusCode.NOT_FOUND
        assert code_of(lambda: contracts.SignContract(pb.SignContractRequest(id=made.id), metadata=who)) \
            == grpc.StatusCode.NOT_FOUND
        assert code_of(lambda: listed(contracts, customer.id, who)) == grpc.StatusCode.NOT_FOUND
    assert contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=REP).state == pb.CONTRACT_STATE_DRAFT


def test_readers_read_but_only_sellers_sign(contracts, stub, phone):
    customer = customer_of(stub, phone)
    made = draft(contracts, customer.id)
    assert contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=AGENT).id == made.id
    for who in (AGENT, READ_ONLY_INTEGRATION):
        assert code_of(lambda: contracts.SignContract(pb.SignContractRequest(id=made.id), metadata=who)) \
            == grpc.StatusCode.PERMISSION_DENIED
    assert contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=REP).state == pb.CONTRACT_STATE_DRAFT
    assert code_of(lambda: contracts.GetContract(pb.GetContractRequest(id="con_../../etc"), metadata=ADMIN)) \
        == grpc.StatusCode.NOT_FOUND


# --- signing and terminating -----------------------------------------------------------------

def test_signing_is_repeatable_and_termination_needs_a_signed_contract(contracts, stub, phone):
    customer = customer_of(stub, phone)
    made = draft(contracts, customer.id)
    refused = code_of(lambda: contracts.TerminateContract(
        pb.TerminateContractRequest(id=made.id, reason="客户要求"), metadata=REP))
    assert refused == grpc.StatusCode.FAILED_PRECONDITION
    first = contracts.SignContract(pb.SignContractRequest(id=made.id), metadata=REP)
    assert first.state == pb.CONTRACT_STATE_SIGNED and first.signed_by == "rep-con" and first.revision == 2
    assert contracts.SignContract(pb.SignContractRequest(id=made.id), metadata=MANAGER) == first
    assert violations_of(lambda: contracts.TerminateContract(pb.TerminateContractRequest(id=made.id),
                                                             metadata=REP)) == {"reason"}
    ended = contracts.TerminateContract(pb.TerminateContractRequest(id=made.id, reason="客户要求"), metadata=REP)
    assert ended.state == pb.CONTRACT_STATE_TERMINATED and ended.termination_reason == "客户要求"
    assert code_of(lambda: contracts.SignContract(pb.SignContractRequest(id=made.id), metadata=REP)) \
        == grpc.StatusCode.FAILED_PRECONDITION


def test_two_concurrent_signatures_sign_once(contracts, stub, phone):
    customer = customer_of(stub, phone)
    made = draft(contracts, customer.id)
    results = race(6, lambda _i: contracts.SignContract(pb.SignContractRequest(id=made.id), metadata=REP))
    assert {r.revision for r in results} == {2}
    assert contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=REP).revision == 2


# --- ending soon ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def replica(services, events_redis_url):
    """A second sales replica: the same composition root (every feature) on
    the service's database, event Redis and customer service, with its own
    store client and outbox relay; its contracts feature is what its
    expiry job runs."""
    from crm_kit.events.bus import EventsSettings
    from crm_kit.events.outbox import Outbox
    from crm_kit.mongo import MongoSettings, connect
    from crm_sales.bootstrap import build
    from crm_sales.settings import SalesSettings
    from tests.conftest import server_settings

    events = EventsSettings(url=events_redis_url)
    settings = SalesSettings(server_settings("sales"), MongoSettings(services.mongodb_uri, services.sales_db_name),
                             customer_target=services.targets["customer"], events=events)
    client = connect(services.mongodb_uri, "tests")
    db = client[services.sales_db_name]
    outbox = Outbox.from_settings(db, events, "sales")
    outbox.start()
    yield build(settings, db=db, outbox=outbox).features["contracts"]
    outbox.stop()
    client.close()



def test_the_expiry_check_reminds_once_across_two_runs(contracts, stub, phone, events_redis_url):
    customer = customer_of(stub, phone)
    end = today() + dt.timedelta(days=12)
    contract = signed(contracts, customer.id, end=end)
    for _run in range(2):
        contracts.RunExpiryCheck(pb.RunExpiryCheckRequest(), metadata=ADMIN)
    after = contracts.GetContract(pb.GetContractRequest(id=contract.id), metadata=REP)
    assert after.reminded_end_date == day(end) and after.revision == contract.revision + 1
    events = expiring_events(events_redis_url, contract.id)
    assert len(events) == 1
    payload = ev.payload_of(events[0])
    assert (payload.contract_id, payload.customer_id, payload.owner_id) == (contract.id, customer.id, "rep-con")
    assert payload.end_date == day(end) and payload.days_left == 12
    assert payload.renewal_opportunity_id == after.renewal_opportunity_id
    # Ids, dates and days only: the contract's title never travels on the stream.
    assert "年度维保".encode() not in ev.encode(events[0])


def test_concurrent_expiry_checks_on_two_replicas_remind_once_and_open_one_renewal_opportunity(
        contracts, opportunities, stub, phone, events_redis_url, replica):
    customer = customer_of(stub, phone)
    end = today() + dt.timedelta(days=3)
    contract = signed(contracts, customer.id, end=end)
    # Half the runs on the serving replica (the admin route), half as the other replica's job.
    race(6, lambda i: contracts.RunExpiryCheck(pb.RunExpiryCheckRequest(), metadata=ADMIN) if i % 2
         else replica.run_expiry_check())
    contracts.RunExpiryCheck(pb.RunExpiryCheckRequest(), metadata=ADMIN)  # and the next day's run
    after = contracts.GetContract(pb.GetContractRequest(id=contract.id), metadata=REP)
    assert after.revision == contract.revision + 1  # one reminder revision, not one per run
    events = expiring_events(events_redis_url, contract.id)
    assert len(events) == 1
    opened = opportunities.ListOpportunities(oppb.ListOpportunitiesRequest(customer_id=customer.id),
                                             metadata=REP).opportunities
    assert [o.id for o in opened] == [after.renewal_opportunity_id] != [""]
    assert ev.payload_of(events[0]).renewal_opportunity_id == after.renewal_opportunity_id
    renewal = opened[0]
    assert (renewal.owner_id, renewal.amount, renewal.expected_close) == ("rep-con", contract.value, day(end))


def test_contracts_outside_the_window_or_not_signed_get_no_reminder(contracts, stub, phone):
    customer = customer_of(stub, phone)
    far = signed(contracts, customer.id, end=today() + dt.timedelta(days=200))
    unsigned = draft(contracts, customer.id, end=today() + dt.timedelta(days=5))
    terminated = signed(contracts, customer.id, end=today() + dt.timedelta(days=5))
    contracts.TerminateContract(pb.TerminateContractRequest(id=terminated.id, reason="提前解约"), metadata=REP)
    contracts.RunExpiryCheck(pb.RunExpiryCheckRequest(), metadata=ADMIN)
    for made in (far, unsigned, terminated):
        assert not contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=REP).HasField(
            "reminded_end_date")


def test_only_admins_run_the_expiry_check(contracts):
    for who in (REP, MANAGER):
        assert code_of(lambda: contracts.RunExpiryCheck(pb.RunExpiryCheckRequest(), metadata=who)) \
            == grpc.StatusCode.PERMISSION_DENIED


def test_the_expiring_list_is_per_rep_and_per_team(contracts, stub, phone):
    mine, theirs = customer_of(stub, phone), customer_of(stub, phone, who=OTHER_REP)
    soon = signed(contracts, mine.id, end=today() + dt.timedelta(days=20), notice_days=15)
    later = signed(contracts, mine.id, end=today() + dt.timedelta(days=90))
    other = signed(contracts, theirs.id, who=OTHER_REP, end=today() + dt.timedelta(days=10))

    def ids(who, **kw):
        answer = contracts.ListExpiringContracts(pb.ListExpiringContractsRequest(**kw), metadata=who)
        return [e.contract.id for e in answer.contracts], answer

    mine_ids, answer = ids(REP)
    assert soon.id in mine_ids and later.id not in mine_ids and other.id not in mine_ids
    assert answer.within_days == 30
    entry = next(e for e in answer.contracts if e.contract.id == soon.id)
    assert entry.days_left == 20 and entry.notice_deadline == day(today() + dt.timedelta(days=5))
    assert later.id in ids(REP, within_days=120)[0]
    team_ids = ids(MANAGER)[0]
    assert {soon.id, other.id} <= set(team_ids)
    assert team_ids.index(other.id) < team_ids.index(soon.id)  # soonest first
    assert ids(MANAGER, owner_id="rep-con-2")[0] == [other.id]
    assert not {soon.id, other.id} & set(ids(FOREIGN_MANAGER)[0])
    assert code_of(lambda: ids(REP, owner_id="rep-con-2")) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: ids(REP, within_days=400)) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_transferred_customers_contracts_follow_the_new_owner(contracts, opportunities, stub, phone):
    customer = customer_of(stub, phone)
    end = today() + dt.timedelta(days=8)
    live = signed(contracts, customer.id, end=end)
    ended_early = signed(contracts, customer.id, end=end)
    contracts.TerminateContract(pb.TerminateContractRequest(id=ended_early.id, reason="提前解约"), metadata=REP)
    stub.TransferCustomer(cpb.TransferCustomerRequest(id=customer.id, to_owner_id="rep-con-2", reason="区域调整"),
                          metadata=MANAGER)
    deadline = time.monotonic() + 15
    while contracts.GetContract(pb.GetContractRequest(id=live.id), metadata=MANAGER).owner_id != "rep-con-2" \
            and time.monotonic() < deadline:
        time.sleep(0.05)  # the sales service applies customer.owner_changed from the stream
    assert contracts.GetContract(pb.GetContractRequest(id=live.id), metadata=OTHER_REP).owner_id == "rep-con-2"
    assert contracts.GetContract(pb.GetContractRequest(id=ended_early.id), metadata=MANAGER).owner_id == "rep-con"
    theirs = contracts.ListExpiringContracts(pb.ListExpiringContractsRequest(), metadata=OTHER_REP).contracts
    assert live.id in [e.contract.id for e in theirs]
    assert live.id not in [e.contract.id for e in contracts.ListExpiringContracts(
        pb.ListExpiringContractsRequest(), metadata=REP).contracts]
    contracts.RunExpiryCheck(pb.RunExpiryCheckRequest(), metadata=ADMIN)
    reminded = contracts.GetContract(pb.GetContractRequest(id=live.id), metadata=OTHER_REP)
    renewal = opportunities.GetOpportunity(oppb.GetOpportunityRequest(id=reminded.renewal_opportunity_id),
                                           metadata=OTHER_REP)
    assert renewal.owner_id == "rep-con-2"


@pytest.fixture(scope="module")
def sales_db(services):
    from crm_kit.mongo import connect

    client = connect(services.mongodb_uri, "tests")
    yield client[services.sales_db_name]
    client.close()


def test_erasing_the_customer_strips_its_contracts_free_text_and_keeps_the_money(contracts, stub, phone, sales_db):
    customer = customer_of(stub, phone)
    kept = signed(contracts, customer.id, end=today() + dt.timedelta(days=100))
    ended = signed(contracts, customer.id, end=today() + dt.timedelta(days=100))
    contracts.TerminateContract(pb.TerminateContractRequest(id=ended.id, reason="王先生搬家了"), metadata=REP)
    stub.EraseCustomer(cpb.EraseCustomerRequest(id=customer.id, reason="customer asked"), metadata=ADMIN)
    deadline = time.monotonic() + 15
    while (sales_db["contracts"].find_one({"_id": ended.id}) or {}).get("erased_at") is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)  # the sales service applies customer.erased from the stream
    for made in (kept, ended):
        doc = sales_db["contracts"].find_one({"_id": made.id})
        assert (doc["title"], doc["termination_reason"], doc["erased_at"] is not None) == ("", "", True)
        assert doc["value"] == {"minor_units": 1_200_000, "currency_code": "CNY"}
        claims = [sales_db["contract_versions"].find_one({"_id": f"{made.id}#{n}"})
                  for n in range(2, doc["revision"] + 1)]
        assert all(claim is not None and "contract" not in claim for claim in claims)  # states stripped
        assert code_of(lambda: contracts.GetContract(pb.GetContractRequest(id=made.id), metadata=ADMIN)) \
            == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: draft(contracts, customer.id, who=ADMIN)) == grpc.StatusCode.NOT_FOUND


def test_an_auto_renewing_contract_rolls_into_its_next_term_once(contracts, stub, phone, replica):
    customer = customer_of(stub, phone)
    end = today() + dt.timedelta(days=5)
    contract = signed(contracts, customer.id, start=dt.date(2026, 1, 31), end=end, auto_renew=True,
                      renewal_months=12)
    fixed = signed(contracts, customer.id, end=end)
    day_after = end + dt.timedelta(days=1)
    race(4, lambda _i: replica.run_expiry_check(today=day_after))
    renewed = contracts.GetContract(pb.GetContractRequest(id=contract.id), metadata=REP)
    assert renewed.start_date == day(day_after) and renewed.renewal_count == 1
    new_end = dt.date(renewed.end_date.year, renewed.end_date.month, renewed.end_date.day)
    assert (new_end - day_after).days in (364, 365)  # twelve months, the last day included
    assert renewed.revision == contract.revision + 1 and renewed.state == pb.CONTRACT_STATE_SIGNED
    unchanged = contracts.GetContract(pb.GetContractRequest(id=fixed.id), metadata=REP)
    assert (unchanged.end_date, unchanged.renewal_count) == (day(end), 0)
    assert replica.store.get(fixed.id).state_on(day_after) == "ended"

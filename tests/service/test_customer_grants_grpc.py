"""Customer grants between services, over real gRPC: the overview's answer
about a customer, signed for the caller's token, lets the sales and loyalty
services skip asking the customer service again in the 360 card's reads; it
is worth nothing to anyone else, for any other customer, unsigned by the
customer service's key, as a login, or for a write."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import jwt
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm.customer.v1 import overview_service_pb2 as opb, overview_service_pb2_grpc
from crm.loyalty.v1 import loyalty_service_pb2 as lpb, loyalty_service_pb2_grpc
from crm.sales.v1 import customer_sales_service_pb2 as spb, customer_sales_service_pb2_grpc
from crm_kit.customer_directory import GRANT_AUDIENCE
from crm_kit.grpc_client import GRANT_METADATA
from crm.sales.v1 import opportunity_service_pb2 as opb2, opportunity_service_pb2_grpc
from crm_kit.auth import load_grant_keys, new_grant_keys
from crm_kit import context
from crm_kit.customer_directory import CustomerDirectory, CustomerGrants, _token_digest
from crm_kit.errors import NotFound
from tests.conftest import AUTH, SECRET
from tests.service.support import as_in, code_of, create

TEAM = "team-grants"
as_ = as_in(TEAM)
MANAGER = as_("mgr-grants", "manager")


@pytest.fixture(scope="module")
def stubs(services):
    customers = grpc.insecure_channel(services.targets["customer"])
    sales = grpc.insecure_channel(services.targets["sales"])
    loyalty = grpc.insecure_channel(services.targets["loyalty"])
    yield {"customers": customer_service_pb2_grpc.CustomerServiceStub(customers),
           "overview": overview_service_pb2_grpc.CustomerOverviewServiceStub(customers),
           "sales": customer_sales_service_pb2_grpc.CustomerSalesServiceStub(sales),
           "loyalty": loyalty_service_pb2_grpc.LoyaltyServiceStub(loyalty),
           "opportunities": opportunity_service_pb2_grpc.OpportunityServiceStub(sales)}
    for channel in (customers, sales, loyalty):
        channel.close()


def rep() -> list:
    return as_(f"rep-grants-{uuid.uuid4().hex[:8]}")


def grant_of(stubs, who, phone: str) -> tuple[str, str]:
    o = stubs["overview"].GetCustomerOverview(opb.GetCustomerOverviewRequest(phone=phone), metadata=who)
    assert o.grant, "the services share a grant secret in the tests (tests/conftest.AUTH)"
    return o.customer.id, o.grant


def sales_of(stubs, who, customer_id: str, grant: str = ""):
    metadata = [*who, (GRANT_METADATA, grant)] if grant else who
    return stubs["sales"].GetCustomerSales(spb.GetCustomerSalesRequest(customer_id=customer_id), metadata=metadata)


def loyalty_of(stubs, who, customer_id: str, grant: str = ""):
    metadata = [*who, (GRANT_METADATA, grant)] if grant else who
    return stubs["loyalty"].GetAccount(lpb.GetAccountRequest(customer_id=customer_id), metadata=metadata)


def test_the_sections_take_the_overviews_answer_instead_of_asking_again(stubs, phone):
    """Shown by a change of rights right after the overview: within the
    grant's few seconds the sections answer as the customer service answered
    the overview (they did not ask again); asked without it, they refuse."""
    owner, number = rep(), phone()
    create(stubs["customers"], number, owner)
    customer_id, grant = grant_of(stubs, owner, number)
    stubs["customers"].TransferCustomer(cpb.TransferCustomerRequest(
        id=customer_id, to_owner_id=f"rep-other-{uuid.uuid4().hex[:6]}", reason="grant test"), metadata=MANAGER)
    assert sales_of(stubs, owner, customer_id, grant).customer_id == customer_id
    loyalty_of(stubs, owner, customer_id, grant)  # answers (no account yet: zeros)
    assert code_of(lambda: sales_of(stubs, owner, customer_id)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: loyalty_of(stubs, owner, customer_id)) == grpc.StatusCode.NOT_FOUND


def test_a_grant_is_worth_nothing_with_another_callers_token(stubs, phone):
    owner, other, number = rep(), rep(), phone()
    create(stubs["customers"], number, owner)
    customer_id, grant = grant_of(stubs, owner, number)
    assert code_of(lambda: sales_of(stubs, other, customer_id, grant)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: loyalty_of(stubs, other, customer_id, grant)) == grpc.StatusCode.NOT_FOUND


def test_a_grant_for_one_customer_opens_no_other(stubs, phone):
    owner, number, theirs = rep(), phone(), phone()
    create(stubs["customers"], number, owner)
    _, grant = grant_of(stubs, owner, number)
    someone_elses = create(stubs["customers"], theirs, rep())
    assert code_of(lambda: sales_of(stubs, owner, someone_elses.id, grant)) == grpc.StatusCode.NOT_FOUND


def test_a_grant_not_signed_by_the_customer_service_is_ignored(stubs, phone):
    """Neither the gateway nor anyone holding the token secret or another key
    can make one: a forged grant is not read, and the owner is asked."""
    me, number = rep(), phone()
    theirs = create(stubs["customers"], number, rep())
    digest = _token_digest(me[0][1].split(" ", 1)[1])
    claims = {"aud": GRANT_AUDIENCE, "iat": 2**31 - 3, "exp": 2**31, "tok": digest, "sub": theirs.id,
              "own": "", "team": "", "reg": ""}
    forged_hs = jwt.encode(claims, SECRET, algorithm="HS256")
    forged_ed = jwt.encode(claims, load_grant_keys(new_grant_keys()[0], None)[0], algorithm="EdDSA")
    for forged in (forged_hs, forged_ed, "not-a-grant"):
        assert code_of(lambda: sales_of(stubs, me, theirs.id, forged)) == grpc.StatusCode.NOT_FOUND


def test_a_write_never_goes_by_a_grant(stubs, phone):
    """A write stores the owner it acts for: it always asks. After a transfer
    the old owner's grant still reads for its seconds, but creates nothing."""
    owner, number = rep(), phone()
    create(stubs["customers"], number, owner)
    customer_id, grant = grant_of(stubs, owner, number)
    stubs["customers"].TransferCustomer(cpb.TransferCustomerRequest(
        id=customer_id, to_owner_id=f"rep-other-{uuid.uuid4().hex[:6]}", reason="grant test"), metadata=MANAGER)
    close = dt.date.today() + dt.timedelta(days=40)
    opportunity = opb2.Opportunity(customer_id=customer_id, title="by grant",
                                   amount=common_pb2.Money(minor_units=100000, currency_code="CNY"),
                                   expected_close=common_pb2.Date(year=close.year, month=close.month, day=close.day))
    assert code_of(lambda: stubs["opportunities"].CreateOpportunity(opb2.CreateOpportunityRequest(
        opportunity=opportunity), metadata=[*owner, (GRANT_METADATA, grant)])) == grpc.StatusCode.NOT_FOUND
    assert sales_of(stubs, owner, customer_id, grant).customer_id == customer_id  # while a read still may


def test_a_grant_is_not_a_login(stubs, phone):
    owner, number = rep(), phone()
    create(stubs["customers"], number, owner)
    customer_id, grant = grant_of(stubs, owner, number)
    assert code_of(lambda: stubs["sales"].GetCustomerSales(spb.GetCustomerSalesRequest(customer_id=customer_id),
                                                           metadata=[("authorization", f"Bearer {grant}")])) \
        == grpc.StatusCode.UNAUTHENTICATED


def test_within_one_use_case_a_write_after_a_granted_read_still_asks(services, stubs, phone):
    """CustomerDirectory.one_answer_each shares answers within a use case;
    an answer that came from a grant is shared with reads only."""
    owner, number = rep(), phone()
    create(stubs["customers"], number, owner)
    customer_id, grant = grant_of(stubs, owner, number)
    stubs["customers"].TransferCustomer(cpb.TransferCustomerRequest(
        id=customer_id, to_owner_id=f"rep-other-{uuid.uuid4().hex[:6]}", reason="grant test"), metadata=MANAGER)
    directory = CustomerDirectory.connect(services.targets["customer"], CustomerGrants.of(AUTH))
    token = owner[0][1].split(" ", 1)[1]
    reset = (context.bearer_token.set(token), context.received_customer_grant.set(grant))
    try:
        with directory.one_answer_each():
            assert directory.get(customer_id, for_reading=True).owner_id == owner_of(owner)
            assert directory.get(customer_id, for_reading=True).owner_id == owner_of(owner)
            with pytest.raises(NotFound):
                directory.get(customer_id)
        with directory.one_answer_each(reading=True):  # a block that only reads: every get may go by it
            assert directory.get(customer_id).owner_id == owner_of(owner)
    finally:
        context.received_customer_grant.reset(reset[1])
        context.bearer_token.reset(reset[0])


def owner_of(who) -> str:
    return jwt.decode(who[0][1].split(" ", 1)[1], options={"verify_signature": False})["sub"]

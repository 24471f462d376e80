"""Customer grants between services, over real gRPC: the overview's answer
about a customer, signed for the caller's token, lets the sales and loyalty
services skip asking the customer service again (the 360 card's sections),
and it is worth nothing to anyone else, for any other customer, unsigned by
the services' secret, or once it has run out."""

from __future__ import annotations

import uuid

import grpc
import jwt
import pytest

from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm.customer.v1 import overview_service_pb2 as opb, overview_service_pb2_grpc
from crm.loyalty.v1 import loyalty_service_pb2 as lpb, loyalty_service_pb2_grpc
from crm.sales.v1 import customer_sales_service_pb2 as spb, customer_sales_service_pb2_grpc
from crm_kit.customer_directory import GRANT_AUDIENCE
from crm_kit.grpc_client import GRANT_METADATA
from tests.conftest import SECRET
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
           "loyalty": loyalty_service_pb2_grpc.LoyaltyServiceStub(loyalty)}
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


def test_a_grant_not_signed_with_the_services_secret_is_ignored(stubs, phone):
    """The gateway (or anyone holding the token secret) cannot make one: a
    forged grant under the JWT signing key is not read, the owner is asked."""
    me, number = rep(), phone()
    theirs = create(stubs["customers"], number, rep())
    token = me[0][1].split(" ", 1)[1]
    from crm_kit.customer_directory import _token_digest

    forged = jwt.encode({"aud": GRANT_AUDIENCE, "exp": 2**31, "tok": _token_digest(token), "sub": theirs.id,
                         "own": "", "team": "", "reg": ""}, SECRET, algorithm="HS256")
    assert code_of(lambda: sales_of(stubs, me, theirs.id, forged)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: sales_of(stubs, me, theirs.id, "not-a-grant")) == grpc.StatusCode.NOT_FOUND


def test_a_grant_is_not_a_login(stubs, phone):
    owner, number = rep(), phone()
    create(stubs["customers"], number, owner)
    customer_id, grant = grant_of(stubs, owner, number)
    assert code_of(lambda: stubs["sales"].GetCustomerSales(spb.GetCustomerSalesRequest(customer_id=customer_id),
                                                           metadata=[("authorization", f"Bearer {grant}")])) \
        == grpc.StatusCode.UNAUTHENTICATED

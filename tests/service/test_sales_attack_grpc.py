"""The sales service over gRPC as a hostile or careless client calls it
directly (no gateway in front to shape the input): huge, odd or foreign
ids and parameters, amounts at the limits, opportunities given away; each
answer is a clear status code, never UNKNOWN / INTERNAL, and nothing is
written on a refused request."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import contract_service_pb2 as cpb, contract_service_pb2_grpc
from crm.sales.v1 import customer_sales_service_pb2 as spb, customer_sales_service_pb2_grpc
from crm.sales.v1 import opportunity_service_pb2 as opb, opportunity_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as orpb, order_service_pb2_grpc
from crm.sales.v1 import payment_service_pb2 as paypb, payment_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from tests.service.support import as_in, code_of, create, race
from tests.conftest import business_today

TEAM = f"team-atk-grpc-{uuid.uuid4().hex[:6]}"
as_ = as_in(TEAM)
REP_SUBJECT = f"rep-atk-g-{uuid.uuid4().hex[:4]}"
REP = as_(REP_SUBJECT)
MANAGER = as_("boss-atk-g", "manager")
ADMIN = as_("root-atk-g", "admin", team="")
CLEAR = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
         grpc.StatusCode.FAILED_PRECONDITION}


@pytest.fixture(scope="module")
def stubs(services):
    channel = grpc.insecure_channel(services.targets["sales"])
    customers = grpc.insecure_channel(services.targets["customer"])
    yield {"contracts": contract_service_pb2_grpc.ContractServiceStub(channel),
           "opportunities": opportunity_service_pb2_grpc.OpportunityServiceStub(channel),
           "products": product_service_pb2_grpc.ProductServiceStub(channel),
           "sales": customer_sales_service_pb2_grpc.CustomerSalesServiceStub(channel),
           "orders": order_service_pb2_grpc.OrderServiceStub(channel),
           "payments": payment_service_pb2_grpc.PaymentServiceStub(channel),
           "customers": customer_service_pb2_grpc.CustomerServiceStub(customers), "channel": channel}
    channel.close()
    customers.close()


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


def day(d: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def today() -> dt.date:
    return business_today()


@pytest.fixture
def customer(stubs, phone):
    return lambda who=REP: create(stubs["customers"], phone(), who).id


ODD_IDS = ["x" * 100_000, "\x00", "opp_\x00", "prd_" + "é" * 5000, "$gt", "{\"$ne\": null}", " ", "../../etc"]


@pytest.mark.parametrize("odd", ODD_IDS, ids=range(len(ODD_IDS)))
def test_odd_ids_are_a_clear_refusal_not_an_internal_error(stubs, odd):
    calls = [
        lambda: stubs["opportunities"].GetOpportunity(opb.GetOpportunityRequest(id=odd), metadata=REP),
        lambda: stubs["opportunities"].MoveOpportunityStage(opb.MoveOpportunityStageRequest(
            id=odd, stage="lost", reason="x"), metadata=REP),
        lambda: stubs["opportunities"].ListOpportunities(opb.ListOpportunitiesRequest(owner_id=odd), metadata=REP),
        lambda: stubs["opportunities"].ListOpportunities(opb.ListOpportunitiesRequest(customer_id=odd),
                                                         metadata=REP),
        lambda: stubs["opportunities"].GetFunnel(opb.GetFunnelRequest(team_id=odd), metadata=MANAGER),
        lambda: stubs["products"].GetProduct(ppb.GetProductRequest(id=odd), metadata=REP),
        lambda: stubs["products"].UpdateProduct(ppb.UpdateProductRequest(id=odd, name="x"), metadata=MANAGER),
        lambda: stubs["products"].GetProductGradeHistory(ppb.GetProductGradeHistoryRequest(id=odd),
                                                         metadata=MANAGER),
        lambda: stubs["contracts"].GetContract(cpb.GetContractRequest(id=odd), metadata=REP),
        lambda: stubs["contracts"].ListCustomerContracts(cpb.ListCustomerContractsRequest(customer_id=odd),
                                                         metadata=REP),
        lambda: stubs["contracts"].ListExpiringContracts(cpb.ListExpiringContractsRequest(owner_id=odd),
                                                         metadata=MANAGER),
        lambda: stubs["sales"].GetCustomerSales(spb.GetCustomerSalesRequest(customer_id=odd), metadata=REP),
        lambda: stubs["orders"].GetOrder(orpb.GetOrderRequest(id=odd), metadata=REP),
        lambda: stubs["orders"].ListCustomerOrders(orpb.ListCustomerOrdersRequest(customer_id=odd), metadata=REP),
        lambda: stubs["orders"].CreateOrder(orpb.CreateOrderRequest(customer_id=odd), metadata=REP),
        lambda: stubs["payments"].GetPaymentPlan(paypb.GetPaymentPlanRequest(order_id=odd), metadata=REP),
        lambda: stubs["payments"].VoidReceipt(paypb.VoidReceiptRequest(receipt_id=odd, reason="x"),
                                              metadata=as_("fin-atk-g", "finance")),
        lambda: stubs["payments"].GetAgeing(paypb.GetAgeingRequest(customer_id=odd), metadata=REP),
    ]
    unclear = []
    for i, call in enumerate(calls):
        try:
            call()
        except grpc.RpcError as err:
            if err.code() not in CLEAR or len(err.details() or "") > 1000:  # a refusal never echoes the whole input
                unclear.append((i, err.code(), (err.details() or "")[:80]))
    assert not unclear, [(i, code.name) for i, code, _ in unclear]


def test_odd_page_sizes_and_windows_are_clear(stubs, customer):
    cid = customer()
    for size in (-1, 10**9, 2**31 - 1):
        for call in (lambda: stubs["contracts"].ListCustomerContracts(cpb.ListCustomerContractsRequest(
                         customer_id=cid, page_size=size), metadata=REP),
                     lambda: stubs["opportunities"].ListOpportunities(opb.ListOpportunitiesRequest(
                         customer_id=cid, page_size=size), metadata=REP),
                     lambda: stubs["products"].ListProducts(ppb.ListProductsRequest(page_size=size), metadata=REP)):
            try:
                call()
            except grpc.RpcError as err:
                assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (size, err.code())
    for days in (-1, 367, 2**31 - 1):
        assert code_of(lambda: stubs["contracts"].ListExpiringContracts(cpb.ListExpiringContractsRequest(
            within_days=days), metadata=REP)) == grpc.StatusCode.INVALID_ARGUMENT
        assert code_of(lambda: stubs["sales"].GetCustomerSales(spb.GetCustomerSalesRequest(
            customer_id=cid, contracts_within_days=days), metadata=REP)) == grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(lambda: stubs["opportunities"].GetForecast(opb.GetForecastRequest(group_by=99), metadata=REP)) \
        == grpc.StatusCode.INVALID_ARGUMENT


def test_a_forecast_or_funnel_too_large_for_an_exact_amount_is_refused_not_rounded(stubs, customer):
    """Amounts stay at most 10^15 minor units (crm_kit.money), so JSON clients
    whose numbers are doubles read them exactly: a sum beyond that is
    refused, not answered inexactly (or, past 2^63, not at all)."""
    rep = as_(f"rep-atk-big-{uuid.uuid4().hex[:6]}")
    cid = customer(rep)
    close = day(today() + dt.timedelta(days=10))
    for _ in range(2):
        stubs["opportunities"].CreateOpportunity(opb.CreateOpportunityRequest(opportunity=opb.Opportunity(
            customer_id=cid, title="大单", amount=cny(10**15), expected_close=close)), metadata=rep)
    for call in (lambda: stubs["opportunities"].GetForecast(opb.GetForecastRequest(), metadata=rep),
                 lambda: stubs["opportunities"].GetFunnel(opb.GetFunnelRequest(), metadata=rep)):
        assert code_of(call) == grpc.StatusCode.FAILED_PRECONDITION



def test_fields_a_client_must_not_set_are_ignored_on_create(stubs, customer):
    cid = customer()
    contract = stubs["contracts"].CreateContract(cpb.CreateContractRequest(contract=cpb.Contract(
        id="con_chosenchosenchosenchosen", customer_id=cid, owner_id="rep-elsewhere", team_id="team-elsewhere",
        title="维保", start_date=day(today()), end_date=day(today() + dt.timedelta(days=30)), value=cny(1000),
        state=cpb.CONTRACT_STATE_SIGNED, signed_by="boss", renewal_count=7, revision=9,
        renewal_opportunity_id="opp_x", personal_data_erased=True)), metadata=REP)
    assert contract.id != "con_chosenchosenchosenchosen" and contract.state == cpb.CONTRACT_STATE_DRAFT
    assert (contract.owner_id, contract.team_id, contract.signed_by) == (REP_SUBJECT, TEAM, "")
    assert (contract.renewal_count, contract.revision, contract.renewal_opportunity_id) == (0, 1, "")
    assert not contract.personal_data_erased and not contract.HasField("sign_time")
    opportunity = stubs["opportunities"].CreateOpportunity(opb.CreateOpportunityRequest(opportunity=opb.Opportunity(
        id="opp_chosen", customer_id=cid, title="扩容", amount=cny(1000), team_id="team-elsewhere",
        expected_close=day(today() + dt.timedelta(days=30)), probability_pct=100, weighted_amount=cny(1000),
        closed=True, close_reason="x", revision=5, created_by="boss")), metadata=REP)
    assert opportunity.id != "opp_chosen" and opportunity.team_id == TEAM and opportunity.owner_id == REP_SUBJECT
    assert not opportunity.closed and opportunity.revision == 1 and opportunity.created_by == REP_SUBJECT
    assert opportunity.weighted_amount.minor_units < 1000
    product = stubs["products"].CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        id="prd_chosen", sku=f"ATK-G-{uuid.uuid4().hex[:8]}", name="x", list_price=cny(1000), unit_cost=cny(900),
        margin=cny(1000), margin_rate_bp=10_000, grade="A", revision=4)), metadata=MANAGER)
    assert product.id != "prd_chosen" and product.revision == 1
    assert (product.margin.minor_units, product.margin_rate_bp, product.grade) == (100, 1000, "C")


def test_concurrent_signatures_sign_once_and_open_one_plan(stubs, customer):
    cid = customer()
    made = stubs["contracts"].CreateContract(cpb.CreateContractRequest(contract=cpb.Contract(
        customer_id=cid, title="维保", start_date=day(today()), end_date=day(today() + dt.timedelta(days=90)),
        value=cny(90_000))), metadata=REP)
    signed = race(6, lambda i: stubs["contracts"].SignContract(cpb.SignContractRequest(id=made.id), metadata=REP))
    assert all(not isinstance(s, grpc.StatusCode) and s.state == cpb.CONTRACT_STATE_SIGNED for s in signed), signed
    assert len({s.revision for s in signed}) == 1  # one signature, repeated answers
    plan = payment_service_pb2_grpc.PaymentServiceStub(stubs["channel"]).GetPaymentPlan(
        paypb.GetPaymentPlanRequest(contract_id=made.id), metadata=as_("fin-atk-g", "finance", team="finance"))
    assert plan.total.minor_units == 90_000 and plan.revision == 1

"""Plans follow real orders over real gRPC: a confirmed order gets its plan
from order.confirmed (consumer group sales-payments), an amendment moves
its total, a cancellation frees the money collected to refund; and a
receipt that comes before the event is processed makes the plan from the
order itself."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb
from crm.sales.v1 import order_service_pb2_grpc, payment_service_pb2 as pb, payment_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm_kit.auth import Principal
from crm_kit.errors import NotFound
from crm_kit.money import Money
from crm_kit.mongo import connect
from crm_sales.payments.service import PaymentService
from crm_sales.payments.store import PaymentStore
from tests.service.support import as_in, code_of, create
from tests.conftest import business_today

TEAM = f"team-payord-{uuid.uuid4().hex[:6]}"
as_ = as_in(TEAM)
REP, MANAGER = as_("rep-payord"), as_("boss-payord", "manager")
FINANCE = as_("fin-payord", "finance", team="finance")


def cny(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code="CNY")


@pytest.fixture(scope="module")
def stubs(services):
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    yield (order_service_pb2_grpc.OrderServiceStub(sales), payment_service_pb2_grpc.PaymentServiceStub(sales),
           product_service_pb2_grpc.ProductServiceStub(sales), customer_service_pb2_grpc.CustomerServiceStub(customer))
    sales.close()
    customer.close()


@pytest.fixture
def confirmed(stubs, phone):
    """A confirmed order of `price` × quantity for a fresh customer of REP's."""
    orders, _payments, products, customers = stubs

    def make(price: int = 10000, quantity: int = 1) -> opb.Order:
        customer = create(customers, phone(), who=REP)
        goods = products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
            sku=f"P-{uuid.uuid4().hex[:10].upper()}", name="空气净化器", unit="台", list_price=cny(price),
            unit_cost=cny(price // 2), active=True)), metadata=MANAGER)
        made = orders.CreateOrder(opb.CreateOrderRequest(customer_id=customer.id, lines=[
            opb.OrderLineInput(product=goods.id, quantity=quantity)]), metadata=REP)
        return orders.ConfirmOrder(opb.ConfirmOrderRequest(id=made.id), metadata=REP)
    return make


def eventually(read, until, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = read()
            if until(value):
                return value
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("the plan did not follow the order in time")
        time.sleep(0.1)


def plan_of(payments, order_id: str, who=REP):
    return payments.GetPaymentPlan(pb.GetPaymentPlanRequest(order_id=order_id), metadata=who)


def test_a_confirmed_order_gets_its_plan_and_an_amendment_moves_it(stubs, confirmed):
    orders, payments, _products, _customers = stubs
    order = confirmed(10000, 2)
    plan = eventually(lambda: plan_of(payments, order.id), lambda p: True)
    assert plan.total == cny(20000) and plan.owner_id == "rep-payord" and plan.team_id == TEAM
    payments.RecordReceipt(pb.RecordReceiptRequest(order_id=order.id, method=pb.PAYMENT_METHOD_ALIPAY,
                                                   amount=cny(5000)), metadata=FINANCE)
    orders.AmendOrder(opb.AmendOrderRequest(id=order.id, reason="多要一台", lines=[
        opb.OrderLineInput(product=order.lines[0].product_id, quantity=3)]), metadata=REP)
    amended = eventually(lambda: plan_of(payments, order.id), lambda p: p.total.minor_units == 30000)
    assert amended.balance == cny(25000) and sum(i.amount.minor_units for i in amended.instalments) == 30000


def test_a_cancelled_order_owes_nothing_and_its_money_is_to_refund(stubs, confirmed):
    orders, payments, _products, _customers = stubs
    order = confirmed(8000)
    eventually(lambda: plan_of(payments, order.id), lambda p: True)
    rid = payments.RecordReceipt(pb.RecordReceiptRequest(order_id=order.id, method=pb.PAYMENT_METHOD_CASH,
                                                         amount=cny(3000)), metadata=FINANCE).receipt.id
    orders.CancelOrder(opb.CancelOrderRequest(id=order.id, reason="客户取消"), metadata=REP)
    cancelled = eventually(lambda: plan_of(payments, order.id), lambda p: p.cancelled)
    assert cancelled.balance == cny(0) and cancelled.credit == cny(3000)
    assert code_of(lambda: payments.RecordReceipt(pb.RecordReceiptRequest(
        order_id=order.id, method=pb.PAYMENT_METHOD_CASH, amount=cny(1)), metadata=FINANCE)) == \
        grpc.StatusCode.FAILED_PRECONDITION
    back = payments.RefundReceipt(pb.RefundReceiptRequest(receipt_id=rid, amount=cny(3000)), metadata=FINANCE)
    assert back.plan.credit == cny(0)


def test_a_receipt_before_the_event_makes_the_plan_from_the_order(services, stubs, confirmed):
    """A payments store of its own that has seen no order.confirmed: the
    receipt reads the order (orders' system read) and makes its plan."""
    order = confirmed(6000)
    client = connect(services.mongodb_uri, "tests")
    try:
        db = client[f"crm_sales_ondemand_{uuid.uuid4().hex[:8]}"]
        features = {"orders": services.hosts["sales"].app.features["orders"]}
        payments = PaymentService(PaymentStore(db), customers=None, features=features)
        plan, receipt = payments.record_receipt(Principal("fin-payord", "finance", "finance"), "order", order.id,
                                                method="cash", amount=Money(6000, "CNY"))
        assert plan.total == 6000 and plan.fully_paid and receipt.amount == 6000
        assert plan.starts_on == business_today()
        draft = stubs[0].CreateOrder(opb.CreateOrderRequest(customer_id=order.customer_id, lines=[
            opb.OrderLineInput(product=order.lines[0].product_id, quantity=1)]), metadata=REP)
        with pytest.raises(NotFound):  # a draft owes nothing yet
            payments.record_receipt(Principal("fin-payord", "finance", "finance"), "order", draft.id,
                                    method="cash", amount=Money(100, "CNY"))
    finally:
        client.drop_database(db.name)
        client.close()

"""Orders over real gRPC, backed by real FerretDB and the real customer
service: what reps taking orders, warehouses shipping them and finance
counting them rely on; rights enforced in the sales service itself."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timezone

import grpc
import pytest
import redis

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb
from crm.customer.v1 import customer_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as pb
from crm.sales.v1 import order_service_pb2_grpc, product_service_pb2 as ppb, product_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.grpc_errors import details_of
from crm_kit.mongo import connect
from crm_sales.orders.service import OrderService
from crm_sales.orders.store import OrderStore
from tests.service.support import as_in, code_of, create, race

TEAM = "team-orders"
as_ = as_in(TEAM)
REP, OTHER_REP = as_("rep-ord"), as_("rep-ord-2")
MANAGER, ADMIN = as_("boss-ord", "manager"), as_("root-ord", "admin", team="")
AGENT = as_("agent-ord", "agent")


@pytest.fixture(scope="module")
def channels(services):
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    yield sales, customer
    sales.close()
    customer.close()


@pytest.fixture(scope="module")
def orders(channels):
    return order_service_pb2_grpc.OrderServiceStub(channels[0])


@pytest.fixture(scope="module")
def products(channels):
    return product_service_pb2_grpc.ProductServiceStub(channels[0])


@pytest.fixture(scope="module")
def customers(channels):
    return customer_service_pb2_grpc.CustomerServiceStub(channels[1])


@pytest.fixture(scope="module")
def sales_db(services):
    client = connect(services.mongodb_uri, "tests")
    yield client[services.sales_db_name]
    client.close()


def money(minor: int, code: str = "CNY") -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=code)


def product(products, price=10000, cost=6000, code="CNY", active=True):
    made = products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        sku=f"O-{uuid.uuid4().hex[:10].upper()}", name="净水器 X1", unit="台", list_price=money(price, code),
        unit_cost=money(cost, code), active=active)), metadata=MANAGER)
    return made


def line(p, quantity=1, **kw) -> pb.OrderLineInput:
    return pb.OrderLineInput(product=p.id if hasattr(p, "id") else p, quantity=quantity, **kw)


def draft(orders, customer_id, lines, who=REP, **kw):
    return orders.CreateOrder(pb.CreateOrderRequest(customer_id=customer_id, lines=lines, **kw), metadata=who)


def violations_of(fn) -> set[str]:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    return {v.field for d in details_of(err.value) if hasattr(d, "field_violations") for v in d.field_violations}


@pytest.fixture
def customer(customers, phone):
    return create(customers, phone(), who=REP, display_name="订单客户")


@pytest.fixture
def goods(products):
    return product(products, price=10000, cost=6000)


def written(sales_db) -> tuple[int, ...]:
    return tuple(sales_db[name].count_documents({}) for name in
                 ("orders", "order_versions", "order_number_links", "order_book_links", "order_requests"))


def sales_events(events_redis_url: str, order_id: str, until_type: str, seconds: float = 15.0) -> list:
    client = redis.Redis.from_url(events_redis_url)
    deadline = time.monotonic() + seconds
    while True:
        about = [ev.decode(f[b"data"]) for _i, f in client.xrange("events:sales")]
        about = [e for e in about if e.subject_id == order_id]
        if any(e.type == until_type for e in about) or time.monotonic() > deadline:
            return about
        time.sleep(0.05)


# --- creating and pricing -------------------------------------------------------------

def test_a_draft_is_priced_from_the_catalogue_and_totals_are_computed(orders, customer, goods, products):
    other = product(products, price=2500, cost=1000)
    made = draft(orders, customer.id, [line(goods, 3, discount=money(1500)), line(other.sku, 2)],
                 delivery=pb.DeliveryDetails(contact_name="李四", contact_phone="+8613800000000",
                                             address="上海市 1 号"))
    assert re.fullmatch(rf"SO-{datetime.now(timezone.utc).year}-\d{{6}}", made.number)
    assert made.id.startswith("ord_") and made.state == pb.ORDER_STATE_DRAFT and made.owner_id == "rep-ord"
    assert [(ln.line_id, ln.quantity, ln.unit_price.minor_units, ln.line_total.minor_units) for ln in made.lines] == \
        [("ln1", 3, 10000, 28500), ("ln2", 2, 2500, 5000)]
    assert made.total == money(33500) and made.discount_total == money(1500)
    # A rep sees no costs; a manager does, as of the order.
    assert not made.HasField("cost_total") and not made.lines[0].HasField("unit_cost")
    seen = orders.GetOrder(pb.GetOrderRequest(id=made.id), metadata=MANAGER)
    assert seen.cost_total == money(3 * 6000 + 2 * 1000) and seen.lines[0].unit_cost == money(6000)
    assert seen.delivery.contact_name == "李四"


def test_a_given_unit_price_replaces_the_list_price(orders, customer, goods):
    made = draft(orders, customer.id, [line(goods, 2, unit_price=money(9000))])
    assert made.total == money(18000)


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001])
def test_zero_negative_and_huge_quantities_are_refused_and_nothing_is_written(orders, customer, goods, sales_db,
                                                                             quantity):
    before = written(sales_db)
    assert violations_of(lambda: draft(orders, customer.id, [line(goods, quantity)])) == {"lines[0].quantity"}
    assert written(sales_db) == before


def test_a_negative_price_is_refused(orders, customer, goods, sales_db):
    before = written(sales_db)
    assert "lines[0].unit_price.minor_units" in violations_of(
        lambda: draft(orders, customer.id, [line(goods, 1, unit_price=money(-1))]))
    assert written(sales_db) == before


def test_a_fraction_of_a_minor_unit_cannot_be_sent(orders, customer, goods):
    # int64 on the wire: protobuf itself refuses a fractional amount before any call is made.
    with pytest.raises(TypeError):
        line(goods, 1, unit_price=common_pb2.Money(minor_units=99.5, currency_code="CNY"))


def test_mixed_currencies_are_refused_and_nothing_is_written(orders, customer, goods, products, sales_db):
    dollars = product(products, price=1000, cost=500, code="USD")
    before = written(sales_db)
    assert violations_of(lambda: draft(orders, customer.id, [line(goods), line(dollars)])) == {"lines[1]"}
    assert violations_of(lambda: draft(orders, customer.id, [line(goods, 1, unit_price=money(100, "USD"))])) \
        == {"lines[0]"}
    assert written(sales_db) == before


def test_a_discount_above_the_line_price_is_refused(orders, customer, goods, sales_db):
    before = written(sales_db)
    assert violations_of(lambda: draft(orders, customer.id, [line(goods, 2, discount=money(20001))])) \
        == {"lines[0].discount"}
    assert draft(orders, customer.id, [line(goods, 2, discount=money(20000))]).total == money(0)
    assert written(sales_db)[0] == before[0] + 1


def test_unknown_or_inactive_products_are_refused(orders, customer, products, sales_db):
    retired = product(products, active=False)
    before = written(sales_db)
    assert violations_of(lambda: draft(orders, customer.id, [line("prd_" + "a" * 24), line("NO-SUCH-SKU"),
                                                             line(retired)])) \
        == {"lines[0].product", "lines[1].product", "lines[2].product"}
    assert written(sales_db) == before


def test_an_unknown_customer_is_not_found(orders, goods, sales_db):
    before = written(sales_db)
    assert code_of(lambda: draft(orders, "cus_" + "b" * 24, [line(goods)])) == grpc.StatusCode.NOT_FOUND
    assert written(sales_db) == before


def test_another_reps_customer_and_its_orders_are_not_found(orders, customer, goods, sales_db):
    made = draft(orders, customer.id, [line(goods)])
    before = written(sales_db)
    assert code_of(lambda: draft(orders, customer.id, [line(goods)], who=OTHER_REP)) == grpc.StatusCode.NOT_FOUND
    for call in (lambda: orders.GetOrder(pb.GetOrderRequest(id=made.id), metadata=OTHER_REP),
                 lambda: orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=OTHER_REP),
                 lambda: orders.ListCustomerOrders(pb.ListCustomerOrdersRequest(customer_id=customer.id),
                                                   metadata=OTHER_REP)):
        assert code_of(call) == grpc.StatusCode.NOT_FOUND
    assert written(sales_db) == before
    # The team's manager works on it; an agent reads it but may not change it.
    assert orders.GetOrder(pb.GetOrderRequest(id=made.id), metadata=MANAGER).id == made.id
    assert orders.GetOrder(pb.GetOrderRequest(id=made.id), metadata=AGENT).id == made.id
    assert code_of(lambda: orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=AGENT)) == \
        grpc.StatusCode.PERMISSION_DENIED


def test_order_numbers_stay_distinct_when_created_at_once(orders, customer, goods):
    made = race(20, lambda _i: draft(orders, customer.id, [line(goods)]))
    numbers = [m.number for m in made]
    assert all(isinstance(m, pb.Order) for m in made), made
    assert len(set(numbers)) == 20
    year = datetime.now(timezone.utc).year
    assert all(re.fullmatch(rf"SO-{year}-\d{{6}}", n) for n in numbers)  # one sequence for the year
    # Numbers come a block at a time (crm_kit.persistence.numbers): unique, not gap-free.


def test_a_retry_with_the_request_id_returns_the_first_order(orders, customer, goods, sales_db):
    first = draft(orders, customer.id, [line(goods)], request_id="retry-1")
    before = written(sales_db)
    assert draft(orders, customer.id, [line(goods)], request_id="retry-1").id == first.id
    assert written(sales_db) == before
    assert code_of(lambda: draft(orders, customer.id, [line(goods, 2)], request_id="retry-1")) == \
        grpc.StatusCode.FAILED_PRECONDITION


def test_concurrent_retries_with_one_request_id_make_one_order(orders, customers, phone, goods):
    own = create(customers, phone(), who=REP)
    outcomes = race(6, lambda _i: draft(orders, own.id, [line(goods)], request_id="same-click"))
    made = {o.id for o in outcomes if isinstance(o, pb.Order)}
    assert len(made) == 1 and all(isinstance(o, pb.Order) or o == grpc.StatusCode.FAILED_PRECONDITION
                                  for o in outcomes)
    listed = orders.ListCustomerOrders(pb.ListCustomerOrdersRequest(customer_id=own.id), metadata=REP)
    assert [o.id for o in listed.orders] == list(made)


def test_a_customers_orders_are_listed_from_its_book(orders, customers, phone, goods):
    own = create(customers, phone(), who=REP)
    made = [draft(orders, own.id, [line(goods, i + 1)]).id for i in range(3)]
    page = orders.ListCustomerOrders(pb.ListCustomerOrdersRequest(customer_id=own.id, page_size=2), metadata=REP)
    rest = orders.ListCustomerOrders(pb.ListCustomerOrdersRequest(customer_id=own.id, page_size=2,
                                                                  page_token=page.next_page_token), metadata=REP)
    assert [o.id for o in page.orders] + [o.id for o in rest.orders] == made and not rest.next_page_token


# --- the life of an order ---------------------------------------------------------------

def test_a_draft_is_edited_then_confirmed_and_fixed(orders, customer, goods, products):
    made = draft(orders, customer.id, [line(goods)])
    other = product(products, price=500, cost=100)
    edited = orders.UpdateDraft(pb.UpdateDraftRequest(id=made.id, lines=[
        pb.OrderLineInput(line_id="ln1", quantity=4), line(other, 1)],
        delivery=pb.DeliveryDetails(address="北京")), metadata=REP)
    assert [(ln.line_id, ln.quantity) for ln in edited.lines] == [("ln1", 4), ("ln2", 1)]
    assert edited.total == money(40500) and edited.revision == 2
    confirmed = orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=REP)
    assert confirmed.state == pb.ORDER_STATE_CONFIRMED and confirmed.HasField("confirm_time")
    assert code_of(lambda: orders.UpdateDraft(pb.UpdateDraftRequest(id=made.id, lines=[line(goods)]),
                                              metadata=REP)) == grpc.StatusCode.FAILED_PRECONDITION


def test_two_concurrent_confirmations_one_succeeds_one_event(orders, customer, goods, events_redis_url):
    for _round in range(3):
        made = draft(orders, customer.id, [line(goods, 2)])
        outcomes = race(2, lambda _i: orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=REP))
        assert sorted(o.__class__.__name__ if isinstance(o, pb.Order) else o.name for o in outcomes) == \
            ["FAILED_PRECONDITION", "Order"]
        events = sales_events(events_redis_url, made.id, ev.ORDER_CONFIRMED)
        time.sleep(0.3)  # a second event, if any, would be relayed by now too
        events = sales_events(events_redis_url, made.id, ev.ORDER_CONFIRMED)
        confirmed = [ev.payload_of(e) for e in events if e.type == ev.ORDER_CONFIRMED]
        assert len(confirmed) == 1
        assert confirmed[0].order_number == made.number and confirmed[0].total == money(20000)
        assert confirmed[0].cost_total == money(12000) and confirmed[0].owner_id == "rep-ord"


def test_an_amendment_is_recorded_and_the_cost_stays_as_of_the_order(orders, customer, products, events_redis_url):
    goods = product(products, price=10000, cost=6000)
    made = draft(orders, customer.id, [line(goods, 2)])
    orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=REP)
    products.UpdateProduct(ppb.UpdateProductRequest(id=goods.id, unit_cost=money(8000)), metadata=MANAGER)
    assert orders.GetOrder(pb.GetOrderRequest(id=made.id), metadata=MANAGER).lines[0].unit_cost == money(6000)
    assert code_of(lambda: orders.AmendOrder(pb.AmendOrderRequest(
        id=made.id, lines=[pb.OrderLineInput(line_id="ln1", quantity=3)]), metadata=REP)) == \
        grpc.StatusCode.INVALID_ARGUMENT  # a reason is required
    amended = orders.AmendOrder(pb.AmendOrderRequest(id=made.id, reason="客户加购", lines=[
        pb.OrderLineInput(line_id="ln1", quantity=3), line(goods, 1)]), metadata=MANAGER)
    assert amended.state == pb.ORDER_STATE_CONFIRMED and amended.total == money(40000)
    assert [ln.unit_cost.minor_units for ln in amended.lines] == [6000, 8000]  # kept line as of the order
    assert amended.cost_total == money(3 * 6000 + 8000)
    (record,) = amended.amendments
    assert (record.number, record.amended_by, record.reason) == (1, "boss-ord", "客户加购")
    assert record.previous_total == money(20000) and record.total == money(40000)
    assert [(c.line_id, c.kind, c.previous_quantity, c.quantity) for c in record.changes] == \
        [("ln1", "changed", 2, 3), ("ln2", "added", 0, 1)]
    events = sales_events(events_redis_url, made.id, ev.ORDER_AMENDED)
    (payload,) = [ev.payload_of(e) for e in events if e.type == ev.ORDER_AMENDED]
    assert (payload.amendment, payload.total, payload.previous_total) == (1, money(40000), money(20000))


def test_delivery_moves_the_order_through_its_states(orders, customer, goods, products, events_redis_url):
    other = product(products, price=100, cost=50)
    made = draft(orders, customer.id, [line(goods, 3), line(other, 1)])
    assert code_of(lambda: orders.ShipLines(pb.ShipLinesRequest(id=made.id, shipments=[
        pb.LineShipment(line_id="ln1", quantity=1, carrier="SF")]), metadata=REP)) == \
        grpc.StatusCode.FAILED_PRECONDITION  # a draft does not ship
    orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=REP)
    assert violations_of(lambda: orders.ShipLines(pb.ShipLinesRequest(id=made.id, shipments=[
        pb.LineShipment(line_id="ln1", quantity=4, carrier="SF")]), metadata=REP)) == {"shipments[0].quantity"}
    part = orders.ShipLines(pb.ShipLinesRequest(id=made.id, shipments=[
        pb.LineShipment(line_id="ln1", quantity=2, carrier="顺丰", tracking_number="SF100")]), metadata=REP)
    assert part.state == pb.ORDER_STATE_PARTIALLY_DELIVERED
    shipped = part.lines[0]
    assert (shipped.shipped_quantity, shipped.carrier, shipped.tracking_number) == (2, "顺丰", "SF100")
    assert code_of(lambda: orders.CancelOrder(pb.CancelOrderRequest(id=made.id), metadata=REP)) == \
        grpc.StatusCode.FAILED_PRECONDITION  # something shipped
    assert violations_of(lambda: orders.DeliverLines(pb.DeliverLinesRequest(id=made.id, line_ids=["ln1"]),
                                                     metadata=REP)) == {"line_ids[0]"}  # not all shipped
    orders.ShipLines(pb.ShipLinesRequest(id=made.id, shipments=[
        pb.LineShipment(line_id="ln1", quantity=1, carrier="SF", tracking_number="SF101"),
        pb.LineShipment(line_id="ln2", quantity=1, carrier="EMS")]), metadata=REP)
    one = orders.DeliverLines(pb.DeliverLinesRequest(id=made.id, line_ids=["ln1"]), metadata=REP)
    assert one.state == pb.ORDER_STATE_PARTIALLY_DELIVERED and one.lines[0].HasField("deliver_time")
    assert code_of(lambda: orders.CloseOrder(pb.CloseOrderRequest(id=made.id), metadata=REP)) == \
        grpc.StatusCode.FAILED_PRECONDITION
    done = orders.DeliverLines(pb.DeliverLinesRequest(id=made.id, line_ids=["ln2"]), metadata=REP)
    assert done.state == pb.ORDER_STATE_DELIVERED and done.HasField("deliver_time")
    delivered = [e for e in sales_events(events_redis_url, made.id, ev.ORDER_DELIVERED)
                 if e.type == ev.ORDER_DELIVERED]
    assert len(delivered) == 1 and ev.payload_of(delivered[0]).customer_id == customer.id
    closed = orders.CloseOrder(pb.CloseOrderRequest(id=made.id), metadata=REP)
    assert closed.state == pb.ORDER_STATE_CLOSED
    assert code_of(lambda: orders.AmendOrder(pb.AmendOrderRequest(id=made.id, reason="x", lines=[
        pb.OrderLineInput(line_id="ln1", quantity=9)]), metadata=REP)) == grpc.StatusCode.FAILED_PRECONDITION


def test_a_shipped_line_cannot_be_amended_below_what_shipped(orders, customer, goods):
    made = draft(orders, customer.id, [line(goods, 3)])
    orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=REP)
    orders.ShipLines(pb.ShipLinesRequest(id=made.id, shipments=[
        pb.LineShipment(line_id="ln1", quantity=2, carrier="SF")]), metadata=REP)
    assert violations_of(lambda: orders.AmendOrder(pb.AmendOrderRequest(id=made.id, reason="少发", lines=[
        pb.OrderLineInput(line_id="ln1", quantity=1)]), metadata=REP)) == {"lines"}
    assert orders.GetOrder(pb.GetOrderRequest(id=made.id), metadata=REP).lines[0].quantity == 3


def test_cancelling_a_confirmed_order_publishes_it(orders, customer, goods, events_redis_url):
    made = draft(orders, customer.id, [line(goods)])
    orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=REP)
    cancelled = orders.CancelOrder(pb.CancelOrderRequest(id=made.id, reason="客户取消"), metadata=REP)
    assert cancelled.state == pb.ORDER_STATE_CANCELLED and cancelled.cancel_reason == "客户取消"
    (payload,) = [ev.payload_of(e) for e in sales_events(events_redis_url, made.id, ev.ORDER_CANCELLED)
                  if e.type == ev.ORDER_CANCELLED]
    assert payload.previous_state == "confirmed" and payload.total == money(10000)


# --- erasure -----------------------------------------------------------------------------

def test_erasing_the_customer_strips_delivery_details_and_keeps_the_money(orders, customers, phone, goods, sales_db):
    own = create(customers, phone(), who=REP, display_name="将被删除")
    made = draft(orders, own.id, [line(goods, 2)], delivery=pb.DeliveryDetails(
        contact_name="王五", contact_phone="+8613900000000", address="广州市天河路 1 号"))
    orders.UpdateDraft(pb.UpdateDraftRequest(id=made.id, lines=[pb.OrderLineInput(line_id="ln1", quantity=2)],
                                             delivery=pb.DeliveryDetails(contact_name="王五", address="深圳")),
                       metadata=REP)
    orders.ConfirmOrder(pb.ConfirmOrderRequest(id=made.id), metadata=REP)
    orders.AmendOrder(pb.AmendOrderRequest(id=made.id, reason="王五 asked for one more", lines=[
        pb.OrderLineInput(line_id="ln1", quantity=3)]), metadata=REP)
    customers.EraseCustomer(cpb.EraseCustomerRequest(id=own.id, reason="customer asked"), metadata=ADMIN)
    history = {"_id": {"$regex": f"^{made.id}#"}}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the consumer strips the order first, then its history
        doc = sales_db["orders"].find_one({"_id": made.id})
        if doc.get("erased_at") and not any("order" in c for c in sales_db["order_versions"].find(history)):
            break
        time.sleep(0.1)
    assert doc["delivery"] == {"contact_name": "", "contact_phone": "", "address": ""}
    assert doc["total"] == {"minor_units": 30000, "currency_code": "CNY"} and doc["state"] == "confirmed"
    assert doc["amendments"][0]["reason"] == "" and doc["amendments"][0]["previous_total"]["minor_units"] == 20000
    for claim in sales_db["order_versions"].find(history):
        assert "order" not in claim  # the stored states held the address
        assert "王五" not in str(claim) and "深圳" not in str(claim)
        if claim.get("amendment"):
            assert claim["amendment"]["total"]["minor_units"] == 30000
    # A redelivered customer.erased finds nothing left to strip and writes nothing.
    assert OrderService(OrderStore(sales_db), None, None).erase_customer(own.id) == 0
    assert sales_db["orders"].find_one({"_id": made.id})["revision"] == doc["revision"]
    # The customer is gone, so its orders are too, for everyone.
    assert code_of(lambda: orders.GetOrder(pb.GetOrderRequest(id=made.id), metadata=ADMIN)) == \
        grpc.StatusCode.NOT_FOUND

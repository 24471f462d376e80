"""/api/v1/orders: REST in, the sales service's OrderService gRPC out."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.common.v1 import common_pb2
from crm.sales.v1 import order_service_pb2 as pb
from crm.sales.v1 import order_service_pb2_grpc as pb_grpc

from crm_gateway.fields import NEXT_PAGE, Body, DateTimeIn, Id, NullableTime, Out, PageSize, PageToken, Query, \
    Time, optional, text
from crm_gateway.interactions import Money, MoneyIn, request_id
from crm_gateway.problems import Problem
from crm_gateway.requests import timestamp
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("sales_orders", __name__, url_prefix="/api/v1/orders")

# The service decides per customer (a rep's own, a manager's team): these are the roles that may ask at all.
READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="sales:read")
WRITE = Policy(("admin", "manager", "rep", "integration"), scope="sales:write")
STATES = ("draft", "confirmed", "partially_delivered", "delivered", "closed", "cancelled")
State = Literal["draft", "confirmed", "partially_delivered", "delivered", "closed", "cancelled"]
_STATE_FROM_PB = {pb.OrderState.Value(f"ORDER_STATE_{s.upper()}"): s for s in STATES}
_NOT_FOUND = {404: "No such order, or not one you may see."}
_STATE = {409: "Not in a state that allows this (e.g. confirming a confirmed order), or the revision changed."}
_INVALID = {422: "A field is invalid; `errors` names each (quantity, price, discount, currency, product)."}


# --- request bodies and queries ---------------------------------------------------------

class LineIn(Body):
    line_id: text(16, description="The line to keep (\"ln1\", ...) when replacing or amending lines; left out for "
                                  "a new line. A kept line keeps its unit cost as of the order.") = ""
    product: text(100, description="A new line's product: its id (\"prd_...\") or SKU.") = ""
    quantity: Annotated[int, Field(ge=1, le=1_000_000, description="How many; a whole number.")]
    unit_price: Annotated[MoneyIn, Field(description="Price of one; the list price (a kept line: its own) when left "
                                                     "out.")] = optional()
    discount: Annotated[MoneyIn, Field(description="Discount on the whole line; never above quantity x unit "
                                                   "price.")] = optional()

    def to_pb(self) -> pb.OrderLineInput:
        line = pb.OrderLineInput(line_id=self.line_id, product=self.product, quantity=self.quantity)
        for name in ("unit_price", "discount"):
            money = getattr(self, name)
            if money is not None:
                getattr(line, name).CopyFrom(common_pb2.Money(minor_units=money.minor_units,
                                                              currency_code=money.currency_code))
        return line


class DeliveryIn(Body):
    contact_name: text(200, description="Who receives the goods.") = ""
    contact_phone: text(40) = ""
    address: text(1000, description="Several lines allowed.") = ""

    def to_pb(self) -> pb.DeliveryDetails:
        return pb.DeliveryDetails(contact_name=self.contact_name, contact_phone=self.contact_phone,
                                  address=self.address)


Lines = Annotated[list[LineIn], Field(max_length=200, description="All in one currency.")]


class OrderCreate(Body):
    customer_id: Id
    lines: Lines = []
    delivery: DeliveryIn = DeliveryIn()


class DraftUpdate(Body):
    lines: Annotated[list[LineIn], Field(max_length=200, description="The draft's lines, replacing all of them.")]
    delivery: DeliveryIn = DeliveryIn()
    expected_revision: Annotated[int, Field(ge=0, description="The revision you read; 409 if it changed since "
                                                              "(0: do not check).")] = 0


class AmendmentIn(Body):
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200, description="The order's new lines, "
                                         "replacing all of them; a shipped line cannot go below what shipped.")]
    reason: text(500, 1, description="Why; kept with the amendment.")
    expected_revision: Annotated[int, Field(ge=0, description="The revision you read; 409 if it changed since "
                                                              "(0: do not check).")] = 0


class CancelIn(Body):
    reason: text(500) = ""


class ShipmentIn(Body):
    line_id: text(16, 1)
    quantity: Annotated[int, Field(ge=1, le=1_000_000, description="How many more left; at most what remains.")]
    carrier: text(100, 1)
    tracking_number: text(100) = ""


class ShipmentsIn(Body):
    shipments: Annotated[list[ShipmentIn], Field(min_length=1, max_length=200)]
    shipped_at: Annotated[DateTimeIn, Field(description="When they left; now when left out.")] = optional()


class DeliveriesIn(Body):
    line_ids: Annotated[list[text(16, 1)], Field(min_length=1, max_length=200, description="Fully shipped lines "
                                                                                          "that arrived.")]
    delivered_at: Annotated[DateTimeIn, Field(description="When they arrived; now when left out.")] = optional()


class OrderPath(BaseModel):
    order_id: Id


class CustomerOrdersQuery(Query):
    customer_id: Id
    page_size: PageSize = 50
    page_token: PageToken = ""


def _time(message, name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        getattr(message, name).FromDatetime(timestamp(value))
    except ValueError as err:
        field = "shipped_at" if name == "ship_time" else "delivered_at"
        raise Problem(422, "the body does not match the schema", slug="validation",
                      errors=[{"field": field, "message": str(err)}]) from None


# --- answers -----------------------------------------------------------------------------

def _money(m: common_pb2.Money) -> dict:
    return {"minor_units": m.minor_units, "currency_code": m.currency_code}


def _maybe_money(message, name: str) -> dict | None:
    return _money(getattr(message, name)) if message.HasField(name) else None


def _maybe_time(message, name: str) -> str | None:
    return getattr(message, name).ToJsonString() if message.HasField(name) else None


class OrderLine(Out):
    line_id: str
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: int
    unit_price: Money
    discount: Money
    line_total: Money
    unit_cost: Annotated[Money | None, Field(description="As of the order; managers, finance and admins only.")]
    shipped_quantity: int
    carrier: str
    tracking_number: str
    shipped_at: NullableTime
    delivered_at: NullableTime


class LineChange(Out):
    line_id: str
    product_id: str
    kind: Literal["added", "removed", "changed"]
    previous_quantity: int
    quantity: int
    previous_line_total: Money | None
    line_total: Money | None


class Amendment(Out):
    number: int
    amended_by: str
    amended_at: Time
    reason: str
    changes: list[LineChange]
    previous_total: Money
    total: Money


class Delivery(Out):
    contact_name: str
    contact_phone: str
    address: str


class Order(Out):
    id: str
    number: Annotated[str, Field(description="One sequence per year, e.g. SO-2026-000123.")]
    customer_id: str
    owner_id: str
    team_id: str
    state: State
    currency_code: str
    lines: list[OrderLine]
    total: Annotated[Money | None, Field(description="Computed from the lines; null while a draft has none.")]
    discount_total: Money | None
    cost_total: Annotated[Money | None, Field(description="Managers, finance and admins only.")]
    delivery: Delivery
    amendments: list[Amendment]
    revision: int
    created_by: str
    created_at: Time
    updated_at: Time
    confirmed_at: NullableTime
    delivered_at: NullableTime
    closed_at: NullableTime
    cancelled_at: NullableTime
    cancel_reason: str
    personal_data_erased: bool

    @staticmethod
    def from_pb(o: pb.Order) -> dict:
        return {
            "id": o.id, "number": o.number, "customer_id": o.customer_id, "owner_id": o.owner_id,
            "team_id": o.team_id, "state": _STATE_FROM_PB.get(o.state, "draft"), "currency_code": o.currency_code,
            "lines": [{
                "line_id": ln.line_id, "product_id": ln.product_id, "sku": ln.sku, "product_name": ln.product_name,
                "unit": ln.unit, "quantity": ln.quantity, "unit_price": _money(ln.unit_price),
                "discount": _money(ln.discount), "line_total": _money(ln.line_total),
                "unit_cost": _maybe_money(ln, "unit_cost"), "shipped_quantity": ln.shipped_quantity,
                "carrier": ln.carrier, "tracking_number": ln.tracking_number,
                "shipped_at": _maybe_time(ln, "ship_time"), "delivered_at": _maybe_time(ln, "deliver_time"),
            } for ln in o.lines],
            "total": _maybe_money(o, "total"), "discount_total": _maybe_money(o, "discount_total"),
            "cost_total": _maybe_money(o, "cost_total"),
            "delivery": {"contact_name": o.delivery.contact_name, "contact_phone": o.delivery.contact_phone,
                         "address": o.delivery.address},
            "amendments": [{
                "number": a.number, "amended_by": a.amended_by, "amended_at": a.amend_time.ToJsonString(),
                "reason": a.reason, "previous_total": _money(a.previous_total), "total": _money(a.total),
                "changes": [{"line_id": c.line_id, "product_id": c.product_id, "kind": c.kind,
                             "previous_quantity": c.previous_quantity, "quantity": c.quantity,
                             "previous_line_total": _maybe_money(c, "previous_line_total"),
                             "line_total": _maybe_money(c, "line_total")} for c in a.changes],
            } for a in o.amendments],
            "revision": o.revision, "created_by": o.created_by, "created_at": o.create_time.ToJsonString(),
            "updated_at": o.update_time.ToJsonString(), "confirmed_at": _maybe_time(o, "confirm_time"),
            "delivered_at": _maybe_time(o, "deliver_time"), "closed_at": _maybe_time(o, "close_time"),
            "cancelled_at": _maybe_time(o, "cancel_time"), "cancel_reason": o.cancel_reason,
            "personal_data_erased": o.personal_data_erased,
        }


class OrderPage(Out):
    items: Annotated[list[Order], Field(description="In the order they were created.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(page: pb.ListCustomerOrdersResponse) -> dict:
        return {"items": [Order.from_pb(o) for o in page.orders], "next_page_token": page.next_page_token}


def stub() -> pb_grpc.OrderServiceStub:
    return g.downstream.stub("sales", pb_grpc.OrderServiceStub)


# --- routes --------------------------------------------------------------------------------

@route(bp, "POST", "", "createOrder", "Start a draft order for a customer", allow=WRITE, body=OrderCreate,
       ok=Ok(Order, "The draft.", 201), service="sales",
       errors={404: "No such customer, or not one you may see.", 409: "The Idempotency-Key was used for another "
               "order.", **_INVALID},
       description="Lines name a product by id or SKU; prices default to the list price; money is integer minor "
                   "units plus an ISO 4217 code, one currency per order. Totals are computed. With "
                   "Idempotency-Key a retry returns the first order.")
def create_order(a: Args):
    b = a.body
    return stub().CreateOrder(pb.CreateOrderRequest(customer_id=b.customer_id, lines=[ln.to_pb() for ln in b.lines],
                                                    delivery=b.delivery.to_pb(), request_id=request_id()))


@route(bp, "GET", "", "listCustomerOrders", "A customer's orders", allow=READ, query=CustomerOrdersQuery,
       ok=Ok(OrderPage, "A page of orders."), service="sales",
       errors={404: "No such customer, or not one you may see.", 400: "Bad query parameter or page token."})
def list_customer_orders(a: Args):
    q = a.query
    return stub().ListCustomerOrders(pb.ListCustomerOrdersRequest(
        customer_id=q.customer_id, page_size=q.page_size, page_token=q.page_token))


@route(bp, "GET", "/<order_id>", "getOrder", "Get an order", allow=READ, path=OrderPath,
       ok=Ok(Order, "The order."), errors=_NOT_FOUND, service="sales")
def get_order(a: Args):
    return stub().GetOrder(pb.GetOrderRequest(id=a.path.order_id))


@route(bp, "PUT", "/<order_id>", "updateDraftOrder", "Replace a draft's lines and delivery details", allow=WRITE,
       path=OrderPath, body=DraftUpdate, ok=Ok(Order, "The draft."), errors={**_NOT_FOUND, **_STATE, **_INVALID},
       service="sales", description="Only a draft; a confirmed order is amended instead.")
def update_draft(a: Args):
    b = a.body
    return stub().UpdateDraft(pb.UpdateDraftRequest(id=a.path.order_id, lines=[ln.to_pb() for ln in b.lines],
                                                    delivery=b.delivery.to_pb(),
                                                    expected_revision=b.expected_revision))


@route(bp, "POST", "/<order_id>/confirm", "confirmOrder", "Confirm a draft", allow=WRITE, path=OrderPath,
       ok=Ok(Order, "The confirmed order."), errors={**_NOT_FOUND, **_STATE}, service="sales",
       description="Its lines are fixed from now on (amend to change them); publishes order.confirmed. Of two "
                   "confirmations at once exactly one succeeds, the other is a 409.")
def confirm_order(a: Args):
    return stub().ConfirmOrder(pb.ConfirmOrderRequest(id=a.path.order_id))


@route(bp, "POST", "/<order_id>/amendments", "amendOrder", "Change a confirmed order's lines", allow=WRITE,
       path=OrderPath, body=AmendmentIn, ok=Ok(Order, "The amended order, with the amendment recorded."),
       errors={**_NOT_FOUND, **_STATE, **_INVALID}, service="sales",
       description="Records who, when, why, what changed and the totals before and after; publishes order.amended.")
def amend_order(a: Args):
    b = a.body
    return stub().AmendOrder(pb.AmendOrderRequest(id=a.path.order_id, lines=[ln.to_pb() for ln in b.lines],
                                                  reason=b.reason, expected_revision=b.expected_revision))


@route(bp, "POST", "/<order_id>/cancel", "cancelOrder", "Cancel an order", allow=WRITE, path=OrderPath,
       body=CancelIn, ok=Ok(Order, "The cancelled order."), errors={**_NOT_FOUND, **_STATE}, service="sales",
       description="A draft, or a confirmed order of which nothing shipped; publishes order.cancelled.")
def cancel_order(a: Args):
    return stub().CancelOrder(pb.CancelOrderRequest(id=a.path.order_id, reason=a.body.reason))


@route(bp, "POST", "/<order_id>/shipments", "shipOrderLines", "Record shipments of lines", allow=WRITE,
       path=OrderPath, body=ShipmentsIn, ok=Ok(Order, "The order, partially delivered."),
       errors={**_NOT_FOUND, **_STATE, **_INVALID}, service="sales",
       description="Never more than ordered; each line keeps its latest carrier and tracking number.")
def ship_lines(a: Args):
    b = a.body
    message = pb.ShipLinesRequest(id=a.path.order_id, shipments=[
        pb.LineShipment(line_id=s.line_id, quantity=s.quantity, carrier=s.carrier, tracking_number=s.tracking_number)
        for s in b.shipments])
    _time(message, "ship_time", b.shipped_at)
    return stub().ShipLines(message)


@route(bp, "POST", "/<order_id>/deliveries", "deliverOrderLines", "Record that shipped lines arrived",
       allow=WRITE, path=OrderPath, body=DeliveriesIn, ok=Ok(Order, "The order."),
       errors={**_NOT_FOUND, **_STATE, **_INVALID}, service="sales",
       description="Only fully shipped lines; when every line is delivered the order is, and order.delivered is "
                   "published.")
def deliver_lines(a: Args):
    b = a.body
    message = pb.DeliverLinesRequest(id=a.path.order_id, line_ids=b.line_ids)
    _time(message, "deliver_time", b.delivered_at)
    return stub().DeliverLines(message)


@route(bp, "POST", "/<order_id>/close", "closeOrder", "Close a delivered order", allow=WRITE, path=OrderPath,
       ok=Ok(Order, "The closed order."), errors={**_NOT_FOUND, **_STATE}, service="sales")
def close_order(a: Args):
    return stub().CloseOrder(pb.CloseOrderRequest(id=a.path.order_id))

"""gRPC transport for orders: messages in, use cases, messages out. Cost
fields are left out of answers for callers who may not see costs."""

from __future__ import annotations

from datetime import datetime

from crm.sales.v1 import order_service_pb2 as pb
from crm.sales.v1 import order_service_pb2_grpc as pb_grpc
from crm_kit.errors import DomainError
from crm_kit.grpc_errors import to_status
from crm_kit.grpc_server import current_principal

from crm_sales import access
from crm_sales.orders import model as rules
from crm_sales.orders.model import Delivery, ImportItem, LineInput, Order, OrderDraft, Shipment
from crm_sales.orders.service import Imported, OrderService
from crm_sales.wire import datetime_from_pb, money_from_pb, money_pb

STATE_TO_PB = {name: pb.OrderState.Value(f"ORDER_STATE_{name.upper()}") for name in rules.STATES}


class OrderServicer(pb_grpc.OrderServiceServicer):
    def __init__(self, service: OrderService):
        self.service = service

    def _answer(self, order: Order) -> pb.Order:
        return to_pb(order, costs=access.sees_costs(current_principal()))

    def CreateOrder(self, request, context):
        draft = OrderDraft(request.customer_id, lines_from_pb(request.lines), delivery_from_pb(request.delivery))
        return self._answer(self.service.create(current_principal(), draft, request.request_id))

    def GetOrder(self, request, context):
        return self._answer(self.service.get(current_principal(), request.id))

    def ListCustomerOrders(self, request, context):
        orders, token = self.service.list_for_customer(current_principal(), request.customer_id,
                                                       page_size=request.page_size, page_token=request.page_token)
        costs = access.sees_costs(current_principal())
        return pb.ListCustomerOrdersResponse(orders=[to_pb(o, costs=costs) for o in orders], next_page_token=token)

    def UpdateDraft(self, request, context):
        return self._answer(self.service.update_draft(current_principal(), request.id, lines_from_pb(request.lines),
                                                      delivery_from_pb(request.delivery), request.expected_revision))

    def ConfirmOrder(self, request, context):
        return self._answer(self.service.confirm(current_principal(), request.id))

    def AmendOrder(self, request, context):
        return self._answer(self.service.amend(current_principal(), request.id, lines_from_pb(request.lines),
                                               request.reason, request.expected_revision))

    def CancelOrder(self, request, context):
        return self._answer(self.service.cancel(current_principal(), request.id, request.reason))

    def ShipLines(self, request, context):
        shipments = [Shipment(s.line_id, s.quantity, s.carrier, s.tracking_number) for s in request.shipments]
        at = datetime_from_pb(request.ship_time, "ship_time") if request.HasField("ship_time") else None
        return self._answer(self.service.ship(current_principal(), request.id, shipments, at))

    def DeliverLines(self, request, context):
        at = datetime_from_pb(request.deliver_time, "deliver_time") if request.HasField("deliver_time") else None
        return self._answer(self.service.deliver(current_principal(), request.id, list(request.line_ids), at))

    def CloseOrder(self, request, context):
        return self._answer(self.service.close(current_principal(), request.id))

    def ImportOrders(self, request, context):
        items: list[ImportItem | DomainError] = []
        for item in request.orders:
            try:
                at = datetime_from_pb(item.ordered_at, "ordered_at") if item.HasField("ordered_at") else None
            except DomainError as err:
                items.append(err)
                continue
            items.append(ImportItem(item.request_id, OrderDraft(item.customer_id, lines_from_pb(item.lines),
                                                                delivery_from_pb(item.delivery)), at))
        done = iter(self.service.import_orders(current_principal(),
                                               [i for i in items if not isinstance(i, DomainError)]))
        response = pb.ImportOrdersResponse()
        for item in items:
            outcome = item if isinstance(item, DomainError) else next(done)
            result = response.results.add()
            if isinstance(outcome, Imported):
                result.order_id, result.number = outcome.order.id, outcome.order.number
                result.already_imported = outcome.already
                result.total.CopyFrom(money_pb(outcome.order.total))
            else:
                result.error_code = to_status(outcome).code.name
                result.error_message = outcome.message
        return response


# --- messages <-> domain --------------------------------------------------------------

def lines_from_pb(lines) -> list[LineInput]:
    return [LineInput(line.line_id, line.product, line.quantity,
                      money_from_pb(line.unit_price) if line.HasField("unit_price") else None,
                      money_from_pb(line.discount) if line.HasField("discount") else None) for line in lines]


def delivery_from_pb(d: pb.DeliveryDetails) -> Delivery:
    return Delivery(d.contact_name, d.contact_phone, d.address)


def _set_time(message, name: str, at: datetime | None) -> None:
    if at is not None:
        getattr(message, name).FromDatetime(at)


def to_pb(o: Order, *, costs: bool) -> pb.Order:
    msg = pb.Order(id=o.id, number=o.number, customer_id=o.customer_id, owner_id=o.owner_id, team_id=o.team_id,
                   state=STATE_TO_PB[o.state], currency_code=o.currency_code, revision=o.revision,
                   created_by=o.created_by, cancel_reason=o.cancel_reason, personal_data_erased=o.erased_at is not None,
                   delivery=pb.DeliveryDetails(contact_name=o.delivery.contact_name,
                                               contact_phone=o.delivery.contact_phone, address=o.delivery.address))
    if o.currency_code:
        msg.total.CopyFrom(money_pb(o.total))
        msg.discount_total.CopyFrom(money_pb(o.discount_total))
        if costs:
            msg.cost_total.CopyFrom(money_pb(o.cost_total))
    for line in o.lines:
        out = msg.lines.add(line_id=line.line_id, product_id=line.product_id, sku=line.sku,
                            product_name=line.product_name, unit=line.unit, quantity=line.quantity,
                            unit_price=money_pb(line.unit_price), discount=money_pb(line.discount),
                            line_total=money_pb(line.total), shipped_quantity=line.shipped_quantity,
                            carrier=line.carrier, tracking_number=line.tracking_number)
        if costs:
            out.unit_cost.CopyFrom(money_pb(line.unit_cost))
        _set_time(out, "ship_time", line.shipped_at)
        _set_time(out, "deliver_time", line.delivered_at)
    for a in o.amendments:
        am = msg.amendments.add(number=a.number, amended_by=a.amended_by, reason=a.reason,
                                previous_total=money_pb(a.previous_total), total=money_pb(a.total))
        _set_time(am, "amend_time", a.amended_at)
        for c in a.changes:
            change = am.changes.add(line_id=c.line_id, product_id=c.product_id, kind=c.kind,
                                    previous_quantity=c.previous_quantity, quantity=c.quantity)
            if c.previous_line_total is not None:
                change.previous_line_total.CopyFrom(money_pb(c.previous_line_total))
            if c.line_total is not None:
                change.line_total.CopyFrom(money_pb(c.line_total))
    for name, at in (("create_time", o.created_at), ("update_time", o.updated_at), ("confirm_time", o.confirmed_at),
                     ("deliver_time", o.delivered_at), ("close_time", o.closed_at),
                     ("cancel_time", o.cancelled_at)):
        _set_time(msg, name, at)
    return msg

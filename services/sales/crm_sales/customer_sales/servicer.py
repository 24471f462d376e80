"""gRPC transport for a customer's sales summary (the 360 card's section)."""

from __future__ import annotations

from crm.sales.v1 import customer_sales_service_pb2 as pb
from crm.sales.v1 import customer_sales_service_pb2_grpc as pb_grpc
from crm_kit.grpc_server import current_principal

from crm_sales import access
from crm_sales.contracts.servicer import to_pb as contract_pb
from crm_sales.customer_sales.service import CustomerSalesService
from crm_sales.orders.servicer import to_pb as order_pb
from crm_sales.payments.servicer import ageing_to_pb


class CustomerSalesServicer(pb_grpc.CustomerSalesServiceServicer):
    def __init__(self, service: CustomerSalesService):
        self.service = service

    def GetCustomerSales(self, request, context):
        principal = current_principal()
        found = self.service.get(principal, request.customer_id, request.contracts_within_days)
        costs = access.sees_costs(principal)
        answer = pb.CustomerSales(
            customer_id=found.customer_id, open_orders=[order_pb(o, costs=costs) for o in found.open_orders],
            more_open_orders=found.more_open_orders, receivables=[ageing_to_pb(a) for a in found.receivables],
            ending_contracts=[contract_pb(c, "signed") for c in found.ending_contracts])
        if found.last_order is not None:
            answer.last_order.CopyFrom(order_pb(found.last_order, costs=costs))
        return answer

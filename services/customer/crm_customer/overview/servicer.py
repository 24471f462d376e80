"""gRPC transport for the overview: messages in, the use case, messages out
(each part in its own feature's message)."""

from __future__ import annotations

from crm.customer.v1 import overview_service_pb2 as pb
from crm.customer.v1 import overview_service_pb2_grpc as pb_grpc
from crm_kit import context as call_context
from crm_kit.customer_directory import CustomerGrants, CustomerRef
from crm_kit.grpc_server import current_principal

from crm_customer.customers.servicer import customer_pb
from crm_customer.interactions.servicer import summary_to_pb
from crm_customer.overview.service import OverviewService
from crm_customer.visits.servicer import to_pb as visit_pb


class OverviewServicer(pb_grpc.CustomerOverviewServiceServicer):
    def __init__(self, service: OverviewService, grants: CustomerGrants | None = None):
        self.service = service
        self.grants = grants

    def GetCustomerOverview(self, request, context):
        principal = current_principal()
        o = self.service.overview(
            principal, customer_id=request.id, phone=request.phone, email=request.email,
            interactions=request.interactions, recent=request.recent_interactions,
            open_visits=request.open_visits, visits_limit=request.open_visits_limit)
        now = self.service.visits.clock()
        msg = pb.CustomerOverview(customer=customer_pb(self.service.customers, principal, o.customer),
                                  open_visits=[visit_pb(v, now) for v in o.open_visits],
                                  more_open_visits=o.more_open_visits, not_permitted=list(o.not_permitted),
                                  failed=list(o.failed))
        if o.interactions is not None:
            msg.interactions.CopyFrom(summary_to_pb(o.interactions))
        if self.grants is not None:  # of the customer exactly as this caller was answered it
            msg.grant = self.grants.issue(call_context.bearer_token.get(), CustomerRef.of(msg.customer))
        return msg

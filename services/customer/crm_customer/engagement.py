"""The interaction log and scheduled visits, wired into the customer process
(they share its database and its customer access rules)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from pymongo.database import Database

from crm.customer.v1 import interaction_service_pb2, interaction_service_pb2_grpc, visit_service_pb2, \
    visit_service_pb2_grpc

from crm_customer import interaction_store, visit_store
from crm_customer.interaction_service import InteractionService
from crm_customer.interaction_servicer import InteractionServicer
from crm_customer.service import CustomerService, PrivacyPart
from crm_customer.visit_service import VisitService
from crm_customer.visit_servicer import VisitServicer

INDEXES = {**interaction_store.INDEXES, **visit_store.INDEXES}
SERVICE_NAMES = [
    interaction_service_pb2.DESCRIPTOR.services_by_name["InteractionService"].full_name,
    visit_service_pb2.DESCRIPTOR.services_by_name["VisitService"].full_name,
]


def build(db: Database, customers: CustomerService) -> Callable[[grpc.Server], None]:
    """The function that adds both servicers to a server."""
    interactions = InteractionService(interaction_store.InteractionStore(db), customers)
    visits = VisitService(visit_store.VisitStore(db), customers, interactions)
    # A customer's export includes both; erasing the customer erases both first.
    customers.privacy_parts += [PrivacyPart("interactions", interactions.export, interactions.erase),
                                PrivacyPart("visits", visits.export, visits.erase)]
    customers.owner_followers.append(visits.follow_owner)

    def register(server: grpc.Server) -> None:
        interaction_service_pb2_grpc.add_InteractionServiceServicer_to_server(InteractionServicer(interactions), server)
        visit_service_pb2_grpc.add_VisitServiceServicer_to_server(VisitServicer(visits), server)

    return register

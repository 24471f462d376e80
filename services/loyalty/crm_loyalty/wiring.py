"""The loyalty core's wiring (accounts, tiers, rewards, referrals), called by
the composition root; kept apart so the root stays one block per feature."""

from __future__ import annotations

from crm.loyalty.v1 import loyalty_service_pb2_grpc


def wire_core(app, customers=None) -> None:
    app.registrations.append(lambda server: loyalty_service_pb2_grpc.add_LoyaltyServiceServicer_to_server(
        loyalty_service_pb2_grpc.LoyaltyServiceServicer(), server))

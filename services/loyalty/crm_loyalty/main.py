"""Entry point: `crm-loyalty`. The service runs, checks its store (Redis)
and answers health checks; its methods arrive with the loyalty issue."""

from __future__ import annotations

from dataclasses import dataclass

from crm.loyalty.v1 import loyalty_service_pb2, loyalty_service_pb2_grpc
from crm_kit.grpc_server import ServerSettings, ServiceHost, run_service
from crm_kit.redis_store import RedisSettings

SERVICE_NAME = loyalty_service_pb2.DESCRIPTOR.services_by_name["LoyaltyService"].full_name


@dataclass(frozen=True)
class LoyaltySettings:
    server: ServerSettings
    store: RedisSettings

    @classmethod
    def from_env(cls) -> "LoyaltySettings":
        return cls(server=ServerSettings.from_env("loyalty", 50054, 9104), store=RedisSettings.from_env("loyalty"))


def build_host(settings: LoyaltySettings) -> ServiceHost:
    settings.store.open().ping()  # fail at start-up, not on first call
    return ServiceHost(
        settings.server, [SERVICE_NAME],
        lambda server: loyalty_service_pb2_grpc.add_LoyaltyServiceServicer_to_server(
            loyalty_service_pb2_grpc.LoyaltyServiceServicer(), server))


def main() -> None:
    run_service("loyalty", LoyaltySettings.from_env, build_host)


if __name__ == "__main__":
    main()

"""Entry point: `crm-customer` (or `python -m crm_customer.main`)."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from crm.customer.v1 import customer_service_pb2, customer_service_pb2_grpc
from crm_kit import mongo
from crm_kit.mongo import MongoSettings
from crm_kit.grpc_server import ServerSettings, ServiceHost, run_service
from crm_kit.jobs import PeriodicJob
from crm_kit.settings import SettingsError, env_int, env_str

from crm_customer import engagement
from crm_customer.service import CustomerService
from crm_customer.servicer import CustomerServicer
from crm_customer.store import INDEXES, CustomerStore

SERVICE_NAME = customer_service_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name


@dataclass(frozen=True)
class CustomerSettings:
    server: ServerSettings
    store: MongoSettings
    default_phone_region: str
    protection_days: int = 30
    pool_release_interval_seconds: int = 3600

    @classmethod
    def from_env(cls) -> "CustomerSettings":
        region = env_str("CUSTOMER_DEFAULT_PHONE_REGION", "CN").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(f"environment variable CUSTOMER_DEFAULT_PHONE_REGION={region!r} "
                                "is not a known region code (e.g. CN, US, GB)")
        return cls(
            server=ServerSettings.from_env("customer", 50051, 9101),
            store=MongoSettings.from_env("customer"),
            default_phone_region=region,
            protection_days=env_int("CUSTOMER_PROTECTION_DAYS", 30, minimum=1, maximum=3650),
            pool_release_interval_seconds=env_int("CUSTOMER_POOL_RELEASE_INTERVAL_SECONDS", 3600, minimum=0),
        )


def build_host(settings: CustomerSettings) -> ServiceHost:
    db = settings.store.open("crm-customer")
    mongo.ensure_indexes(db, {**INDEXES, **engagement.INDEXES})
    service = CustomerService(CustomerStore(db), settings.default_phone_region, settings.protection_days)
    service.backfill_books()  # data from before owner books existed; a no-op afterwards
    # Every replica runs it; the release is idempotent (version claims), so overlaps are harmless.
    pool_release = PeriodicJob("pool_release", settings.pool_release_interval_seconds,
                               lambda: service.release_inactive(None))
    register_engagement = engagement.build(db, service)

    def register(server) -> None:
        customer_service_pb2_grpc.add_CustomerServiceServicer_to_server(CustomerServicer(service), server)
        register_engagement(server)

    return ServiceHost(
        settings.server, [SERVICE_NAME, *engagement.SERVICE_NAMES], register,
        jobs=(pool_release,))


def main() -> None:
    run_service("customer", CustomerSettings.from_env, build_host)


if __name__ == "__main__":
    main()

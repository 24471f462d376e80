"""Entry point: `crm-sales`. The service runs, checks its store and answers
health checks; its methods arrive with the sales issue."""

from __future__ import annotations

from functools import partial

from crm.sales.v1 import sales_service_pb2, sales_service_pb2_grpc
from crm_kit.grpc_server import ServiceHost, run_service
from crm_kit.mongo import MongoServiceSettings, pinged_host

SERVICE_NAME = sales_service_pb2.DESCRIPTOR.services_by_name["SalesService"].full_name
load_settings = partial(MongoServiceSettings.from_env, "sales", 50052, 9102)


def build_host(settings: MongoServiceSettings) -> ServiceHost:
    return pinged_host(settings, SERVICE_NAME, sales_service_pb2_grpc.add_SalesServiceServicer_to_server,
                       sales_service_pb2_grpc.SalesServiceServicer())


def main() -> None:
    run_service("sales", load_settings, build_host)


if __name__ == "__main__":
    main()

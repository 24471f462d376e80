"""Entry point: `crm-support`. The service runs, checks its store and answers
health checks; its methods arrive with the support issue."""

from __future__ import annotations

from functools import partial

from crm.support.v1 import support_service_pb2, support_service_pb2_grpc
from crm_kit.grpc_server import ServiceHost, run_service
from crm_kit.mongo import MongoServiceSettings, pinged_host

SERVICE_NAME = support_service_pb2.DESCRIPTOR.services_by_name["SupportService"].full_name
load_settings = partial(MongoServiceSettings.from_env, "support", 50053, 9103)


def build_host(settings: MongoServiceSettings) -> ServiceHost:
    return pinged_host(settings, SERVICE_NAME, support_service_pb2_grpc.add_SupportServiceServicer_to_server,
                       support_service_pb2_grpc.SupportServiceServicer())


def main() -> None:
    run_service("support", load_settings, build_host)


if __name__ == "__main__":
    main()

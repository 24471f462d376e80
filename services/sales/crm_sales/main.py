"""Entry point: `crm-sales`."""

from __future__ import annotations

from crm_kit.grpc_server import run_service

from crm_sales.bootstrap import build_host
from crm_sales.settings import SalesSettings


def main() -> None:
    run_service("sales", SalesSettings.from_env, build_host)


if __name__ == "__main__":
    main()

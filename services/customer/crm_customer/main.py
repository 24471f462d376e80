"""Entry point: `crm-customer` (or `python -m crm_customer.main`)."""

from __future__ import annotations

from crm_kit.grpc_server import run_service

from crm_customer.bootstrap import build_host
from crm_customer.settings import CustomerSettings


def main() -> None:
    run_service("customer", CustomerSettings.from_env, build_host)


if __name__ == "__main__":
    main()

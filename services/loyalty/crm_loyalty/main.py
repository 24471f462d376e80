"""Entry point: `crm-loyalty`."""

from __future__ import annotations

from crm_kit.grpc_server import run_service

from crm_loyalty.bootstrap import build_host
from crm_loyalty.settings import LoyaltySettings

__all__ = ["LoyaltySettings", "build_host", "main"]


def main() -> None:
    run_service("loyalty", LoyaltySettings.from_env, build_host)


if __name__ == "__main__":
    main()

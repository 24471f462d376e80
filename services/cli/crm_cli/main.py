"""The `crm` command.

    crm token --role rep --sub alice      print a development JWT
    crm seed --count 1000                 create demo customers (progress bar)
    crm run                               run the whole platform locally (make run)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from crm_kit.auth import ROLES, mint_dev_token
from crm_kit.localstores import REPO_ROOT

from crm_cli.demo import DEMO_TEAM

VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", REPO_ROOT / "var"))


def _secret() -> str:
    from crm_cli.platform import dev_secret

    return dev_secret(VAR_DIR)


def cmd_token(args) -> None:
    print(mint_dev_token(_secret(), args.sub, args.role, team=args.team, scopes=args.scopes,
                         ttl_seconds=args.ttl_hours * 3600))


def cmd_seed(args) -> None:
    from crm_cli.seed import seed_customers

    token = mint_dev_token(_secret(), "seed", "admin", team=DEMO_TEAM, ttl_seconds=3600)
    outcomes = seed_customers(args.target, token, args.count, start=args.start, progress=not args.quiet)
    print(", ".join(f"{k.lower()}: {v}" for k, v in sorted(outcomes.items())))


def cmd_run(args) -> None:
    from crm.customer.v1 import customer_service_pb2_grpc
    from crm_kit.grpc_client import open_channel

    from crm_cli.platform import Platform
    from crm_cli.seed import customer_count_is_zero, seed_customers

    platform = Platform(VAR_DIR, fixed_ports=True, gateway_port=args.port)
    print(f"starting stores and services (data in {VAR_DIR}, logs in {VAR_DIR / 'logs'}) ...", flush=True)
    platform.start()
    try:
        token = mint_dev_token(_secret(), "seed", "admin", team=DEMO_TEAM, ttl_seconds=3600)
        stub = customer_service_pb2_grpc.CustomerServiceStub(
            open_channel(platform.target("customer"), "crm.customer.v1.CustomerService"))
        if args.seed and customer_count_is_zero(stub, token):
            seed_customers(platform.target("customer"), token, args.seed)
        print(f"""
CRM platform is up.
  gateway   {platform.gateway_url}   (API docs: {platform.gateway_url}/docs)
  gRPC      customer {platform.target('customer')}, sales {platform.target('sales')}, support {platform.target('support')}, loyalty {platform.target('loyalty')}
  dev token export TOKEN=$(uv run crm token --role rep --sub rep-001)
  try       curl -H "Authorization: Bearer $TOKEN" '{platform.gateway_url}/api/v1/customers?page_size=3'
Press Ctrl-C to stop.""", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.is_set():
            stop.wait(1.0)
            for name, proc in platform.processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; see {VAR_DIR / 'logs' / (name + '.log')}",
                          file=sys.stderr)
                    stop.set()
    finally:
        print("stopping ...", flush=True)
        platform.stop()
        print("stopped.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crm", description="CRM platform command-line tool")
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="print a development JWT (HS256, dev secret)")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--sub", required=True, help="subject, e.g. rep-001")
    token.add_argument("--team", default="", help="team claim")
    token.add_argument("--scopes", default="", help="space-separated scopes for integration accounts")
    token.add_argument("--ttl-hours", type=int, default=12)
    token.set_defaults(func=cmd_token)

    seed = sub.add_parser("seed", help="create demo customers through the customer service")
    seed.add_argument("--count", type=int, default=1000)
    seed.add_argument("--start", type=int, default=0, help="index of the first demo customer")
    seed.add_argument("--target", default=os.environ.get("CUSTOMER_GRPC_TARGET", "127.0.0.1:50051"))
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.set_defaults(func=cmd_seed)

    run = sub.add_parser("run", help="run stores, services and gateway locally until Ctrl-C")
    run.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    run.add_argument("--seed", type=int, default=1000, help="demo customers to create when the store is empty")
    run.set_defaults(func=cmd_run)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

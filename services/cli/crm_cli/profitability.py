"""`crm profitability rebuild`: recompute every profit roll-up from the sales
service's orders, payment plans and approved expenses (ProfitabilityService.
RebuildRollups, an admin call). Run it in a quiet moment: events applied
while it runs may count twice or not at all until the next rebuild."""

from __future__ import annotations

import os
import sys


def cmd_rebuild(args) -> None:
    import grpc

    from crm.sales.v1 import profitability_service_pb2 as pb
    from crm.sales.v1 import profitability_service_pb2_grpc as pb_grpc
    from crm_kit.auth import mint_dev_token

    from crm_cli.demo import DEMO_TEAM
    from crm_cli.main import _secret

    token = args.token or mint_dev_token(_secret(), "profitability-rebuild", "admin", team=DEMO_TEAM,
                                         ttl_seconds=3600)
    with grpc.insecure_channel(args.target) as channel:
        try:
            done = pb_grpc.ProfitabilityServiceStub(channel).RebuildRollups(
                pb.RebuildRollupsRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=args.timeout)
        except grpc.RpcError as err:
            print(f"crm profitability rebuild: {err.code().name}: {err.details()}", file=sys.stderr)
            raise SystemExit(1) from None
    print(f"recomputed {done.documents:,} roll-up documents, rewrote {done.rewritten:,}")


def add_profitability_commands(sub) -> None:
    profit = sub.add_parser("profitability", help="profit roll-ups of the sales service")
    actions = profit.add_subparsers(dest="action", required=True)
    rebuild = actions.add_parser("rebuild", help="recompute every roll-up from orders, plans and approved expenses")
    rebuild.add_argument("--target", default=os.environ.get("SALES_GRPC_TARGET", "127.0.0.1:50052"))
    rebuild.add_argument("--token", default="", help="bearer token (default: a development admin token)")
    rebuild.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the answer")
    rebuild.set_defaults(func=cmd_rebuild)

"""The `crm` command.

    crm token --role rep --sub alice      print a development JWT
    crm grant-keys                        print a new customer grant key pair (as environment lines)
    crm seed --count 1000                 create demo customers (progress bar)
    crm run                               run the whole platform locally (make run)
    crm events tail [--type T]            print domain events as they arrive (JSON lines)
    crm sink [list]                       the local SMTP + SMS sink for greetings (list what it got)
    crm profitability rebuild             recompute the profit roll-ups from orders, plans and expenses
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from crm_kit.auth import ROLES, mint_dev_token, new_grant_keys
from crm_kit.localstores import REPO_ROOT

from crm_cli.demo import DEMO_TEAM

VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", REPO_ROOT / "var"))


def _secret() -> str:
    from crm_cli.platform import dev_secret

    return dev_secret(VAR_DIR)


def cmd_token(args) -> None:
    print(mint_dev_token(_secret(), args.sub, args.role, team=args.team, scopes=args.scopes,
                         ttl_seconds=args.ttl_hours * 3600))


def cmd_grant_keys(args) -> None:
    signing, verify = new_grant_keys()
    print(f"CRM_CUSTOMER_GRANT_SIGNING_KEY={signing}  # the customer service only: keep it secret")
    print(f"CRM_CUSTOMER_GRANT_VERIFY_KEY={verify}  # sales and loyalty (public)")


def cmd_seed(args) -> None:
    from crm_cli.seed import seed_customers

    token = mint_dev_token(_secret(), "seed", "admin", team=DEMO_TEAM, ttl_seconds=3600)
    outcomes = seed_customers(args.target, token, args.count, start=args.start, progress=not args.quiet)
    print(", ".join(f"{k.lower()}: {v}" for k, v in sorted(outcomes.items())))


def cmd_run(args) -> None:
    """Start everything, seed, then supervise (restart what crashes) until
    SIGINT or SIGTERM. The handlers come first, so a signal at any moment,
    start-up and seeding included, stops everything started so far."""
    from crm_kit import logs

    from crm_cli.platform import Cancelled, Platform

    logs.configure("supervisor", os.environ.get("CRM_LOG_LEVEL", "INFO"))
    stop = threading.Event()
    phase = {"now": "starting"}  # starting -> seeding -> running -> stopping

    def on_signal(signum, _frame):
        stop.set()  # start() and supervise() watch it
        if phase["now"] == "seeding":  # seeding only makes calls: interrupt it where it is
            phase["now"] = "stopping"
            raise Cancelled(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    platform = Platform(VAR_DIR, fixed_ports=not args.free_ports, gateway_port=0 if args.free_ports else args.port,
                        cancel=stop)
    print(f"starting stores and services (data in {VAR_DIR}, logs in {VAR_DIR / 'logs'}) ...", flush=True)
    outcome = "stopped"
    try:
        platform.start()
        phase["now"] = "seeding"
        if args.seed and not stop.is_set():
            _seed_if_empty(platform, args.seed)
        phase["now"] = "running"
        if not stop.is_set():
            print(f"""
CRM platform is up.
  gateway   {platform.gateway_url}   (API docs: {platform.gateway_url}/docs)
  gRPC      customer {platform.target('customer')}, sales {platform.target('sales')}, support {platform.target('support')}, loyalty {platform.target('loyalty')}
  sink      {platform.sink_url}/messages   (greetings sent by SMS and e-mail: uv run crm sink list)
  dev token export TOKEN=$(uv run crm token --role rep --sub rep-001)
  try       curl -H "Authorization: Bearer $TOKEN" '{platform.gateway_url}/api/v1/customers?page_size=3'
A service that exits is started again (see the log); press Ctrl-C to stop.""", flush=True)
            outcome = platform.supervise(stop)
    except Cancelled:
        pass
    finally:
        phase["now"] = "stopping"
        print("stopping ...", flush=True)
        platform.stop()
        print("stopped.", flush=True)
    if outcome != "stopped":
        raise SystemExit(f"crm run: {outcome}; see {VAR_DIR / 'logs'}")


def _seed_if_empty(platform, count: int) -> None:
    from crm.customer.v1 import customer_service_pb2_grpc
    from crm_kit.grpc_client import open_channel

    from crm_cli.seed import customer_count_is_zero, seed_customers

    token = mint_dev_token(_secret(), "seed", "admin", team=DEMO_TEAM, ttl_seconds=3600)
    stub = customer_service_pb2_grpc.CustomerServiceStub(
        open_channel(platform.target("customer"), "crm.customer.v1.CustomerService"))
    if customer_count_is_zero(stub, token):
        seed_customers(platform.target("customer"), token, count)
        from crm_cli.sales_demo import seed_sales_demo

        print("seeding the sales demo: products, a year of orders and payments, contracts, commission, targets, "
              "expenses, daily reports", flush=True)
        sales = seed_sales_demo(platform.target("customer"), platform.target("sales"), token)
        story = sales["profitability"].get("story")
        if story:
            print(f"the profitability story: customer X {story['x']} (many low-margin orders in {story['graded_year']})"
                  f" and customer Y {story['y']} (a few high-margin ones), value-graded", flush=True)
        from crm_cli.loyalty_demo import seed_loyalty_demo
        from crm_cli.sales_demo import customer_ids

        print("seeding the loyalty demo: rewards, Mid-Autumn templates, welcome points", flush=True)
        seed_loyalty_demo(platform.target("customer"), platform.target("loyalty"), token,
                          customer_ids(platform.target("customer"), token))


def _transfer_token(args, subject: str) -> str:
    """--token, else a development admin token (as `crm seed` uses)."""
    return args.token or mint_dev_token(_secret(), subject, "admin", team=DEMO_TEAM, ttl_seconds=3600)


def cmd_import(args) -> None:
    """Exit 0: every row imported; 1: some rows failed (see the report); 2: nothing sent."""
    from crm_cli import csv_io
    from crm_cli.transfer import TransferFailed, import_csv, write_report

    try:
        mapping = csv_io.load_mapping(args.mapping) if args.mapping else None
        if not Path(args.file).is_file():
            raise csv_io.HeaderError(f"no such file: {args.file}")
        summary = import_csv(args.target, _transfer_token(args, "import"), args.file, match_on=args.match,
                             dry_run=args.dry_run, mapping=mapping, default_owner=args.owner,
                             chunk_rows=args.chunk_rows, progress=not args.quiet)
    except ValueError as err:  # csv_io.HeaderError (unknown column, bad mapping), bad option
        print(f"crm import: {err}; nothing was imported", file=sys.stderr)
        raise SystemExit(2) from None
    except TransferFailed as err:
        print(f"crm import: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    print(summary.totals())
    if args.report:
        write_report(args.report, summary)
        print(f"{len(summary.report):,} failed rows listed in {args.report}")
    else:
        for line in summary.report[:20]:
            print(f"  row {line.row}: {line.message}", file=sys.stderr)
        if len(summary.report) > 20:
            print(f"  ... and {len(summary.report) - 20:,} more (use --report FILE)", file=sys.stderr)
    if summary.failed:
        raise SystemExit(1)


def cmd_export(args) -> None:
    import io

    from crm_cli.transfer import EXPORT_FILTERS, TransferFailed, export_csv

    filters = {name: value for name in EXPORT_FILTERS if (value := getattr(args, name))}
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output \
        else io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        count = export_csv(args.target, _transfer_token(args, "export"), out, filters=filters,
                           progress=not args.quiet)
    except TransferFailed as err:
        print(f"crm export: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        out.flush()
        if args.output:
            out.close()
        else:
            out.detach()  # leave sys.stdout usable
    print(f"exported {count:,} customers" + (f" to {args.output}" if args.output else ""), file=sys.stderr)


def add_transfer_commands(sub) -> None:
    """`crm import` and `crm export`."""
    target = os.environ.get("CUSTOMER_GRPC_TARGET", "127.0.0.1:50051")
    imp = sub.add_parser("import", help="import customers from a CSV file (UTF-8, English or Chinese headers)")
    imp.add_argument("file", help="CSV file; several phones or e-mails in one cell separated by ';'")
    imp.add_argument("--match", choices=("phone", "email", "external_id"), default="phone",
                     help="key that finds an existing customer to update (default: phone)")
    imp.add_argument("--dry-run", action="store_true", help="check every row and report, write nothing")
    imp.add_argument("--mapping", help='JSON file of header -> field, e.g. {"客户全称": "display_name", "x": null}')
    imp.add_argument("--report", help="write the failed rows (row, outcome, message) to this CSV file")
    imp.add_argument("--owner", default="", help="owner of created customers when the file has no owner column")
    imp.add_argument("--chunk-rows", type=int, default=1000, help="rows per request (1..1000)")
    imp.add_argument("--target", default=target)
    imp.add_argument("--token", default="", help="bearer token (default: a development admin token)")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="export customers to CSV (UTF-8 with BOM, English headers)")
    exp.add_argument("--output", "-o", help="file to write (default: standard output)")
    exp.add_argument("--owner", dest="owner_id", default="")
    exp.add_argument("--pool", action="store_true", help="only customers in the public pool")
    for name in ("province", "city", "level", "stage", "tag"):
        exp.add_argument(f"--{name}", default="")
    exp.add_argument("--name-prefix", default="", help="name or pinyin prefix")
    exp.add_argument("--target", default=target)
    exp.add_argument("--token", default="", help="bearer token (default: a development admin token)")
    exp.add_argument("--quiet", action="store_true", help="no progress on standard error")
    exp.set_defaults(func=cmd_export)


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

    keys = sub.add_parser("grant-keys", help="print a new Ed25519 key pair for customer grants between services")
    keys.set_defaults(func=cmd_grant_keys)

    seed = sub.add_parser("seed", help="create demo customers through the customer service")
    seed.add_argument("--count", type=int, default=1000)
    seed.add_argument("--start", type=int, default=0, help="index of the first demo customer")
    seed.add_argument("--target", default=os.environ.get("CUSTOMER_GRPC_TARGET", "127.0.0.1:50051"))
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.set_defaults(func=cmd_seed)

    run = sub.add_parser("run", help="run stores, services and gateway locally until Ctrl-C")
    run.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    run.add_argument("--seed", type=int, default=1000, help="demo customers to create when the store is empty")
    run.add_argument("--free-ports", action="store_true", help="any free loopback ports instead of 8080, 5005x (tests)")
    run.set_defaults(func=cmd_run)
    add_transfer_commands(sub)
    from crm_kit.events.tail import add_events_commands

    add_events_commands(sub)
    from crm_cli.sink import add_sink_commands

    add_sink_commands(sub)
    from crm_cli.profitability import add_profitability_commands

    add_profitability_commands(sub)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

"""Benchmark: seed customers, then measure every layer against its floor.

    uv run python bench/run.py                     # every suite, 100,000 customers, 10 s per scenario
    uv run python bench/run.py --suite customer    # one suite (make bench SUITE=customer)
    uv run python bench/run.py --customers 5000 --duration 3   # quick check

Everything runs on 127.0.0.1: the whole platform (FerretDB, Redis, the
events Redis, four services, the gateway under gunicorn) starts from a wiped
var/bench and stops at the end, with the gateway's rate limits on and
budgets large enough for the load (RATE_LIMIT_ENV). Each scenario runs with
32 concurrent clients for a fixed time, after a short unmeasured warm-up,
and each starts with the platform idle.

Whatever the suite, a run seeds the customers and measures the floors
(suites/floors.py: (d1) the gateway plus one empty gRPC call, (d2) an empty
gRPC call, (d3) a FerretDB read by `_id`); then each suite measures its
service (suites/customer.py lists the customer scenarios (a) to (k)). New
suites register in suites/__init__.py.

HTTP load comes from wrk, gRPC load from ghz (both installed when missing;
the Python driver in pyload.py stands in for ghz when it can't be built, and
then drives every gRPC scenario and its floor so their ratio stays fair).
Results go to bench/results/results.{json,md}; the Markdown is also printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

import harness
from crm_cli.demo import DEMO_TEAM
from crm_cli.platform import Platform, dev_secret
from crm_kit.auth import mint_dev_token
from harness import CONCURRENCY, GHZ_VERSION, REPO, Bench, Report, log, tool_version
from suites import SUITES, chosen, floors

# The bench drives the gateway with one admin token: limits stay on (their cost
# is measured), with budgets (a request each, per window) the load never spends.
RATE_LIMIT_BUDGET = 10**7  # the most GATEWAY_RATE_LIMIT_<ROLE> takes
RATE_LIMIT_ENV = {"GATEWAY_RATE_LIMIT_ENABLED": "true", "GATEWAY_RATE_LIMIT_ADMIN": str(RATE_LIMIT_BUDGET),
                  "GATEWAY_RATE_LIMIT_EXPENSIVE": str(RATE_LIMIT_BUDGET)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=("all", *SUITES), default="all",
                        help="the suite to run after the floors (default: all)")
    parser.add_argument("--customers", type=int, default=100_000, help="customers to seed (default 100000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each (default 2)")
    parser.add_argument("--grpc-driver", choices=("auto", "ghz", "python"), default="auto",
                        help="load generator for the gRPC scenarios (auto: ghz when it can be built)")
    parser.add_argument("--import-rows", type=int, default=10_000,
                        help="customers to import from CSV at the end (default 10000)")
    # 1,000,000 order lines in 50,000 orders: the seeding's cost is per order (its events, plans and
    # roll-up writes), so the whole bench keeps under 30 minutes on two cores.
    parser.add_argument("--orders", type=int, default=50_000,
                        help="orders the sales suite seeds through the sales service (default 50000)")
    parser.add_argument("--order-lines", type=int, default=20, help="lines per seeded order (default 20)")
    parser.add_argument("--list-repeats", type=int, default=20,
                        help="single requests for the filtered list page (f) (default 20)")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.duration <= 0:
        parser.error("--customers must be >= 1 and --duration > 0")
    return args


def start_platform(data_dir, attempts: int = 6, retry_s: float = 10.0):
    """A fresh platform in a wiped `data_dir` (tried again when a process
    does not come up, e.g. a source file caught mid-edit); (platform, token, work)."""
    for attempt in range(1, attempts + 1):
        shutil.rmtree(data_dir, ignore_errors=True)
        work = data_dir / "load"
        work.mkdir(parents=True)
        platform = Platform(data_dir=data_dir, fixed_ports=False, extra_env=dict(RATE_LIMIT_ENV))
        # In the demo team: the customers it seeds are that team's, so team reports (ageing) have a book.
        token = mint_dev_token(dev_secret(data_dir), "bench", "admin", team=DEMO_TEAM)
        try:
            platform.start()
            return platform, token, work
        except RuntimeError as err:
            if attempt == attempts:
                raise
            log(f"the platform did not start ({str(err).strip().splitlines()[-1][:200]}); again in {retry_s:g}s")
            time.sleep(retry_s)
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    suites = chosen(args.suite)
    data_dir = REPO / "var" / "bench"
    log(f"starting the platform in {data_dir}; suites: {', '.join(s.NAME for s in suites)}")
    began = time.monotonic()
    platform, token, work = start_platform(data_dir)
    try:
        bench = Bench(args, platform, token, work)
        tools = {"wrk": tool_version([bench.wrk, "-v"]).split(" [")[0]}
        tools["gRPC"] = f"ghz {GHZ_VERSION}" if bench.ghz else "Python (2 procs x 16 threads)"
        tools["FerretDB floor"] = "Python pymongo (2 procs x 16 threads)"
        report = Report(
            config={"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "customers": args.customers,
                    "duration_s": args.duration, "warmup_s": args.warmup, "concurrency": CONCURRENCY,
                    "tools": tools, "suites": [s.NAME for s in suites], "rate_limits": RATE_LIMIT_ENV},
            seeding=bench.seed())
        report.config["suite_s"] = {"seeding": report.seeding["seconds"]}
        for suite in (floors, *suites):
            log(f"suite {suite.NAME}")
            suite_began = time.monotonic()
            suite.run(bench, report)
            report.config["suite_s"][suite.NAME] = round(time.monotonic() - suite_began, 1)
            harness.write_report(report)  # what was measured so far outlives a later suite's crash
        report.rss = bench.rss()
        report.checks = harness.floor_checks(report.results) + report.checks + [harness.rss_check(report.rss)]
    finally:
        log("stopping the platform")
        platform.stop()
    report.config["total_s"] = round(time.monotonic() - began, 1)
    log(f"bench took {report.config['total_s'] / 60:.1f} min")
    print(harness.write_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark suites, one per service: `bench/run.py --suite NAME` (`make bench SUITE=NAME`).

Every run starts the platform, seeds the customers and measures the floors
(floors.py: the gateway plus one empty gRPC call, an empty gRPC call, a
store read by `_id`) whatever the suite; then each chosen suite adds its
scenarios. A suite is a module with

    NAME = "sales"
    def run(bench: harness.Bench, report: harness.Report) -> None: ...

that measures with `bench.measure(key, label, prepare, floor="d1", suite=NAME)`
(prepare returns a load tool and its run function: `bench.http(...)`,
`bench.http_post(...)`, `bench.grpc(service, method, python_op, ...)`), adds
the results with `report.add(...)` and its targets with `report.check(...)`
(`row=` puts a target beside its scenario in the table); results with a
`floor` get their throughput check automatically. Register it in SUITES
below; `all` runs every suite in that order. Keep a suite's own time in
minutes: the whole bench must stay under 30 minutes at 100,000 customers.
"""

from __future__ import annotations

from types import ModuleType

from suites import customer, loyalty, sales

SUITES: dict[str, ModuleType] = {
    customer.NAME: customer,
    sales.NAME: sales,
    loyalty.NAME: loyalty,
}


def chosen(name: str) -> list[ModuleType]:
    """The suites `--suite name` runs ("all": every one)."""
    if name == "all":
        return list(SUITES.values())
    return [SUITES[name]]

"""The floors every suite is compared with, measured in the same run:

  (d1) gateway GET /readyz/customer: the gateway plus one empty gRPC call
       (exempt from rate limits, like every probe)
  (d2) gRPC grpc.health.v1.Health/Check: an empty gRPC call
  (d3) pymongo find_one({"_id": id}) straight to FerretDB
"""

from __future__ import annotations

import functools

import harness
import pyload
from harness import CUSTOMER_SERVICE, Bench, Report

NAME = "floors"


def gateway_readyz(bench: Bench):
    return bench.http(["/readyz/customer"], "paths-readyz.txt")


def grpc_health(bench: Bench, service: str = "customer", grpc_service: str = CUSTOMER_SERVICE):
    python_op = functools.partial(pyload.grpc_health_check, bench.platform.target(service), grpc_service)
    return bench.grpc(service, "grpc.health.v1.Health.Check", python_op, data={"service": grpc_service})


def mongo_find_one(bench: Bench):
    op = functools.partial(pyload.mongo_find_one, bench.mongo_uri, bench.mongo_db, "customers", bench.ids)
    return "python-pymongo", functools.partial(harness.python_load, op)


def run(bench: Bench, report: Report) -> None:
    for key, label, prepare in [
        ("d1", "floor: gateway GET /readyz/customer", gateway_readyz),
        ("d2", "floor: gRPC Health/Check", grpc_health),
        ("d3", "floor: FerretDB find_one by _id", mongo_find_one),
    ]:
        report.add(bench.measure(key, label, functools.partial(prepare, bench), suite=NAME))

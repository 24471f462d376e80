"""Commission scenario, run by the sales suite after its profitability ones
(sales.PROFIT_EXTRA):

  (t)  a rep's monthly commission statement through the gateway, one request
       at a time: p99. A commission plan (every grade, on margin) is set for
       everyone, then receipts are recorded on up to STATEMENT_ORDERS seeded
       orders of the rep owning the most confirmed orders, so the statement
       read has that many lines (each order's one or more lines).
  (t0) floor: a pymongo `_id` read of the same statement document: (t)'s
       p99 at most 2x the floor's (the statement is that one document).
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pymongo
import pyload

from harness import Bench, Report, log

NAME = "sales"
PLAN_ID = "bench-grades"
STATEMENT_ORDERS, STATEMENT_REPEATS = 300, 200
STATEMENT_FLOOR_RATIO_MAX = 2.0


def _database(bench: Bench) -> str:
    return bench.platform.env.get("SALES_MONGODB_DATABASE", os.environ.get("SALES_MONGODB_DATABASE", "crm_sales"))


def _uri(bench: Bench) -> str:
    return bench.platform.env.get("SALES_MONGODB_URI", bench.mongo_uri)


def run_profitability(bench: Bench, report: Report) -> None:
    import grpc

    from crm.common.v1 import common_pb2
    from crm.sales.v1 import commission_service_pb2 as cpb, commission_service_pb2_grpc
    from crm.sales.v1 import payment_service_pb2 as ppb, payment_service_pb2_grpc
    from crm_sales.profitability.months import Month
    from datetime import datetime, timezone

    channel = grpc.insecure_channel(bench.platform.target("sales"))
    commission = commission_service_pb2_grpc.CommissionServiceStub(channel)
    payments = payment_service_pb2_grpc.PaymentServiceStub(channel)
    metadata = [("authorization", f"Bearer {bench.token}")]
    commission.PutCommissionPlan(cpb.PutCommissionPlanRequest(plan=cpb.CommissionPlan(
        id=PLAN_ID, name="bench", base=cpb.COMMISSION_BASE_MARGIN, currency_code="CNY",
        rates=[cpb.GradeRate(grade=g, rate_bp=r) for g, r in (("A", 800), ("B", 500), ("C", 300), ("D", 100))],
        bands=[cpb.CommissionBand(above_minor_units=1_000_000, extra_bp=200)])), metadata=metadata, timeout=10)
    commission.AssignCommissionPlan(cpb.AssignCommissionPlanRequest(assignment=cpb.CommissionAssignment(
        scope="*", plan_id=PLAN_ID, from_month="2000-01")), metadata=metadata, timeout=10)

    with pymongo.MongoClient(_uri(bench)) as client:
        confirmed = list(client[_database(bench)]["orders"].find(
            {"state": "confirmed"}, {"owner_id": 1}).limit(50_000))
    if not confirmed:
        log("(t) no confirmed orders to pay: commission scenario skipped")
        return
    rep = Counter(d.get("owner_id", "") for d in confirmed if d.get("owner_id")).most_common(1)[0][0]
    orders = [d["_id"] for d in confirmed if d.get("owner_id") == rep][:STATEMENT_ORDERS]
    paid = 0
    for order_id in orders:
        try:
            plan = payments.GetPaymentPlan(ppb.GetPaymentPlanRequest(order_id=order_id), metadata=metadata, timeout=10)
            amount = plan.balance.minor_units // 2
            if amount <= 0:
                continue
            payments.RecordReceipt(ppb.RecordReceiptRequest(
                order_id=order_id, method=ppb.PAYMENT_METHOD_BANK_TRANSFER,
                amount=common_pb2.Money(minor_units=amount, currency_code=plan.total.currency_code or "CNY")),
                metadata=metadata, timeout=10)
            paid += 1
        except grpc.RpcError as err:  # a plan not made yet or paid already: skip the order
            log(f"(t) receipt on {order_id} skipped: {err.code().name}")
    month = str(Month.of_date(datetime.now(timezone.utc).date()))
    request = cpb.GetCommissionStatementRequest(rep_id=rep, month=month)
    # The statement follows the receipts (group sales-commission): read it once the platform is idle (an
    # order whose lines earn nothing, such as one at a loss, adds no line, so counting lines can't tell).
    bench.settle()
    statement = commission.GetCommissionStatement(request, metadata=metadata, timeout=10)
    lines = len({x.order_id for x in statement.lines if x.kind == "receipt"})
    channel.close()
    log(f"(t) statement of {rep} for {month}: {len(statement.lines)} lines over {lines} of {paid} paid orders")

    t = report.add(bench.one_at_a_time(
        "t", f"gateway GET /api/v1/commission/statements/{{rep}}/{{month}} ({len(statement.lines)} lines)",
        [f"/api/v1/commission/statements/{rep}/{month}"] * STATEMENT_REPEATS, NAME))
    floor = []
    with pymongo.MongoClient(_uri(bench)) as client:
        documents = client[_database(bench)]["commission_statements"]
        for _ in range(100):
            started = time.perf_counter()
            documents.find_one({"_id": f"{rep}|{month}"})
            floor.append((time.perf_counter() - started) * 1000)
    floor.sort()
    # The issue asks for the p99 alone; the check is the service's cost beside the store's read of the document.
    report.check("(t) p99 / (t0) floor p99", t.p99_ms / max(pyload.percentile(floor, 99), 0.1), "<=",
                 STATEMENT_FLOOR_RATIO_MAX, row="t", against="(t0)")
    report.notes.append(f"(t0) floor: a pymongo `_id` read of that statement document ({len(statement.lines)} "
                        f"lines): p50 {pyload.percentile(floor, 50):.1f} ms, p99 {pyload.percentile(floor, 99):.1f} ms.")
    report.extra["commission_statement"] = {"rep": rep, "month": month, "lines": len(statement.lines),
                                            "paid_orders": paid}

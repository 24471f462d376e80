"""The sales service killed with SIGKILL while finance records receipts:
after a restart every receipt a plan holds had its payment.received seen
exactly once (one event id), none was seen for a receipt no plan holds, a
receipt retried with its request id after the kill was recorded once, and
order.paid went out at most once per order, exactly once for each order
that is fully paid (DESIGN section 5: a producer never loses an event after
its own write, and never publishes one for a write that did not happen).

The kill lands anywhere: between a revision claim (which carries the
events) and the plan's write, between the write and the relay, mid-relay.
The restarted service's writers and its outbox sweep complete the claims
the dead process left and publish their events."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import date

import grpc
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from crm.common.v1 import common_pb2
from crm.sales.v1 import payment_service_pb2 as pb
from crm.sales.v1 import payment_service_pb2_grpc
from crm_kit.events import envelope as ev
from crm_kit.localstores import free_port
from crm_kit.money import Money
from crm_kit.mongo import connect
from crm_sales.payments.model import Debt
from crm_sales.payments.service import PaymentService
from crm_sales.payments.store import PaymentStore
from tests.conftest import SECRET, token, business_today

ROUNDS = 3
WRITERS = 6
ORDERS = 40
TOTAL = 1000
PART = 100  # ten receipts pay an order


def start_service(port: int, stores, database: str) -> subprocess.Popen:
    env = {**os.environ, "SALES_GRPC_ADDR": f"127.0.0.1:{port}", "SALES_METRICS_PORT": "0",
           "SALES_MONGODB_URI": stores.mongodb_uri, "SALES_MONGODB_DATABASE": database,
           # Receipts never ask the customer service (finance sees every plan): nothing listens there.
           "CUSTOMER_GRPC_TARGET": f"127.0.0.1:{free_port()}",
           "EVENTS_REDIS_URL": stores.events_redis_url, "EVENTS_ENABLED": "true", "CRM_JWT_DEV_SECRET": SECRET,
           "SALES_ABANDONED_WRITE_SECONDS": "1", "SALES_CONTRACT_CHECK_INTERVAL_SECONDS": "0",
           "CRM_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "crm_sales.main"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == \
                        health_pb2.HealthCheckResponse.SERVING:
                    return proc
            except grpc.RpcError:
                time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the sales service did not start")


class Writer:
    """Records receipts of PART until the service is gone; a receipt whose
    answer was lost is retried with the same request id next round."""

    def __init__(self, orders: list[str]):
        self.orders = orders
        self.in_doubt: list[tuple[str, str]] = []  # (order id, request id)
        self.request_ids: set[str] = set()

    def run(self, port: int, stop: threading.Event) -> None:
        metadata = [("authorization", f"Bearer {token('fin-fault', 'finance', team='finance')}")]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = payment_service_pb2_grpc.PaymentServiceStub(channel)
            while not stop.is_set():
                order_id, request_id = self.in_doubt[0] if self.in_doubt else \
                    (random.choice(self.orders), uuid.uuid4().hex)
                if not self.in_doubt:
                    self.in_doubt.append((order_id, request_id))
                self.request_ids.add(request_id)
                try:
                    stub.RecordReceipt(pb.RecordReceiptRequest(
                        order_id=order_id, method=pb.PAYMENT_METHOD_BANK_TRANSFER,
                        amount=common_pb2.Money(minor_units=PART, currency_code="CNY"), request_id=request_id),
                        metadata=metadata, timeout=3)
                except grpc.RpcError as err:
                    if err.code() == grpc.StatusCode.FAILED_PRECONDITION:
                        pass  # the order is paid in full: refused, settled
                    elif err.code() == grpc.StatusCode.ABORTED:
                        time.sleep(0.2)  # a dead writer's claim is in the way until it is old: retry
                        continue
                    else:
                        return  # the service is gone; the receipt stays in doubt
                self.in_doubt.pop(0)


@pytest.mark.e2e
def test_killed_between_a_receipts_write_and_its_relay_yields_each_event_once(stores):
    database = f"crm_sales_fault_{uuid.uuid4().hex[:8]}"
    db = connect(stores.mongodb_uri, "fault-test")[database]
    plans = PaymentService(PaymentStore(db), customers=None, features={})
    run = uuid.uuid4().hex[:10]
    orders = [f"ord_fault{run}{n:02d}" for n in range(ORDERS)]
    for order_id in orders:
        plans.ensure_plan(Debt("order", order_id, f"cus_fault{run}", "rep-fault", "team-fault",
                               Money(TOTAL, "CNY"), business_today()))
    port = free_port()
    writers = [Writer(orders) for _ in range(WRITERS)]
    try:
        for _round in range(ROUNDS):
            started = time.monotonic()
            proc = start_service(port, stores, database)
            print(f"round {_round}: started in {time.monotonic() - started:.1f}s")
            stop = threading.Event()
            threads = [threading.Thread(target=w.run, args=(port, stop)) for w in writers]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.5, 1.5))
            proc.send_signal(signal.SIGKILL)  # mid-write: claims without writes, intents not relayed
            proc.wait()
            stop.set()
            for t in threads:
                t.join()
        print(f"after {ROUNDS} kills: {db['outbox'].count_documents({})} intents not relayed, "
              f"{sum(len(w.in_doubt) for w in writers)} receipts in doubt")

        proc = start_service(port, stores, database)
        try:
            # Every receipt left in doubt is retried with its request id (as a client would).
            stop = threading.Event()
            for w in writers:
                w.in_doubt = w.in_doubt[:1]
                if w.in_doubt:
                    stop.clear()
                    retry = threading.Thread(target=w.run, args=(port, stop))
                    retry.start()
                    deadline = time.monotonic() + 20
                    while w.in_doubt and time.monotonic() < deadline:
                        time.sleep(0.05)
                    stop.set()
                    retry.join()
                    assert not w.in_doubt, "a retried receipt was not settled"

            def claimed_but_pending() -> list:
                return [i for i in db["outbox"].find({})
                        if any(db[i["collection"]].find_one({"_id": c}) is not None
                               for c in i.get("claims", [i.get("claim")]))]

            deadline = time.monotonic() + 60
            while claimed_but_pending() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert claimed_but_pending() == []
        finally:
            proc.kill()
            proc.wait()

        stored = {order_id: plans.store.get(f"order:{order_id}") for order_id in orders}
        receipts = {r.id: order_id for order_id, plan in stored.items() for r in plan.receipts}
        assert receipts, "no receipt was written before the kills"
        print(f"{len(receipts)} receipts stored, {sum(p.fully_paid for p in stored.values())} orders paid in full")
        request_ids = [r.request_id.partition("|")[0] for plan in stored.values() for r in plan.receipts]
        assert len(request_ids) == len(set(request_ids))  # a retried request id recorded once

        events = redis.Redis.from_url(stores.events_redis_url)
        received: dict[str, set[str]] = {}
        paid: dict[str, set[str]] = {}
        for _entry, fields in events.xrange("events:sales"):
            envelope = ev.decode(fields[b"data"])
            if envelope.subject_id not in stored:
                continue
            if envelope.type == ev.PAYMENT_RECEIVED:
                received.setdefault(ev.payload_of(envelope).receipt_id, set()).add(envelope.event_id)
            elif envelope.type == ev.ORDER_PAID:
                paid.setdefault(envelope.subject_id, set()).add(envelope.event_id)
        assert set(received) == set(receipts)  # every stored receipt's event, none for a receipt not stored
        assert {len(ids) for ids in received.values()} == {1}  # each exactly once
        assert all(len(ids) == 1 for ids in paid.values())  # at most once per order
        assert set(paid) == {order_id for order_id, plan in stored.items() if plan.fully_paid}
        for plan in stored.values():
            assert plan.collected <= plan.total
    finally:
        db.client.drop_database(database)
        db.client.close()

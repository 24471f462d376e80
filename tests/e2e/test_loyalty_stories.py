"""Loyalty's stories end to end: the platform booted as separate processes
(as `make run` does), driven over HTTP through the gateway, with the real
sales service publishing order.paid and payment.refunded:

- an order paid earns its points exactly once, also when the sales service
  is killed between the receipt's write and the event's publish (its outbox
  sweep publishes it after the restart) and when the loyalty service is
  killed while it works through a backlog of awards (the award and its
  dedupe are one atomic step; the restarted consumer takes over what the
  dead one held);
- a refund claws back the points of what was refunded;
- whoever referred a customer is rewarded once, on the referee's first paid
  order only;
- bad input is a clear 4xx and changes nothing.

Points: the default earn rule, 1 point per 100 fen, at the lowest tier
(x1.00); every customer here stays below the next tier's threshold."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
import redis

from crm_cli.platform import Platform, dev_secret
from crm_kit.auth import mint_dev_token

pytestmark = pytest.mark.e2e

PRICE, COST = 12_000, 5_000  # fen per unit
AWAIT_SECONDS = 120  # a killed consumer's entries are taken over once idle (XAUTOCLAIM)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    p = Platform(tmp_path_factory.mktemp("loyalty-platform"), extra_env={
        "CUSTOMER_MONGODB_DATABASE": f"crm_customer_e2e_{suffix}",
        "SALES_MONGODB_DATABASE": f"crm_sales_e2e_{suffix}",
        "SUPPORT_MONGODB_DATABASE": f"crm_support_e2e_{suffix}",
        "SALES_ABANDONED_WRITE_SECONDS": "1",
        "LOYALTY_GREETING_CHECK_SECONDS": "0",  # no scheduled greeting runs in these stories
        "GATEWAY_RATE_LIMIT_ENABLED": "false",
    })
    p.start()
    yield p
    p.stop()


class Api:
    """HTTP through the gateway as one principal."""

    def __init__(self, platform: Platform, subject: str, role: str, team: str = "team-loyalty-e2e"):
        self.platform = platform
        self.token = mint_dev_token(dev_secret(platform.data_dir), subject, role, team=team)

    def call(self, method: str, path: str, body=None, headers=None):
        req = urllib.request.Request(self.platform.gateway_url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {self.token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def ok(self, method: str, path: str, body=None, headers=None, status=(200, 201), safe: bool = False):
        """The answer of a call that must succeed; a read (or a `safe` POST: one
        that may be repeated) is asked again while the gateway answers 503 (a
        service just restarted, or busy with a backlog)."""
        deadline = time.monotonic() + 30
        while True:
            got, answer = self.call(method, path, body, headers)
            if got != 503 or not (method == "GET" or safe) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert got in status, (method, path, got, answer)
        return answer


@pytest.fixture(scope="module")
def people(platform):
    return {"rep": Api(platform, "rep-loyalty-e2e", "rep"), "manager": Api(platform, "mgr-loyalty-e2e", "manager"),
            "finance": Api(platform, "fin-loyalty-e2e", "finance", team="finance"),
            "admin": Api(platform, "admin-loyalty-e2e", "admin")}


@pytest.fixture(scope="module")
def product(people):
    return people["manager"].ok("POST", "/api/v1/products", {
        "sku": f"LOY-{uuid.uuid4().hex[:8].upper()}", "name": "年卡", "unit": "张",
        "list_price": {"minor_units": PRICE, "currency_code": "CNY"},
        "unit_cost": {"minor_units": COST, "currency_code": "CNY"}})["id"]


def new_customer(people, referred_by: str | None = None) -> str:
    body = {"display_name": "林黛玉", "phones": [f"+86139{random.randrange(10**8):08d}"]}
    if referred_by:
        body.update({"referred_by": referred_by, "source": "referral"})
    return people["rep"].ok("POST", "/api/v1/customers", body)["id"]


def confirmed_order(people, product: str, customer: str, quantity: int = 1) -> tuple[str, int]:
    rep = people["rep"]
    order = rep.ok("POST", "/api/v1/orders", {"customer_id": customer,
                                              "lines": [{"product": product, "quantity": quantity}]})
    confirmed = rep.ok("POST", f"/api/v1/orders/{order['id']}/confirm")
    return order["id"], confirmed["total"]["minor_units"]


def pay(people, order_id: str, amount: int, key: str | None = None) -> dict:
    """A receipt, retried with its Idempotency-Key while the gateway answers 503
    (a worker's channel to a just-restarted service may still be reconnecting)."""
    headers = {"Idempotency-Key": key or f"pay-{uuid.uuid4().hex}"}
    body = {"order_id": order_id, "method": "bank_transfer",
            "amount": {"minor_units": amount, "currency_code": "CNY"}}
    deadline = time.monotonic() + 30
    while True:
        status, answer = people["finance"].call("POST", "/api/v1/receipts", body, headers)
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status in (200, 201), (status, answer)
    return answer


def account(people, customer: str) -> dict:
    return people["admin"].ok("GET", f"/api/v1/customers/{customer}/loyalty")


def other_orders_paid(platform: Platform, count: int) -> None:
    """order.paid of `count` orders of made-up customers, as the sales service publishes them."""
    from crm.common.v1 import common_pb2
    from crm.events.v1 import events_pb2
    from crm_kit.events import envelope as ev
    from crm_kit.ids import new_id

    events = redis.Redis.from_url(platform.env["EVENTS_REDIS_URL"])
    pipe = events.pipeline(transaction=False)
    for _ in range(count):
        order_id = new_id("ord")
        env = ev.new_event(ev.ORDER_PAID, order_id, events_pb2.OrderPaid(
            order_id=order_id, customer_id=new_id("cus"),
            total=common_pb2.Money(minor_units=PRICE, currency_code="CNY")), "sales")
        pipe.xadd("events:sales", {"id": env.event_id, "type": env.type, "data": ev.encode(env)})
    pipe.execute()
    events.close()


def account_or_none(people, customer: str):
    """The balance, or None while the loyalty service is down."""
    status, answer = people["admin"].call("GET", f"/api/v1/customers/{customer}/loyalty")
    return answer["balance"] if status == 200 else None


def ledger(people, customer: str) -> list[dict]:
    entries, token = [], ""
    while True:
        page = people["admin"].ok("GET", f"/api/v1/customers/{customer}/loyalty/ledger?page_size=200"
                                         + (f"&page_token={token}" if token else ""))
        entries += page["items"]
        token = page["next_page_token"]
        if not token:
            return entries


def wait_for(check, what: str, timeout: float = AWAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.25)


def awards_by_order(entries: list[dict]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for e in entries:
        if e["kind"] == "order_award":
            out.setdefault(e["reference"], []).append(e["points"])
    return out


def test_an_order_paid_earns_its_points_once(people, product):
    customer = new_customer(people)
    order_id, total = confirmed_order(people, product, customer, quantity=2)
    pay(people, order_id, total // 2)  # part paid: order.paid has not happened
    pay(people, order_id, total - total // 2, key=f"pay-{order_id}")
    pay(people, order_id, total - total // 2, key=f"pay-{order_id}")  # a retried request: replayed, no new money
    wait_for(lambda: account(people, customer)["balance"] == total // 100, "the award")
    time.sleep(1.0)  # give a second award every chance to appear
    got = account(people, customer)
    assert got["balance"] == got["earned_total"] == total // 100
    assert awards_by_order(ledger(people, customer)) == {order_id: [total // 100]}
    assert got["tier"]["code"] and got["tier"]["to_next"] > 0


def test_sales_killed_between_the_write_and_the_publish(platform, people, product):
    """The receipt is written while sales cannot reach the event Redis (its
    relay fails), then sales is killed: the event exists only as the
    outbox's intent. The restarted service's sweep publishes it; loyalty
    awards it once."""
    customer = new_customer(people)
    order_id, total = confirmed_order(people, product, customer)
    from crm_kit.localstores import free_port

    platform.restart_with("sales", {"EVENTS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    pay(people, order_id, total)
    time.sleep(1.0)
    assert account(people, customer)["balance"] == 0  # nothing published yet
    platform.kill("sales")
    platform.start_service("sales")
    platform.wait_ready()
    wait_for(lambda: account(people, customer)["balance"] == total // 100, "the award after the sweep")
    time.sleep(1.0)
    assert awards_by_order(ledger(people, customer)) == {order_id: [total // 100]}


def test_sales_killed_while_receipts_are_recorded(platform, people, product):
    """Receipts recorded from four threads while sales is SIGKILLed at a random
    moment (mid-write, mid-relay); answers lost are retried with the same
    Idempotency-Key after the restart. Every order paid in full earns its
    points once; none earns twice."""
    customers = [new_customer(people) for _ in range(4)]
    orders = {confirmed_order(people, product, c)[0]: c for c in customers for _ in range(3)}
    totals = {o: PRICE for o in orders}
    in_doubt: list[str] = []
    lock = threading.Lock()

    def payer(my_orders: list[str]):
        for order_id in my_orders:
            try:
                status, _ = people["finance"].call("POST", "/api/v1/receipts", {
                    "order_id": order_id, "method": "cash", "amount": {"minor_units": PRICE, "currency_code": "CNY"}},
                    {"Idempotency-Key": f"fault-{order_id}"})
            except OSError:
                status = 0
            if status != 201:
                with lock:
                    in_doubt.append(order_id)

    names = list(orders)
    threads = [threading.Thread(target=payer, args=(names[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(0.05, 0.4))
    platform.kill("sales")
    for t in threads:
        t.join()
    platform.start_service("sales")
    platform.wait_ready()
    time.sleep(2.0)  # claims the dead process left are completed by the next writer once older than 1 s
    for order_id in in_doubt:  # as a client would: the same key again
        deadline = time.monotonic() + 30
        while True:
            status, answer = people["finance"].call("POST", "/api/v1/receipts", {
                "order_id": order_id, "method": "cash", "amount": {"minor_units": PRICE, "currency_code": "CNY"}},
                {"Idempotency-Key": f"fault-{order_id}"})
            if status < 500 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert status in (201, 409), answer  # 409: it had landed before the kill, the plan is paid in full
    for order_id in orders:
        plan = people["finance"].ok("GET", f"/api/v1/orders/{order_id}/payment-plan")
        assert plan["balance"]["minor_units"] == 0, plan
    print(f"{len(in_doubt)} of {len(orders)} receipts were in doubt after the kill")
    for customer in customers:
        mine = {o for o, c in orders.items() if c == customer}
        expected = sum(totals[o] for o in mine) // 100
        wait_for(lambda: account(people, customer)["balance"] == expected, f"awards of {customer}")
    time.sleep(1.0)
    for customer in customers:
        mine = {o for o, c in orders.items() if c == customer}
        assert awards_by_order(ledger(people, customer)) == {o: [totals[o] // 100] for o in mine}


def test_loyalty_killed_in_the_middle_of_awards(platform, people, product):
    """Orders are paid while loyalty is down, amid 3,000 other customers'
    order.paid (a backlog); loyalty starts and is SIGKILLed twice while it
    works through it, then starts again. Each order's points arrive once."""
    customer = new_customer(people)
    platform.kill("loyalty")
    orders = []
    for _ in range(4):
        # Other customers' order.paid around ours make a backlog long enough to be killed in.
        other_orders_paid(platform, 750)
        for _ in range(3):
            order_id, total = confirmed_order(people, product, customer)
            pay(people, order_id, total)
            orders.append((order_id, total))
    expected = sum(total for _, total in orders) // 100
    for round_ in range(2):
        platform.start_service("loyalty")
        if round_ == 0:
            time.sleep(random.uniform(0.2, 1.0))  # somewhere in its start-up or its first reads
        else:
            platform.wait_ready()  # serving, its consumers reading: then somewhere in the backlog
            time.sleep(random.uniform(0.0, 1.0))
        held = account_or_none(people, customer)
        platform.kill("loyalty")
        print(f"kill {round_ + 1}: loyalty SIGKILLed ({held} of {expected} points held just before)")
    platform.start_service("loyalty")
    platform.wait_ready()
    wait_for(lambda: account(people, customer)["balance"] == expected, "every award after the kills")
    time.sleep(1.0)
    entries = ledger(people, customer)
    assert awards_by_order(entries) == {o: [t // 100] for o, t in orders}
    assert account(people, customer)["balance"] == sum(e["points"] for e in entries) == expected


def test_a_refund_claws_back_the_points_of_what_was_refunded(people, product):
    customer = new_customer(people)
    order_id, total = confirmed_order(people, product, customer, quantity=2)
    receipt = pay(people, order_id, total)["receipt"]
    wait_for(lambda: account(people, customer)["balance"] == total // 100, "the award")
    refund = total // 4
    people["finance"].ok("POST", f"/api/v1/receipts/{receipt['id']}/refunds",
                         {"amount": {"minor_units": refund, "currency_code": "CNY"}, "reason": "退了一张"})
    clawed = -(-(total // 100) * refund // total)  # pro rata, rounded up
    wait_for(lambda: account(people, customer)["balance"] == total // 100 - clawed, "the clawback")
    got = account(people, customer)
    assert got["clawed_back_total"] == clawed
    assert [e["points"] for e in ledger(people, customer) if e["kind"] == "clawback"] == [-clawed]


def test_a_refund_of_spent_points_goes_negative(people, product):
    customer = new_customer(people)
    order_id, total = confirmed_order(people, product, customer)
    receipt = pay(people, order_id, total)["receipt"]
    points = total // 100
    wait_for(lambda: account(people, customer)["balance"] == points, "the award")
    reward = people["manager"].ok("POST", "/api/v1/rewards", {"name": "保温杯", "points_cost": points, "stock": 5})
    people["rep"].ok("POST", f"/api/v1/customers/{customer}/loyalty/redemptions", {"reward_id": reward["id"]})
    assert account(people, customer)["balance"] == 0
    people["finance"].ok("POST", f"/api/v1/receipts/{receipt['id']}/refunds",
                         {"amount": {"minor_units": total, "currency_code": "CNY"}})
    wait_for(lambda: account(people, customer)["balance"] == -points, "the clawback below zero")


def test_the_referrer_is_rewarded_once_on_the_first_paid_order(people, product):
    referrer = new_customer(people)
    referee = new_customer(people, referred_by=referrer)
    first, total = confirmed_order(people, product, referee)
    second, _ = confirmed_order(people, product, referee)
    pay(people, first, total)
    wait_for(lambda: [e for e in ledger(people, referrer) if e["kind"] == "referral_award"], "the referral reward")
    pay(people, second, total)
    wait_for(lambda: account(people, referee)["balance"] == 2 * (total // 100), "the referee's own awards")
    time.sleep(1.0)
    rewards = [e for e in ledger(people, referrer) if e["kind"] == "referral_award"]
    assert len(rewards) == 1 and rewards[0]["reference"] == referee and rewards[0]["points"] > 0
    assert account(people, referrer)["balance"] == rewards[0]["points"]
    assert [e["kind"] for e in ledger(people, referee)] == ["order_award", "order_award"]


def test_bad_input_is_a_clear_4xx_and_changes_nothing(people, product):
    customer = new_customer(people)
    admin, rep, manager = people["admin"], people["rep"], people["manager"]
    admin.ok("POST", f"/api/v1/customers/{customer}/loyalty/adjustments", {"points": 300, "reason": "致歉"})
    before = account(people, customer)
    entries_before = ledger(people, customer)

    cheap = manager.ok("POST", "/api/v1/rewards", {"name": "书签", "points_cost": 100, "stock": 1})
    dear = manager.ok("POST", "/api/v1/rewards", {"name": "电饭煲", "points_cost": 5000, "stock": 10})
    status, problem = rep.call("POST", f"/api/v1/customers/{customer}/loyalty/redemptions", {"reward_id": dear["id"]})
    assert status == 409 and problem["reasons"] == ["POINTS"], problem  # more points than held

    other = new_customer(people)
    admin.ok("POST", f"/api/v1/customers/{other}/loyalty/adjustments", {"points": 500, "reason": "x"})
    rep.ok("POST", f"/api/v1/customers/{other}/loyalty/redemptions", {"reward_id": cheap["id"]})
    status, problem = rep.call("POST", f"/api/v1/customers/{customer}/loyalty/redemptions", {"reward_id": cheap["id"]})
    assert status == 409 and problem["reasons"] == ["STOCK"], problem  # exhausted

    status, problem = rep.call("POST", f"/api/v1/customers/{customer}/loyalty/adjustments",
                               {"points": -100, "reason": "oops"})
    assert status == 403, problem  # adjustments are admins'
    status, problem = admin.call("POST", f"/api/v1/customers/{customer}/loyalty/adjustments",
                                 {"points": -10_000, "reason": "too much"})
    assert status == 409, problem  # below zero
    status, problem = admin.call("POST", f"/api/v1/customers/{customer}/loyalty/adjustments",
                                 {"points": "100", "reason": "a string"})
    assert status == 422 and problem["errors"][0]["field"] == "points", problem
    status, problem = admin.call("POST", f"/api/v1/customers/{customer}/loyalty/adjustments",
                                 {"points": 10, "reason": "x", "$inc": {"balance": 1}})
    assert status == 422, problem
    status, problem = admin.call("GET", "/api/v1/customers/cus_000000000000000000000000/loyalty")
    assert status == 404, problem  # an unknown customer
    status, problem = admin.call("PUT", "/api/v1/greetings/templates/mid_autumn/zh",
                                 {"subject": "中秋", "body": "{name}，您的积分是{points}"})
    assert status == 422 and "{points}" in json.dumps(problem, ensure_ascii=False), problem

    assert account(people, customer) == before
    assert ledger(people, customer) == entries_before
    assert manager.ok("GET", f"/api/v1/rewards/{dear['id']}")["stock"] == 10
    templates = admin.ok("GET", "/api/v1/greetings/templates")["items"]
    assert all("{points}" not in t["body"] for t in templates)


def test_mid_autumn_greets_each_consenting_customer_once_also_after_a_restart(platform, people):
    """Lunar 8/15 of 2026 is 25 September: customers with SMS consent get one
    Mid-Autumn SMS in the sink, the others none (skipped, logged), and a
    second run after the loyalty service restarts sends nothing new."""
    rep, admin = people["rep"], people["admin"]
    granted, silent = [], []
    for n in range(6):
        body = {"display_name": f"Moon Guest {n}", "phones": [f"+86137{random.randrange(10**8):08d}"]}
        if n % 2 == 0:
            body["consent_sms"] = {"state": "granted"}
        made = rep.ok("POST", "/api/v1/customers", body)
        (granted if n % 2 == 0 else silent).append((made["id"], made["phones"][0]))
    before = len(sink(platform))
    first = run_greetings(admin, "2026-09-25")
    assert first["on_date"] == "2026-09-25" and first["failed"] == 0
    got = sink(platform)[before:]
    sms_to = sorted(m["to"] for m in got if m["channel"] == "sms")
    mine = {phone for _, phone in granted}
    assert sorted(p for p in sms_to if p in mine) == sorted(mine)  # each consenting customer exactly once
    assert not any(phone in sms_to for _, phone in silent)
    for customer, _ in granted:
        [delivery] = admin.ok("GET", f"/api/v1/customers/{customer}/greetings")["items"]
        assert (delivery["occasion"], delivery["year"], delivery["channel"], delivery["outcome"]) == \
            ("mid_autumn", 2026, "sms", "sent")
    for customer, _ in silent:
        [delivery] = admin.ok("GET", f"/api/v1/customers/{customer}/greetings")["items"]
        assert (delivery["outcome"], delivery["reason"]) == ("skipped", "no_consent")

    platform.kill("loyalty")
    platform.start_service("loyalty")
    platform.wait_ready()
    second = run_greetings(admin, "2026-09-25")
    assert second["sent"] == 0 and second["already_done"] >= len(granted) + len(silent)
    assert len(sink(platform)) == before + len(got)


def run_greetings(admin: Api, day: str) -> dict:
    """Starts the greeting run of `day` (202: it goes on in the loyalty
    service) and polls it until it has ended: its result."""
    run = admin.ok("POST", "/api/v1/greetings/runs", {"on_date": day}, status=(202,), safe=True)
    assert run["on_date"] == day and run["finished_at"] is None, run
    deadline = time.monotonic() + AWAIT_SECONDS
    while run["finished_at"] is None:
        assert time.monotonic() < deadline, ("the greeting run never ended", run)
        time.sleep(0.3)
        run = admin.ok("GET", f"/api/v1/greetings/runs/{run['run_id']}")
    assert run["stopped_reason"] == "" and run["errors"] == 0, run
    return run


def sink(platform: Platform) -> list[dict]:
    with urllib.request.urlopen(platform.sink_url + "/messages", timeout=10) as resp:
        return json.loads(resp.read())


def test_a_lunar_birthday_on_the_30th_is_greeted_on_the_right_gregorian_day(platform, people):
    """Lunar 8/30: the eighth month of 2026 has 29 days, so the birthday is
    greeted on lunar 8/29 = 9 October 2026, not the day before."""
    rep, admin = people["rep"], people["admin"]
    made = rep.ok("POST", "/api/v1/customers", {
        "display_name": "贾探春", "phones": [f"+86136{random.randrange(10**8):08d}"],
        "birthday": {"calendar": "lunar", "month": 8, "day": 30}, "consent_sms": {"state": "granted"}})
    log_url = f"/api/v1/customers/{made['id']}/greetings"
    run_greetings(admin, "2026-10-08")
    assert [d for d in admin.ok("GET", log_url)["items"] if d["occasion"] == "birthday"] == []
    run_greetings(admin, "2026-10-09")
    birthday = [d for d in admin.ok("GET", log_url)["items"] if d["occasion"] == "birthday"]
    assert [(d["year"], d["channel"], d["outcome"]) for d in birthday] == [(2026, "sms", "sent")]
    texts = [m["text"] for m in sink(platform) if m["channel"] == "sms" and m["to"] == made["phones"][0]]
    assert len(texts) == 1 and "贾探春" in texts[0]

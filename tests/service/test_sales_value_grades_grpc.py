"""Customer value grades over real gRPC, real FerretDB and real events: a
year of imported orders reaches the roll-ups, a grading run grades the
customers by their margin (many low-margin orders lose to a few high-margin
ones), the grade is stored with its history and announced by
customer.value_grade_changed, which the customer service shows on the
customer record; a re-run changes nothing; two replicas' yearly jobs grade
the year once; only admins run grading; a rep reads their own customers'
grades only."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone

import grpc
import pytest

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm.sales.v1 import order_service_pb2 as opb, order_service_pb2_grpc
from crm.sales.v1 import product_service_pb2 as ppb, product_service_pb2_grpc
from crm.sales.v1 import value_grade_service_pb2 as pb, value_grade_service_pb2_grpc
from crm_kit.auth import Principal
from crm_sales.profitability.grades.service import GradeService
from crm_sales.profitability.months import Month, business_zone
from tests.service.support import as_in, code_of, create, ts

TEAM = f"team-vg-{uuid.uuid4().hex[:6]}"
as_ = as_in(TEAM)
REP_ID = f"rep-vg-{uuid.uuid4().hex[:6]}"
REP, OTHER_REP, MANAGER = as_(REP_ID), as_("rep-vg-other"), as_("boss-vg", "manager")
ADMIN = as_("root-vg", "admin", team="")
# A currency no other test sells in: the run below grades only this module's customers.
CURRENCY = "CHF"
ZONE = business_zone()
LAST_YEAR = datetime.now(ZONE).year - 1


@pytest.fixture(scope="module")
def stubs(services):
    sales = grpc.insecure_channel(services.targets["sales"])
    customer = grpc.insecure_channel(services.targets["customer"])
    yield (value_grade_service_pb2_grpc.ValueGradeServiceStub(sales), order_service_pb2_grpc.OrderServiceStub(sales),
           product_service_pb2_grpc.ProductServiceStub(sales), customer_service_pb2_grpc.CustomerServiceStub(customer))
    sales.close()
    customer.close()


@pytest.fixture(scope="module")
def app(services):
    return services.hosts["sales"].app


def chf(minor: int) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=CURRENCY)


def product(products, price: int, cost: int):
    return products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
        sku=f"VG-{uuid.uuid4().hex[:10].upper()}", name="咖啡机", unit="台", list_price=chf(price),
        unit_cost=chf(cost), active=True)), metadata=MANAGER)


def import_orders(orders, customer_id: str, product_id: str, count: int, quantity: int = 1) -> None:
    at = datetime(LAST_YEAR, 6, 15, 4, tzinfo=timezone.utc)
    items = [opb.ImportOrderItem(request_id=uuid.uuid4().hex, customer_id=customer_id, ordered_at=ts(at),
                                 lines=[opb.OrderLineInput(product=product_id, quantity=quantity)])
             for _ in range(count)]
    results = orders.ImportOrders(opb.ImportOrdersRequest(orders=items), metadata=ADMIN).results
    assert all(r.order_id for r in results), [r.error_message for r in results if not r.order_id]


def wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.fixture(scope="module")
def story(stubs, app):
    """X: twenty low-margin orders (margin 20 x 500); Y: three high-margin ones (3 x 8,000);
    Z: one order sold at a loss; W: a few small ones. All in CHF, last year."""
    _grades, orders, products, customers = stubs
    low, high, loss = product(products, 10_000, 9_500), product(products, 10_000, 2_000), product(products, 1_000, 1_500)
    ids = {name: create(customers, f"+86136{uuid.uuid4().int % 10**8:08d}", who=REP, display_name=f"客户{name}").id
           for name in "XYZW"}
    import_orders(orders, ids["X"], low.id, 20)
    import_orders(orders, ids["Y"], high.id, 3)
    import_orders(orders, ids["Z"], loss.id, 1)
    import_orders(orders, ids["W"], low.id, 2)
    expected = {ids["X"]: 10_000, ids["Y"]: 24_000, ids["Z"]: -500, ids["W"]: 1_000}
    rollups = app.features["rollups"]

    def arrived():
        got = rollups.customers(Month(LAST_YEAR, 1), Month(LAST_YEAR, 12), CURRENCY)
        return all(cid in got and got[cid].figures.margin == m for cid, m in expected.items())

    assert wait_for(arrived), "the imported orders never reached the roll-ups"
    return ids


@pytest.fixture(scope="module")
def grading(app):
    """The session's grading service, counting in CHF (the module's own currency)."""
    live = app.features["value_grades"]
    return GradeService(live.store, app.features, live.bands, CURRENCY, live.zone, live.customers)


def test_a_run_grades_by_margin_and_the_customer_record_shows_the_grade(stubs, story, grading):
    grades_stub, _orders, _products, customers = stubs
    result = grading.run(Principal("root-vg", "admin"), LAST_YEAR, wait=True)
    # Total positive margin 35,000: Y (24,000) alone passes 50 %: A; X (10,000) takes 68.6 -> 97.1 %: B;
    # W (1,000) is the rest: C; Z lost money: D.
    expected = {"Y": "A", "X": "B", "W": "C", "Z": "D"}
    assert result.graded_year == LAST_YEAR and result.finished_at is not None
    for name, grade in expected.items():
        got = grades_stub.GetCustomerValueGrade(pb.GetCustomerValueGradeRequest(customer_id=story[name]),
                                                metadata=REP)
        assert (got.grade, got.graded_year) == (grade, LAST_YEAR)
        assert [h.grade for h in got.history][-1] == grade
    assert result.counts["A"] >= 1 and sum(result.counts.values()) == result.graded

    def shown():
        return all(customers.GetCustomer(cpb.GetCustomerRequest(id=story[n]), metadata=REP).value_grade == g
                   for n, g in expected.items())

    assert wait_for(shown), "the customer service never showed the grades"
    y = customers.GetCustomer(cpb.GetCustomerRequest(id=story["Y"]), metadata=REP)
    assert y.value_grade_year == LAST_YEAR


def test_running_the_year_again_changes_nothing_and_keeps_one_history_entry(stubs, story, grading):
    grades_stub = stubs[0]
    before = grades_stub.GetCustomerValueGrade(pb.GetCustomerValueGradeRequest(customer_id=story["X"]), metadata=REP)
    again = grading.run(Principal("root-vg", "admin"), LAST_YEAR, wait=True)
    assert again.changed == 0
    after = grades_stub.GetCustomerValueGrade(pb.GetCustomerValueGradeRequest(customer_id=story["X"]), metadata=REP)
    assert list(after.history) == list(before.history)


def test_the_customer_record_keeps_a_grade_a_redelivered_or_older_run_cannot_undo(customer_db, story):
    # The customer service's use case the value-grade consumer calls, over the same database: a repeat of the
    # applied run and an older run change nothing (redeliveries and late arrivals are harmless).
    from crm_customer.customers.service import CustomerService
    from crm_customer.customers.store import CustomerStore

    service = CustomerService(CustomerStore(customer_db))
    current = service.live(story["Y"])
    assert current.value_grade == "A"
    assert not service.set_value_grade(story["Y"], "D", current.value_grade_year, current.value_grade_run)
    assert not service.set_value_grade(story["Y"], "D", current.value_grade_year - 1, "grading_z")
    after = service.live(story["Y"])
    assert (after.value_grade, after.etag) == ("A", current.etag)
    assert not service.set_value_grade("cus_" + "0" * 24, "A", LAST_YEAR, "grading_x")  # unknown customer


def test_two_replicas_yearly_jobs_grade_the_year_once(app, story, grading):
    twin = GradeService(grading.store, app.features, grading.bands, CURRENCY, grading.zone, grading.customers)
    results, barrier = [], threading.Barrier(2)

    def tick(service):
        barrier.wait()
        results.append(service.run_yearly())

    threads = [threading.Thread(target=tick, args=(s,)) for s in (grading, twin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    ran = [r for r in results if r is not None]
    assert len(results) == 2 and len(ran) == 1
    assert ran[0].graded_year == LAST_YEAR and ran[0].changed == 0  # graded already by the admin run
    assert grading.run_yearly() is None  # and the next tick finds the year graded



def test_the_dashboard_gauges_sum_each_months_margin_by_current_grade(app, story, grading):
    from prometheus_client import REGISTRY

    from crm_sales.profitability.grades.service import ContributionByGrade

    # The window is the current month and the 12 before it: seen from the end of last year, June is in it.
    december = GradeService(grading.store, app.features, grading.bands, CURRENCY, grading.zone, grading.customers,
                            clock=lambda: datetime(LAST_YEAR, 12, 15, tzinfo=timezone.utc))
    ContributionByGrade(december).refresh()
    june = f"{LAST_YEAR}-06"

    def gauge(name: str, grade: str, month: str = june):
        return REGISTRY.get_sample_value(name, {"grade": grade, "month": month, "currency": CURRENCY})

    margins = {g: gauge("crm_sales_value_grade_margin_minor_units", g) for g in "ABCD"}
    assert margins == {"A": 24_000, "B": 10_000, "C": 1_000, "D": -500}
    assert gauge("crm_sales_value_grade_net_contribution_minor_units", "A") == 24_000  # no expenses recorded
    assert gauge("crm_sales_value_grade_margin_minor_units", "A", f"{LAST_YEAR}-07") is None  # nothing sold in July
    assert REGISTRY.get_sample_value("crm_sales_value_grade_customers", {"grade": "A"}) >= 1


# (The runs below grade in the session's currency, CNY, where this module's customers sold nothing: they end D.)
def test_only_admins_run_grading_over_grpc_and_the_run_can_be_followed(stubs, story):
    grades_stub = stubs[0]
    for who in (REP, MANAGER, as_("fin-vg", "finance", team="finance")):
        assert code_of(lambda: grades_stub.RunValueGrading(pb.RunValueGradingRequest(year=LAST_YEAR),
                                                           metadata=who)) == grpc.StatusCode.PERMISSION_DENIED
    for year in (LAST_YEAR + 1, 1999, -5):
        assert code_of(lambda: grades_stub.RunValueGrading(pb.RunValueGradingRequest(year=year),
                                                           metadata=ADMIN)) == grpc.StatusCode.INVALID_ARGUMENT
    started = grades_stub.RunValueGrading(pb.RunValueGradingRequest(), metadata=ADMIN)
    assert started.graded_year == LAST_YEAR and started.run_id.startswith(f"grading_{LAST_YEAR}_")

    def finished():
        run = grades_stub.GetValueGradingRun(pb.GetValueGradingRunRequest(run_id=started.run_id), metadata=ADMIN)
        return run if run.HasField("finished_at") else None

    run = wait_for(finished, 60)
    assert run is not None and sum(c.customers for c in run.counts) == run.graded
    assert code_of(lambda: grades_stub.GetValueGradingRun(pb.GetValueGradingRunRequest(run_id=started.run_id),
                                                          metadata=REP)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: grades_stub.GetValueGradingRun(pb.GetValueGradingRunRequest(run_id="grading_nope"),
                                                          metadata=ADMIN)) == grpc.StatusCode.NOT_FOUND


def test_a_rep_reads_only_their_own_customers_grades(stubs, story):
    grades_stub = stubs[0]
    request = pb.GetCustomerValueGradeRequest(customer_id=story["Y"])
    assert code_of(lambda: grades_stub.GetCustomerValueGrade(request, metadata=OTHER_REP)) == \
        grpc.StatusCode.NOT_FOUND
    assert grades_stub.GetCustomerValueGrade(request, metadata=MANAGER).grade
    for bad in ("", "cus_" + "x" * 300, "$where"):
        assert code_of(lambda: grades_stub.GetCustomerValueGrade(
            pb.GetCustomerValueGradeRequest(customer_id=bad), metadata=ADMIN)) == grpc.StatusCode.NOT_FOUND



def test_grading_an_earlier_year_never_replaces_a_later_years_grade(stubs, story, app):
    # Runs after the CNY runs above: this module's customers hold D for last year (they sold nothing in CNY).
    grades_stub = stubs[0]
    before = grades_stub.GetCustomerValueGrade(pb.GetCustomerValueGradeRequest(customer_id=story["Y"]), metadata=REP)
    assert before.graded_year == LAST_YEAR
    live = app.features["value_grades"]
    earlier = GradeService(live.store, app.features, live.bands, CURRENCY, live.zone, live.customers)
    earlier.run(Principal("root-vg", "admin"), LAST_YEAR - 1, wait=True)
    after = grades_stub.GetCustomerValueGrade(pb.GetCustomerValueGradeRequest(customer_id=story["Y"]), metadata=REP)
    assert (after.grade, after.graded_year, list(after.history)) == (before.grade, LAST_YEAR, list(before.history))


def test_the_yearly_job_grades_the_year_that_ended_in_the_business_time_zone():
    from crm_sales.profitability.grades.model import parse_bands

    # 2026-12-31 16:30 UTC is already 2027-01-01 in Shanghai: the year that ended there is 2026.
    zone = business_zone("Asia/Shanghai")
    new_year = GradeService(None, {}, parse_bands("A:50,B:50"), CURRENCY, zone,
                            clock=lambda: datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc))
    still_2026 = GradeService(None, {}, parse_bands("A:50,B:50"), CURRENCY, zone,
                              clock=lambda: datetime(2026, 12, 31, 15, 30, tzinfo=timezone.utc))
    assert (new_year.last_year(), still_2026.last_year()) == (2026, 2025)


def test_a_yearly_run_whose_process_died_is_taken_over_and_one_in_progress_is_left_alone(services, app, story):
    from datetime import timedelta

    from crm_kit.mongo import connect
    from crm_sales.profitability.grades.store import GradeStore

    client = connect(services.mongodb_uri, "tests")
    names = [f"crm_sales_grades_{uuid.uuid4().hex[:8]}" for _ in range(2)]  # books of their own
    try:
        store = GradeStore(client[names[0]])
        live = app.features["value_grades"]
        now = datetime.now(timezone.utc)
        year = live.last_year()

        def replica(at):
            return GradeService(store, app.features, live.bands, CURRENCY, live.zone, clock=lambda: at)

        # A replica took the year an hour ago and died before writing its run: the next tick takes over.
        store.decide_yearly(year, 0, f"grading_{year}_dead", now - timedelta(hours=1))
        taken = replica(now).run_yearly()
        assert taken is not None and taken.finished_at is not None
        assert store.yearly_decision(year, 1)["run_id"] == taken.run_id
        assert replica(now + timedelta(hours=2)).run_yearly() is None  # finished: nothing more to do
        # One that is making progress (another replica's, marked a minute ago) is left alone.
        busy = GradeStore(client[names[1]])
        busy.decide_yearly(year, 0, f"grading_{year}_busy", now - timedelta(minutes=1))
        busy.start_run({"_id": f"grading_{year}_busy", "graded_year": year, "started_at": now - timedelta(minutes=1),
                        "progress_at": now - timedelta(minutes=1), "finished_at": None})
        assert GradeService(busy, app.features, live.bands, CURRENCY, live.zone, clock=lambda: now).run_yearly() is None
        assert busy.yearly_decision(year, 1) is None
    finally:
        for name in names:
            client.drop_database(name)
        client.close()


def test_the_pool_view_does_not_show_the_grade(stubs, story):
    customers = stubs[3]
    graded = customers.GetCustomer(cpb.GetCustomerRequest(id=story["W"]), metadata=REP)
    assert graded.value_grade  # graded above
    customers.ReleaseCustomer(cpb.ReleaseCustomerRequest(id=story["W"], reason="不再跟进"), metadata=REP)
    seen = customers.GetCustomer(cpb.GetCustomerRequest(id=story["W"]), metadata=OTHER_REP)
    assert seen.view == cpb.CUSTOMER_VIEW_POOL and (seen.value_grade, seen.value_grade_year) == ("", 0)

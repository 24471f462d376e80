"""Profit contribution through the gateway over real gRPC: the report ranks
by margin (a customer with a few high-margin orders above one with many
low-margin orders), rates are exact integers, each caller sees what their
role allows, the CSV export neutralises formula cells, and a series shows
the year before and the change. Figures come from order and payment events
applied by the roll-ups' own consumer code, in a currency no other test
uses, so the totals are this test's alone."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import datetime, timezone

import pytest

from crm.common.v1 import common_pb2
from crm.events.v1 import events_pb2
from crm_kit.events import envelope as ev
from crm_sales.profitability.rollups import events as rollup_events
from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check

TEAM = f"team-http-prof-{uuid.uuid4().hex[:6]}"
REP_X, REP_Y = (f"rep-http-prof-{n}-{uuid.uuid4().hex[:6]}" for n in "xy")
MANAGER = auth("boss-http-prof", "manager", team=TEAM)
CURRENCY = "EUR"
URL = "/api/v1/profitability/contribution"


def confirmed(customer_id: str, owner: str, at: datetime, revenue: int, cost: int, region: str = "浙江"):
    payload = events_pb2.OrderConfirmed(
        order_id=f"ord_{uuid.uuid4().hex[:24]}", customer_id=customer_id, owner_id=owner, team_id=TEAM,
        total=common_pb2.Money(minor_units=revenue, currency_code=CURRENCY), region=region,
        lines=[events_pb2.LineFigures(line_id="ln1", product_id="prd_httpprof", margin_grade="A", quantity=1,
                                      revenue_minor_units=revenue, cost_minor_units=cost)])
    payload.confirmed_at.FromDatetime(at)
    return ev.new_event(ev.ORDER_CONFIRMED, payload.order_id, payload, "sales")


@pytest.fixture(scope="module")
def story(app, services):
    client = app.test_client()
    phones = (f"+86137{random.randrange(10**8):08d}" for _ in range(2))
    x = client.post("/api/v1/customers", json={"display_name": "薄利多销", "phones": [next(phones)]},
                    headers=auth(REP_X, team=TEAM)).get_json()["id"]
    y = client.post("/api/v1/customers", json={"display_name": "厚利少销", "phones": [next(phones)]},
                    headers=auth(REP_Y, team=TEAM)).get_json()["id"]
    rollups = services.hosts["sales"].app.features["rollups"]
    events = [confirmed(x, REP_X, datetime(2024, 3, d, 3, tzinfo=timezone.utc), 10_000, 9_500) for d in range(1, 21)]
    events += [confirmed(y, REP_Y, datetime(2024, 3, 5, 3, tzinfo=timezone.utc), 50_000, 20_000, region="=cmd|x"),
               confirmed(y, REP_Y, datetime(2023, 3, 5, 3, tzinfo=timezone.utc), 20_000, 10_000, region="=cmd|x")]
    rollup_events.apply_batch(rollups.store, events, rollups.tz)
    return x, y


def report(client, who, **query):
    return client.get(URL, query_string={"start_month": "2024-01", "end_month": "2024-12",
                                         "currency_code": CURRENCY, **query}, headers=who)


def test_the_few_high_margin_orders_outrank_the_many_low_margin_ones(client, story, spec):
    x, y = story
    got = report(client, MANAGER)
    _check(spec, got, URL, "get")
    body = got.get_json()
    rows = {row["id"]: row for row in body["rows"]}
    assert [row["id"] for row in body["rows"]] == [y, x]
    assert rows[y]["figures"]["margin_minor_units"] == 30_000 and rows[y]["rank"] == 1
    assert rows[x]["figures"] == {"revenue_minor_units": 200_000, "cost_minor_units": 190_000,
                                  "margin_minor_units": 10_000, "expenses_minor_units": 0,
                                  "net_minor_units": 10_000, "order_count": 20, "cash_minor_units": 0}
    # 30,000 / 40,000 and 10,000 / 40,000: integers, and as exact decimals.
    assert (rows[y]["contribution_rate_ppm"], rows[y]["contribution_rate"]) == (750_000, "0.750000")
    assert (rows[x]["contribution_rate_ppm"], rows[x]["contribution_rate"]) == (250_000, "0.250000")
    assert body["total"]["margin_minor_units"] == 40_000 and body["member_count"] == 2
    assert rows[y]["owner_id"] == REP_Y and rows[y]["team_id"] == TEAM


def test_reps_see_their_own_customers_without_cost_and_no_product_report(client, story):
    x, _y = story
    mine = report(client, auth(REP_X, team=TEAM)).get_json()
    assert [row["id"] for row in mine["rows"]] == [x]
    assert mine["rows"][0]["figures"]["cost_minor_units"] == 0
    assert mine["rows"][0]["figures"]["margin_minor_units"] == 10_000
    assert mine["rows"][0]["contribution_rate_ppm"] == 1_000_000  # of what they may see
    assert report(client, auth(REP_X, team=TEAM), dimension="product").status_code == 403
    assert report(client, auth("agent-prof", "agent", team=TEAM)).status_code == 403
    other_team = report(client, auth("boss-other", "manager", team=f"{TEAM}-other")).get_json()
    assert other_team["rows"] == []
    reps = report(client, MANAGER, dimension="rep").get_json()
    assert {row["id"] for row in reps["rows"]} == {REP_X, REP_Y}


def test_filters_and_paging(client, story):
    x, y = story
    first = report(client, MANAGER, page_size=1).get_json()
    assert [row["id"] for row in first["rows"]] == [y] and first["next_page_token"]
    second = report(client, MANAGER, page_size=1, page_token=first["next_page_token"]).get_json()
    assert [row["id"] for row in second["rows"]] == [x] and second["rows"][0]["rank"] == 2
    assert not second["next_page_token"]
    by_rep = report(client, MANAGER, rep_id=REP_X).get_json()
    assert [row["id"] for row in by_rep["rows"]] == [x]
    assert by_rep["total"]["margin_minor_units"] == 40_000  # filters narrow the rows, not the period's total
    assert [r["id"] for r in report(client, MANAGER, region="=cmd|x").get_json()["rows"]] == [y]
    # A token of another query is refused; so is a month that is not one.
    assert report(client, MANAGER, rep_id=REP_Y, page_token=first["next_page_token"]).status_code == 400
    assert report(client, MANAGER, start_month="2024-13").status_code == 400
    assert client.get(URL, query_string={"start_month": "2024-05", "end_month": "2024-01"},
                      headers=MANAGER).status_code == 400


def test_the_csv_export_neutralises_formula_cells(client, story):
    x, y = story
    got = client.get(URL + ".csv", query_string={"start_month": "2024-01", "end_month": "2024-12",
                                                 "currency_code": CURRENCY}, headers=MANAGER)
    assert got.status_code == 200 and got.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["id"] for r in rows] == [y, x]
    assert rows[0]["region"] == "'=cmd|x" and rows[0]["contribution_rate"] == "0.750000"
    assert rows[1]["margin_minor_units"] == "10000"


def test_a_series_beside_the_year_before(client, story, spec):
    _x, y = story
    url = f"/api/v1/profitability/series/customer/{y}"
    got = client.get(url, query_string={"start_month": "2024-02", "end_month": "2024-03", "currency_code": CURRENCY},
                     headers=auth(REP_Y, team=TEAM))
    _check(spec, got, "/api/v1/profitability/series/{dimension}/{member_id}", "get")
    months = got.get_json()["months"]
    assert [m["month"] for m in months] == ["2024-02", "2024-03"]
    assert months[0]["figures"]["margin_minor_units"] == 0 and months[0]["margin_change_ppm"] is None
    march = months[1]
    assert (march["figures"]["margin_minor_units"], march["year_earlier"]["margin_minor_units"],
            march["change"]["margin_minor_units"]) == (30_000, 10_000, 20_000)
    assert (march["margin_change_ppm"], march["margin_change_rate"]) == (2_000_000, "2.000000")
    # Another rep's customer is not found; the rebuild is for admins.
    assert client.get(url, query_string={"start_month": "2024-02", "end_month": "2024-03"},
                      headers=auth(REP_X, team=TEAM)).status_code == 404
    assert client.post("/api/v1/profitability/rollups/rebuild", headers=MANAGER).status_code == 403
    # A rep's series: their own, their manager's; not another team's manager.
    rep_url = f"/api/v1/profitability/series/rep/{REP_Y}"
    months = {"start_month": "2024-03", "end_month": "2024-03", "currency_code": CURRENCY}
    mine = client.get(rep_url, query_string=months, headers=auth(REP_Y, team=TEAM))
    assert mine.status_code == 200 and mine.get_json()["months"][0]["figures"]["cost_minor_units"] == 0
    assert client.get(rep_url, query_string=months, headers=MANAGER).get_json()["total"]["cost_minor_units"] == 20_000
    assert client.get(rep_url, query_string=months, headers=auth(REP_X, team=TEAM)).status_code == 404
    assert client.get(rep_url, query_string=months,
                      headers=auth("boss-other", "manager", team=f"{TEAM}-other")).status_code == 404


def test_new_customers_are_credited_to_the_rep_of_their_first_orders(services, story):
    from crm_sales.profitability.months import Month

    rollups = services.hosts["sales"].app.features["rollups"]
    counts = rollups.new_customers_by_rep(Month(2024, 1), Month(2024, 12), CURRENCY)
    # X first bought in March 2024; Y bought in March 2023 already.
    assert counts.get(REP_X) == 1 and REP_Y not in counts
    assert rollups.new_customers_by_rep(Month(2023, 1), Month(2023, 12), CURRENCY).get(REP_Y) == 1

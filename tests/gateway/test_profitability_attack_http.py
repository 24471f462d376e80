"""The profitability routes attacked through the gateway over the real
services: a day no report can have is a 400 naming the field (a 500
before), and routes that read a whole period's roll-ups or the whole store
draw on the expensive budget."""

from __future__ import annotations

import uuid

import pytest

from crm_gateway.ratelimit import is_expensive
from tests.gateway.conftest import auth
from tests.gateway.test_openapi import _check

TAG = uuid.uuid4().hex[:6]
TEAM = f"team-atk-{TAG}"
MANAGER = auth(f"boss-atk-{TAG}", "manager", team=TEAM)


def test_a_team_day_out_of_the_calendar_is_a_400_naming_the_day(client, spec):
    for day in ("0001-01-01", "9999-12-31"):
        got = client.get(f"/api/v1/daily-reports?day={day}", headers=MANAGER)
        _check(spec, got, "/api/v1/daily-reports", "get")
        assert got.status_code == 400 and "day" in got.get_json()["detail"]


# --- expensive routes ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited(services, stores):
    from tests.gateway.test_rate_limits_http import limited_app
    return limited_app(services, stores).test_client()


def test_rankings_and_the_whole_store_runs_draw_on_the_expensive_budget(limited):
    """A ranking by new customers reads every customer shard of up to 60 months: not at the rate of a read."""
    rep = auth(f"rep-atk-rl-{uuid.uuid4().hex[:8]}", "rep", team=f"team-atk-{TAG}")
    url = "/api/v1/rankings/reps?metric=new_customers&start_month=2024-01&end_month=2026-12&currency_code=CNY"
    ranked = [limited.get(url, headers=rep) for _ in range(3)]
    assert [r.status_code for r in ranked] == [200, 200, 429]
    assert ranked[2].headers["RateLimit-Policy"].startswith('"expensive"')
    manager = auth(f"boss-atk-rl-{uuid.uuid4().hex[:8]}", "manager", team=f"team-atk-{TAG}")
    runs = [limited.post("/api/v1/value-grade-runs", headers=manager, json={}) for _ in range(3)]
    assert [r.status_code for r in runs] == [403, 403, 429]
    assert is_expensive("POST", "/api/v1/profitability/rollups/rebuild", {})


def test_the_rebuild_documents_the_status_a_gateway_deadline_gives(spec):
    """A downstream deadline is a 503 (problems.from_rpc_error); the rebuild's description promised a 504."""
    operation = spec["paths"]["/api/v1/profitability/rollups/rebuild"]["post"]
    assert "504" not in operation["description"] and "504" not in operation["responses"]
    assert "503" in operation["description"] and "503" in operation["responses"]


def test_the_csv_keeps_negative_figures_numbers_and_neutralises_text_only(client, phone):
    """A customer whose approved expense exceeds its margin has a negative net: a spreadsheet must sum it as a
    number, not hold a quoted "'-3000" text that a SUM skips."""
    import csv
    import io
    import time
    from datetime import datetime

    from crm_sales.profitability.months import business_zone

    rep = auth(f"rep-atk-csv-{TAG}", "rep", team=TEAM)
    made = client.post("/api/v1/customers", json={"display_name": "负净额客户", "phones": [phone()]}, headers=rep)
    assert made.status_code == 201, made.get_json()
    customer_id = made.get_json()["id"]
    today = datetime.now(business_zone()).date()
    spent = client.post("/api/v1/expenses", headers=rep, json={
        "category": "gift", "amount": {"minor_units": 3_000, "currency_code": "CNY"},
        "spent_on": today.isoformat(), "customer_id": customer_id})
    assert spent.status_code == 201, spent.get_json()
    assert client.post(f"/api/v1/expenses/{spent.get_json()['id']}/approve", headers=MANAGER,
                       json={}).status_code == 200
    month = today.strftime("%Y-%m")
    url = f"/api/v1/profitability/contribution.csv?start_month={month}&end_month={month}"
    deadline = time.monotonic() + 30
    while True:  # the roll-ups follow expense.approved
        got = client.get(url, headers=auth("fin-atk-csv", "finance", team="finance"))
        assert got.status_code == 200
        rows = {r["id"]: r for r in csv.DictReader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff")))}
        if customer_id in rows or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    row = rows[customer_id]
    assert (row["expenses_minor_units"], row["net_minor_units"], row["margin_minor_units"]) == ("3000", "-3000", "0")

"""Rate limits (ratelimit.py) through the Flask app over real services and
the test Redis: budgets per role from the environment, the expensive
budget, per client address without a valid token, the IETF headers on every
answer, 429 problem+json with Retry-After, and failing open without Redis.
Two gunicorn workers sharing one budget: test_gunicorn_http.py."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from crm_gateway.app import create_app
from crm_gateway.ratelimit import EXPENSIVE, RateLimitSettings
from crm_kit.localstores import free_port
from crm_kit.settings import SettingsError
from tests.gateway.conftest import auth, gateway_settings

PROBLEM = "application/problem+json"
POLICY = re.compile(r'^"(?P<name>[a-z]+)";q=(?P<q>\d+);w=(?P<w>\d+)$')
STATE = re.compile(r'^"(?P<name>[a-z]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


def limited_app(services, stores, redis_url=None, **limits):
    base = gateway_settings(services.targets, stores.redis_url)
    per_role = {role: limits.pop("per_role", 5) for role in ("admin", "manager", "rep", "agent", "finance",
                                                              "integration")}
    settings = RateLimitSettings(window_seconds=60, per_role=per_role, **{"anonymous": 3, "expensive": 2, **limits})
    return create_app(dataclasses.replace(base, rate_limits=settings, redis_url=redis_url or base.redis_url))


@pytest.fixture(scope="module")
def limited(services, stores):
    return limited_app(services, stores).test_client()


def who() -> str:
    return f"rl-{uuid.uuid4().hex[:10]}"


def state(resp) -> dict:
    policy = POLICY.match(resp.headers["RateLimit-Policy"])
    now = STATE.match(resp.headers["RateLimit"])
    assert policy and now and policy["name"] == now["name"], resp.headers
    return {"policy": policy["name"], "q": int(policy["q"]), "w": int(policy["w"]), "r": int(now["r"]),
            "t": int(now["t"])}


def test_a_principal_gets_its_role_budget_then_429_with_retry_after(limited):
    headers = auth(who(), "rep")
    seen = []
    for _ in range(5):
        resp = limited.get("/api/v1/customers?page_size=1", headers=headers)
        assert resp.status_code == 200
        seen.append(state(resp))
    assert [s["r"] for s in seen] == [4, 3, 2, 1, 0]
    assert all(s["policy"] == "rep" and s["q"] == 5 and s["w"] == 60 and 1 <= s["t"] <= 60 for s in seen)
    resp = limited.get("/api/v1/customers?page_size=1", headers=headers)
    assert resp.status_code == 429 and resp.mimetype == PROBLEM
    body = resp.get_json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests" and body["policy"] == "rep"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert state(resp)["r"] == 0
    # another principal still has its own budget
    assert limited.get("/api/v1/customers?page_size=1", headers=auth(who(), "rep")).status_code == 200


def test_headers_on_every_answer_errors_included(limited):
    headers = auth(who(), "manager")
    answers = [
        limited.get("/api/v1/customers/cus_000000000000000000000000", headers=headers),  # 404 problem
        limited.post("/api/v1/customers", data="{", content_type="application/json", headers=headers),  # 400
        limited.get("/no/such/route", headers=headers),  # unmatched
        limited.get("/api/v1/customers", query_string={"bogus": "1"}, headers=headers),  # 400 query
    ]
    assert [r.status_code for r in answers] == [404, 400, 404, 400]
    assert [state(r)["r"] for r in answers] == [4, 3, 2, 1]
    assert {state(r)["policy"] for r in answers} == {"manager"}


def test_probes_and_scrapes_are_not_limited(limited):
    for _ in range(10):
        resp = limited.get("/healthz")
        assert resp.status_code == 200 and "RateLimit" not in resp.headers


def test_without_a_valid_token_the_client_address_is_limited(limited):
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    env = {"REMOTE_ADDR": address}
    bad_token = {"Authorization": "Bearer not-a-token"}
    statuses = [limited.get("/api/v1/customers", headers=bad_token, environ_base=env).status_code,
                limited.get("/api/v1/customers", environ_base=env).status_code,
                limited.get("/openapi.json", environ_base=env).status_code]
    assert statuses == [401, 401, 200]
    resp = limited.get("/api/v1/customers", environ_base=env)
    assert resp.status_code == 429 and state(resp)["policy"] == "anonymous" and resp.headers["Retry-After"]
    # another address, and a valid token from the same address, are not affected
    assert limited.get("/api/v1/customers", environ_base={"REMOTE_ADDR": "10.255.0.1"}).status_code in (401, 429)
    assert limited.get("/api/v1/customers", headers=auth(who()), environ_base=env).status_code == 200


def test_expensive_routes_draw_on_the_smaller_budget(limited):
    subject = who()
    headers = auth(subject, "admin")
    by_name = [limited.get("/api/v1/customers?order_by=name&page_size=1", headers=headers) for _ in range(3)]
    assert [r.status_code for r in by_name] == [200, 200, 429]
    assert {state(r)["policy"] for r in by_name} == {"expensive"} and state(by_name[0])["q"] == 2
    export = limited.get("/api/v1/customers/cus_000000000000000000000000/export", headers=headers)
    assert export.status_code == 429 and state(export)["policy"] == "expensive"
    # the ordinary budget is untouched
    plain = limited.get("/api/v1/customers?page_size=1", headers=headers)
    assert plain.status_code == 200 and state(plain)["policy"] == "admin" and state(plain)["r"] == 4


def test_the_expensive_set_is_declared_in_one_place_with_the_360_card():
    assert ("GET", "/api/v1/customers/360") in EXPENSIVE
    assert ("GET", "/api/v1/customers/<customer_id>/export") in EXPENSIVE
    assert EXPENSIVE[("GET", "/api/v1/customers")]({"order_by": "name"})
    assert not EXPENSIVE[("GET", "/api/v1/customers")]({"order_by": "created"})
    # A whole book's receivables is a report; one customer's is a lookup.
    assert EXPENSIVE[("GET", "/api/v1/receivables/ageing")]({"team_id": "team-east"})
    assert not EXPENSIVE[("GET", "/api/v1/receivables/ageing")]({"customer_id": "cus_x"})


def test_budgets_per_role_come_from_the_environment(monkeypatch, services, stores):
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_REP", "2")
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_MANAGER", "4")
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_WINDOW_SECONDS", "30")
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_EXPENSIVE", "7")
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_ANONYMOUS", "9")
    settings = RateLimitSettings.from_env()
    assert settings.per_role["rep"] == 2 and settings.per_role["manager"] == 4
    assert settings.per_role["admin"] == 600 and settings.per_role["integration"] == 1200
    assert (settings.window_seconds, settings.expensive, settings.anonymous, settings.enabled) == (30, 7, 9, True)
    base = gateway_settings(services.targets, stores.redis_url)
    client = create_app(dataclasses.replace(base, rate_limits=settings)).test_client()
    rep, manager = auth(who(), "rep"), auth(who(), "manager")
    assert [client.get("/api/v1/customers?page_size=1", headers=rep).status_code for _ in range(3)] == [200, 200, 429]
    answers = [client.get("/api/v1/customers?page_size=1", headers=manager) for _ in range(4)]
    assert [r.status_code for r in answers] == [200] * 4 and state(answers[0]) | {"t": 0} == {
        "policy": "manager", "q": 4, "w": 30, "r": 3, "t": 0}


@pytest.mark.parametrize("name,value", [("GATEWAY_RATE_LIMIT_REP", "0"), ("GATEWAY_RATE_LIMIT_REP", "many"),
                                        ("GATEWAY_RATE_LIMIT_WINDOW_SECONDS", "-1"),
                                        ("GATEWAY_RATE_LIMIT_ENABLED", "maybe")])
def test_a_bad_budget_stops_start_up_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        RateLimitSettings.from_env()


def test_limits_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_ENABLED", "false")
    assert RateLimitSettings.from_env().enabled is False


def test_without_redis_requests_are_served_and_counted(services, stores):
    from crm_gateway.web_metrics import render

    def unavailable() -> float:
        text = render()[0].decode()
        line = next(l for l in text.splitlines() if l.startswith("gateway_rate_limit_unavailable_total "))
        return float(line.split()[1])

    before = unavailable()
    client = limited_app(services, stores, redis_url=f"redis://127.0.0.1:{free_port()}/1").test_client()
    headers = auth(who(), "rep")
    answers = [client.get("/api/v1/customers?page_size=1", headers=headers) for _ in range(8)]
    assert [r.status_code for r in answers] == [200] * 8  # more than the budget of 5: fail open
    assert "RateLimit" not in answers[0].headers
    assert unavailable() - before == 8


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_key(services, stores, hops):
    base = gateway_settings(services.targets, stores.redis_url)
    limits = RateLimitSettings(per_role={r: 5 for r in ("admin", "manager", "rep", "agent", "finance",
                                                        "integration")}, anonymous=1)
    client = create_app(dataclasses.replace(base, rate_limits=limits, proxy_hops=hops)).test_client()
    proxy = {"REMOTE_ADDR": f"10.200.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    first, second = (f"198.51.100.{uuid.uuid4().int % 250}", f"203.0.113.{uuid.uuid4().int % 250}")
    a = client.get("/openapi.json", headers={"X-Forwarded-For": first}, environ_base=proxy)
    b = client.get("/openapi.json", headers={"X-Forwarded-For": second}, environ_base=proxy)
    assert a.status_code == 200
    # trusted: two clients, two budgets; not trusted: the header is ignored (no evasion by spoofing it)
    assert b.status_code == (200 if hops else 429)

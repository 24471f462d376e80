"""Who may call what: every route declares a policy, and each role meets it.

The table below is the contract, written independently of the route
declarations: a route added without a policy, or a policy that drifts from
the table, fails here. "Allowed" means the gateway lets the request through
(the services still decide about each customer: a 404 is fine); "refused"
is the gateway's own 403 (401 without a token)."""

from __future__ import annotations

import re

import pytest

from tests.gateway.conftest import auth

ANY = ("admin", "manager", "rep", "agent", "finance", "integration")
CHANGERS = ("admin", "manager", "rep", "integration")
MANAGERS = ("admin", "manager", "integration")
PUBLIC = "public"
# (method, rule) -> roles allowed (integration: with the scope), and the scope.
TABLE = {
    ("POST", "/api/v1/customers"): (CHANGERS, "customers:write"),
    ("GET", "/api/v1/customers"): (CHANGERS, "customers:read"),
    ("GET", "/api/v1/customers/360"): (ANY, "customers:read"),
    ("GET", "/api/v1/customers/lookup"): (ANY, "customers:read"),
    ("GET", "/api/v1/customers/<customer_id>"): (ANY, "customers:read"),
    ("PATCH", "/api/v1/customers/<customer_id>"): (CHANGERS, "customers:write"),
    ("POST", "/api/v1/customers/<customer_id>/claim"): (("manager", "rep"), ""),
    ("POST", "/api/v1/customers/<customer_id>/release"): (CHANGERS, "customers:write"),
    ("POST", "/api/v1/customers/<customer_id>/transfer"): (MANAGERS, "customers:write"),
    ("POST", "/api/v1/customers/hand-over"): (MANAGERS, "customers:write"),
    ("POST", "/api/v1/customers/release-inactive"): (("admin",), ""),
    ("GET", "/api/v1/customers/<customer_id>/ownership-changes"): (ANY, "customers:read"),
    ("GET", "/api/v1/customers/<customer_id>/referrals"): (ANY, "customers:read"),
    ("GET", "/api/v1/customers/<customer_id>/export"): (("admin",), ""),
    ("POST", "/api/v1/customers/<customer_id>/erase"): (("admin",), ""),
    ("POST", "/api/v1/customers/<customer_id>/interactions"): (CHANGERS, "customers:write"),
    ("GET", "/api/v1/customers/<customer_id>/interactions"): (ANY, "customers:read"),
    ("GET", "/api/v1/customers/<customer_id>/interactions/summary"): (ANY, "customers:read"),
    ("POST", "/api/v1/visits"): (CHANGERS, "customers:write"),
    ("GET", "/api/v1/visits"): (CHANGERS, "customers:read"),
    ("GET", "/api/v1/visits/<visit_id>"): (CHANGERS, "customers:read"),
    ("POST", "/api/v1/visits/<visit_id>/complete"): (CHANGERS, "customers:write"),
    ("POST", "/api/v1/visits/<visit_id>/cancel"): (CHANGERS, "customers:write"),
    ("POST", "/api/v1/contracts"): (CHANGERS, "sales:write"),
    ("GET", "/api/v1/contracts"): (ANY, "sales:read"),
    ("GET", "/api/v1/contracts/expiring"): (ANY, "sales:read"),
    ("POST", "/api/v1/contracts/expiry-check"): (("admin",), ""),
    ("GET", "/api/v1/contracts/<contract_id>"): (ANY, "sales:read"),
    ("POST", "/api/v1/contracts/<contract_id>/sign"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/contracts/<contract_id>/terminate"): (CHANGERS, "sales:write"),
    ("GET", "/api/v1/commission/setup"): (("admin", "manager", "finance", "integration"), "sales:read"),
    ("PUT", "/api/v1/commission/plans/<plan_id>"): (("admin",), ""),
    ("POST", "/api/v1/commission/assignments"): (("admin",), ""),
    ("GET", "/api/v1/commission/statements/<rep_id>/<month>"): (("admin", "manager", "rep", "finance",
                                                                  "integration"), "sales:read"),
    ("GET", "/api/v1/commission/teams/<team_id>/<month>"): (("admin", "manager", "finance", "integration"),
                                                            "sales:read"),
    ("POST", "/api/v1/commission/months/<month>/close"): (("admin", "finance"), ""),
    ("POST", "/api/v1/expenses"): (("manager", "rep"), ""),
    ("GET", "/api/v1/expenses"): (("admin", "manager", "rep", "finance", "integration"), "sales:read"),
    ("GET", "/api/v1/expenses/<expense_id>"): (("admin", "manager", "rep", "finance", "integration"), "sales:read"),
    ("PUT", "/api/v1/expenses/<expense_id>"): (("manager", "rep"), ""),
    ("POST", "/api/v1/expenses/<expense_id>/approve"): (("admin", "manager", "finance"), ""),
    ("POST", "/api/v1/expenses/<expense_id>/reject"): (("admin", "manager", "finance"), ""),
    ("GET", "/api/v1/daily-reports"): (("admin", "manager", "finance", "integration"), "sales:read"),
    ("GET", "/api/v1/daily-reports/<rep_id>/<day>"): (("admin", "manager", "rep", "finance", "integration"),
                                                      "sales:read"),
    ("PUT", "/api/v1/daily-reports/<rep_id>/<day>"): (("manager", "rep"), ""),
    ("GET", "/api/v1/daily-reports/rosters/<team_id>"): (("admin", "manager", "finance", "integration"),
                                                         "sales:read"),
    ("PUT", "/api/v1/daily-reports/rosters/<team_id>"): (("admin", "manager"), ""),
    ("GET", "/api/v1/customers/<customer_id>/value-grade"): (ANY, "sales:read"),
    ("POST", "/api/v1/value-grade-runs"): (("admin",), ""),
    ("GET", "/api/v1/value-grade-runs/<run_id>"): (("admin",), ""),
    ("PUT", "/api/v1/targets/<scope>/<subject_id>/<month>/<currency_code>"): (("admin", "manager"), ""),
    ("GET", "/api/v1/targets/<scope>/<subject_id>"): (("admin", "manager", "rep", "finance", "integration"),
                                                      "sales:read"),
    ("GET", "/api/v1/targets/<scope>/<subject_id>/attainment"): (("admin", "manager", "rep", "finance",
                                                                  "integration"), "sales:read"),
    ("GET", "/api/v1/rankings/reps"): (("admin", "manager", "rep", "finance", "integration"), "sales:read"),
    ("POST", "/api/v1/orders"): (CHANGERS, "sales:write"),
    ("GET", "/api/v1/orders"): (ANY, "sales:read"),
    ("GET", "/api/v1/orders/<order_id>"): (ANY, "sales:read"),
    ("PUT", "/api/v1/orders/<order_id>"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/orders/<order_id>/confirm"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/orders/<order_id>/amendments"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/orders/<order_id>/cancel"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/orders/<order_id>/shipments"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/orders/<order_id>/deliveries"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/orders/<order_id>/close"): (CHANGERS, "sales:write"),
    ("GET", "/api/v1/profitability/contribution"): (("admin", "manager", "rep", "finance", "integration"),
                                                     "sales:read"),
    ("GET", "/api/v1/profitability/contribution.csv"): (("admin", "manager", "rep", "finance", "integration"),
                                                         "sales:read"),
    ("GET", "/api/v1/profitability/series/<dimension>/<member_id>"): (("admin", "manager", "rep", "finance",
                                                                        "integration"), "sales:read"),
    ("POST", "/api/v1/profitability/rollups/rebuild"): (("admin",), ""),
    ("GET", "/api/v1/orders/<order_id>/payment-plan"): (ANY, "sales:read"),
    ("PUT", "/api/v1/orders/<order_id>/payment-plan"): (("admin", "manager", "finance", "integration"), "sales:money"),
    ("GET", "/api/v1/contracts/<contract_id>/payment-plan"): (ANY, "sales:read"),
    ("PUT", "/api/v1/contracts/<contract_id>/payment-plan"): (("admin", "manager", "finance", "integration"),
                                                              "sales:money"),
    ("POST", "/api/v1/receipts"): (("admin", "finance", "integration"), "sales:money"),
    ("POST", "/api/v1/receipts/<receipt_id>/allocations"): (("admin", "finance", "integration"), "sales:money"),
    ("POST", "/api/v1/receipts/<receipt_id>/refunds"): (("admin", "finance", "integration"), "sales:money"),
    ("POST", "/api/v1/receipts/<receipt_id>/void"): (("admin", "finance", "integration"), "sales:money"),
    ("GET", "/api/v1/receivables/ageing"): (ANY, "sales:read"),
    ("POST", "/api/v1/products"): (MANAGERS, "sales:write"),
    ("GET", "/api/v1/products"): (ANY, "sales:read"),
    ("GET", "/api/v1/products/<product_id>"): (ANY, "sales:read"),
    ("PATCH", "/api/v1/products/<product_id>"): (MANAGERS, "sales:write"),
    ("GET", "/api/v1/products/<product_id>/grade-history"): (("admin", "manager", "finance"), ""),
    ("POST", "/api/v1/opportunities"): (CHANGERS, "sales:write"),
    ("GET", "/api/v1/opportunities"): (ANY, "sales:read"),
    ("GET", "/api/v1/opportunities/stages"): (ANY, "sales:read"),
    ("GET", "/api/v1/opportunities/forecast"): (ANY, "sales:read"),
    ("GET", "/api/v1/opportunities/funnel"): (ANY, "sales:read"),
    ("GET", "/api/v1/opportunities/<opportunity_id>"): (ANY, "sales:read"),
    ("PATCH", "/api/v1/opportunities/<opportunity_id>"): (CHANGERS, "sales:write"),
    ("POST", "/api/v1/opportunities/<opportunity_id>/stage"): (CHANGERS, "sales:write"),
    ("GET", "/api/v1/customers/<customer_id>/loyalty"): (ANY, "loyalty:read"),
    ("GET", "/api/v1/customers/<customer_id>/loyalty/ledger"): (ANY, "loyalty:read"),
    ("POST", "/api/v1/customers/<customer_id>/loyalty/adjustments"): (("admin", "integration"), "loyalty:write"),
    ("POST", "/api/v1/customers/<customer_id>/loyalty/redemptions"): (CHANGERS, "loyalty:write"),
    ("GET", "/api/v1/customers/<customer_id>/loyalty/redemptions"): (ANY, "loyalty:read"),
    ("POST", "/api/v1/customers/<customer_id>/loyalty/redemptions/<redemption_id>/cancel"): (CHANGERS,
                                                                                             "loyalty:write"),
    ("POST", "/api/v1/rewards"): (MANAGERS, "loyalty:write"),
    ("GET", "/api/v1/rewards"): (ANY, "loyalty:read"),
    ("GET", "/api/v1/rewards/<reward_id>"): (ANY, "loyalty:read"),
    ("PATCH", "/api/v1/rewards/<reward_id>"): (MANAGERS, "loyalty:write"),
    ("DELETE", "/api/v1/rewards/<reward_id>"): (MANAGERS, "loyalty:write"),
    ("POST", "/api/v1/loyalty/expiry-runs"): (("admin",), ""),
    ("POST", "/api/v1/loyalty/tier-reviews"): (("admin",), ""),
    ("GET", "/api/v1/greetings/templates"): (("admin",), ""),
    ("PUT", "/api/v1/greetings/templates/<occasion>/<language>"): (("admin",), ""),
    ("DELETE", "/api/v1/greetings/templates/<occasion>/<language>"): (("admin",), ""),
    ("POST", "/api/v1/greetings/runs"): (("admin",), ""),
    ("GET", "/api/v1/greetings/runs/<run_id>"): (("admin",), ""),
    ("GET", "/api/v1/customers/<customer_id>/greetings"): (ANY, "loyalty:read"),
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/readyz/<service>"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/assets/<name>"): PUBLIC,
}
PRINCIPALS = {
    "admin": auth("pm-admin", "admin"),
    "manager": auth("pm-manager", "manager"),
    "rep": auth("pm-rep", "rep"),
    "agent": auth("pm-agent", "agent"),
    "finance": auth("pm-finance", "finance"),
    "integration+scopes": auth("pm-int", "integration",
                               scopes="customers:read customers:write sales:read sales:write sales:money "
                                      "loyalty:read loyalty:write"),
    "integration": auth("pm-int-bare", "integration"),
    "anonymous": {},
}
SAMPLE = {"customer_id": "cus_000000000000000000000000", "visit_id": "vis_000000000000000000000000",
          "contract_id": "con_000000000000000000000000", "order_id": "ord_000000000000000000000000",
          "product_id": "prd_000000000000000000000000", "opportunity_id": "opp_000000000000000000000000",
          "receipt_id": "rct_000000000000000000000000",
          "expense_id": "exp_000000000000000000000000", "plan_id": "plan-pm", "month": "2000-06",
          "reward_id": "rwd_000000000000000000000000", "redemption_id": "rdm_000000000000000000000000",
          "occasion": "mid_autumn", "language": "zh", "rep_id": "rep-pm", "day": "2026-03-10", "team_id": "team-pm",
          "scope": "rep", "subject_id": "rep-pm", "currency_code": "CNY", "run_id": "grading_2000_pm",
          "service": "customer", "name": "swagger-ui.css", "dimension": "customer",
          "member_id": "cus_000000000000000000000000"}
# A body the route refuses as invalid (422) when the gateway lets the caller through, so nothing is written.
INVALID_BODY = {"not_a_field": True}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def test_every_route_declares_a_policy(app):
    undeclared = []
    for method, rule in _routes(app):
        operation = getattr(app.view_functions[rule.endpoint], "operation", None)
        if operation is None or operation.policy is None:
            undeclared.append(f"{method} {rule.rule}")
    assert undeclared == []


def test_the_table_covers_every_route(app):
    assert {(m, r.rule) for m, r in _routes(app)} == set(TABLE)


def test_declared_policies_match_the_table(app):
    for method, rule in _routes(app):
        policy = app.view_functions[rule.endpoint].operation.policy
        expected = TABLE[(method, rule.rule)]
        if expected == PUBLIC:
            assert policy.public, rule.rule
        else:
            assert not policy.public and set(policy.roles) == set(expected[0]) and policy.scope == expected[1], \
                (method, rule.rule, policy)


def _allowed(entry, who: str) -> bool:
    if entry == PUBLIC:
        return True
    roles, scope = entry
    if who == "anonymous":
        return False
    if who.startswith("integration"):
        return "integration" in roles and (not scope or who == "integration+scopes")
    return who in roles


def _url(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLE[m.group(1)], rule)


@pytest.mark.parametrize("who", sorted(PRINCIPALS))
def test_each_role_against_each_route(client, app, who):
    wrong = []
    for method, rule in _routes(app):
        entry = TABLE[(method, rule.rule)]
        url = _url(rule.rule)
        query = {"id": SAMPLE["customer_id"]} if rule.rule.endswith("/360") else \
            {"phone": "+8613900000000"} if rule.rule.endswith("/lookup") else {}
        kw = {"json": INVALID_BODY} if method in ("POST", "PATCH") else {}
        resp = client.open(url, method=method, query_string=query, headers={**PRINCIPALS[who], "If-Match": '"1"'},
                           **kw)
        allowed = _allowed(entry, who)
        if allowed and resp.status_code in (401, 403):
            wrong.append(f"{who} refused {method} {rule.rule}: {resp.status_code} {resp.get_json()}")
        if not allowed:
            expected = 401 if who == "anonymous" else 403
            if resp.status_code != expected:
                wrong.append(f"{who} let through {method} {rule.rule}: {resp.status_code}")
    assert wrong == []

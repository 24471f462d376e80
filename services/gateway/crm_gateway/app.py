"""The gateway's Flask app factory: `create_app()`.

Per request: a request id, bearer-JWT authentication (except the public
operational routes), a rate limit per principal (see ratelimit.py), RED
metrics by route template, and every error as problem+json. Every answer
says `X-Content-Type-Options: nosniff` and `Cache-Control: no-store` (the
API answers with personal data; nothing here is meant for a shared cache).
Routes live in blueprints.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from crm_kit import context
from crm_kit.auth import TokenVerifier
from crm_kit.errors import Unauthenticated
from crm_kit.redis_store import connect as connect_redis

from crm_gateway import card, customers, interactions, ops, visits
from crm_gateway import loyalty, loyalty_greetings
from crm_gateway import sales_contracts
from crm_gateway import sales_commission, sales_expenses
from crm_gateway import sales_daily_reports
from crm_gateway import sales_targets, sales_value_grades
from crm_gateway import sales_orders
from crm_gateway import sales_payments
from crm_gateway import sales_profitability
from crm_gateway import sales_opportunities, sales_products
from crm_gateway.downstream import Downstream
from crm_gateway.openapi import build_spec
from crm_gateway.routing import OPERATIONS
from crm_gateway.erasure import erasure_consumer
from crm_gateway.idempotency import IdempotencyStore, fingerprint
from crm_gateway.problems import Problem, problem_response
from crm_gateway.ratelimit import EXEMPT_PATHS, RateLimiter, RateLimitSettings, is_expensive, refusal
from crm_gateway.settings import GatewaySettings
from crm_gateway.web_metrics import HTTP_REQUESTS, HTTP_SECONDS

log = logging.getLogger("crm.gateway")

# Each serves a blueprint `bp` of declared routes (routing.py); the card
# comes before customers so /customers/360 is its own route.
API_MODULES = (card, customers, interactions, visits, sales_contracts, sales_orders, sales_payments, sales_products,
               sales_opportunities, sales_daily_reports, sales_profitability, sales_value_grades, sales_targets, sales_commission, sales_expenses, loyalty, loyalty_greetings,
               ops)


def create_app(settings: GatewaySettings | None = None) -> Flask:
    settings = settings or GatewaySettings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if settings.proxy_hops:  # behind a load balancer: the client address from X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=0, x_host=0, x_port=0,
                                x_prefix=0)
    verifier = TokenVerifier(settings.auth)
    downstream = Downstream(settings)
    idempotency = IdempotencyStore(connect_redis(settings.redis_url), settings.idempotency_ttl_seconds)
    if settings.events is not None and settings.events.enabled:
        # Each worker joins the "gateway" group: erased customers' stored answers go (erasure.py).
        app_erasure = erasure_consumer(settings.events.open(), connect_redis(settings.redis_url),
                                       settings.idempotency_ttl_seconds)
        app_erasure.start()
    else:
        app_erasure = None
    limits = settings.rate_limits or RateLimitSettings(enabled=False)
    limiter = RateLimiter(limits, settings.redis_url) if limits.enabled else None

    for module in API_MODULES:
        app.register_blueprint(module.bp)
    spec = build_spec(OPERATIONS)
    app.extensions["openapi"] = spec
    app.extensions["openapi_json"] = ops.spec_json(spec)
    app.extensions["downstream"] = downstream
    # Public routes (probes, docs) by their declared policy, looked up once per endpoint.
    public_endpoints = {name for name, view in app.view_functions.items()
                        if getattr(view, "operation", None) is not None and view.operation.policy.public}
    app.extensions["erasure_consumer"] = app_erasure

    @app.before_request
    def begin():
        g.started = time.perf_counter()
        g.downstream = downstream
        g.rid_token = context.request_id.set(context.accept_request_id(request.headers.get("X-Request-Id")))
        g.idempotency = None
        g.rate = None
        exempt = request.path in EXEMPT_PATHS or request.path.startswith("/readyz/")
        principal, refused = None, None
        if not exempt:
            try:
                principal = verifier.verify_header(request.headers.get("Authorization"))
            except Unauthenticated as err:
                refused = err
            if limiter is not None:  # before routing: 404 probes count too
                limit(principal)
        if request.routing_exception is not None:  # 404 / 405 answer before auth
            raise request.routing_exception
        if exempt or (request.url_rule is not None and request.url_rule.endpoint in public_endpoints):
            return None
        if principal is None:
            raise Problem(401, refused.message, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})
        g.principal = principal
        if request.content_length is None and max_body_exceeded():
            raise RequestEntityTooLarge()
        g.token_token = context.bearer_token.set(request.headers["Authorization"].split(" ", 1)[1].strip())
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key is not None and request.url_rule is not None:
            fp = fingerprint(request.method, request.path, request.get_data(cache=True))
            replay = idempotency.begin(g.principal.subject, key, fp)
            if replay is not None:
                return replay
            g.idempotency = (key, fp)
        return None

    def limit(principal) -> None:
        """One request off the caller's budget (its role's, or the
        expensive one); 429 when it is spent. Headers go out in finish()."""
        rule = request.url_rule.rule if request.url_rule is not None else None
        if is_expensive(request.method, rule, request.args):
            policy = "expensive"
        else:
            policy = principal.role if principal is not None else "anonymous"
        key = f"sub:{principal.subject}" if principal is not None else f"addr:{request.remote_addr}"
        decision = limiter.check(policy, key)
        g.rate = decision
        if decision is not None and not decision.allowed:
            raise refusal(decision)

    def max_body_exceeded() -> bool:
        """A body without Content-Length (chunked) is cut at the limit by
        werkzeug and would parse as truncated JSON (400); one byte more
        than the limit left unread means it is too large (413)."""
        cap = app.config["MAX_CONTENT_LENGTH"]
        if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
            return False
        if len(request.get_data(cache=True)) < cap:
            return False
        return bool(request.environ["wsgi.input"].read(1))

    metric_children: dict = {}

    @app.after_request
    def finish(resp: Response) -> Response:
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "no-store"
        if g.get("rate") is not None:
            resp.headers.update(g.rate.headers())
        if g.get("idempotency") and "Idempotent-Replayed" not in resp.headers:
            key, fp = g.idempotency
            idempotency.finish(g.principal.subject, key, fp, resp)
        resp.headers["X-Request-Id"] = context.request_id.get()
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        key = (request.method, route, resp.status_code)
        children = metric_children.get(key)
        if children is None:  # labels() per request cost ~20 µs; the children are made once
            children = metric_children[key] = (HTTP_REQUESTS.labels(key[0], route, str(key[2])),
                                                HTTP_SECONDS.labels(key[0], route))
        children[0].inc()
        if "started" in g:
            children[1].observe(time.perf_counter() - g.started)
        return resp

    @app.teardown_request
    def reset_context(_exc):
        if "token_token" in g:
            context.bearer_token.reset(g.token_token)
        if "rid_token" in g:
            context.request_id.reset(g.rid_token)

    @app.errorhandler(Problem)
    def on_problem(p: Problem):
        return problem_response(p)

    @app.errorhandler(HTTPException)
    def on_http_error(err: HTTPException):
        headers = {}
        if err.code == 405 and err.valid_methods:
            headers["Allow"] = ", ".join(err.valid_methods)
        detail = {404: "no such resource", 405: f"{request.method} is not allowed here",
                  413: f"the body is larger than {settings.max_body_bytes} bytes"}.get(err.code, err.description)
        return problem_response(Problem(err.code or 500, detail, headers=headers))

    @app.errorhandler(Exception)
    def on_unexpected(err: Exception):
        log.exception("unhandled error", extra={"fields": {"path": request.path}})
        return problem_response(Problem(500, "internal error", slug="internal"))

    return app

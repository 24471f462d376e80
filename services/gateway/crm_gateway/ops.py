"""Operational routes: liveness, readiness, metrics, the API description."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, g, jsonify, render_template_string

from crm_gateway.downstream import SERVICE_NAMES
from crm_gateway.openapi import RETRY, problem
from crm_gateway.problems import Problem
from crm_gateway.web_metrics import render

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz():
    statuses = g.downstream.check_health()
    down = sorted(name for name, status in statuses.items() if status != "SERVING")
    if down:
        raise Problem(503, f"not serving: {', '.join(down)}", slug="not-ready",
                      headers={"Retry-After": "1"}, extra={"services": statuses})
    return jsonify({"status": "ready", "services": statuses})


@bp.get("/readyz/<service>")
def readyz_service(service: str):
    if service not in SERVICE_NAMES:
        raise Problem(404, f"unknown service {service[:32]!r}", slug="not-found")
    status = g.downstream.check_one(service)
    if status != "SERVING":
        raise Problem(503, f"{service} is {status}", slug="not-ready", headers={"Retry-After": "1"})
    return jsonify({"status": status})


@bp.get("/metrics")
def metrics():
    body, content_type = render()
    return Response(body, content_type=content_type)


@bp.get("/openapi.json")
def openapi():
    return Response(json.dumps(current_app.extensions["openapi"], ensure_ascii=False), mimetype="application/json")


_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ spec.info.title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{background:#f4f4f4;padding:.1rem .3rem;border-radius:3px}pre{padding:.6rem;overflow:auto}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.m{display:inline-block;min-width:4rem;font-weight:bold;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.patch{color:#c60}table{border-collapse:collapse}td{padding:.1rem .6rem .1rem 0;vertical-align:top}</style>
</head><body>
<h1>{{ spec.info.title }} <small>{{ spec.info.version }}</small></h1>
<p>{{ spec.info.description }}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI {{ spec.openapi }}).</p>
{% for path, ops in spec.paths.items() %}{% for method, op in ops.items() %}
<div class="op"><span class="m {{ method }}">{{ method }}</span> <code>{{ path }}</code> — {{ op.summary }}
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<table>{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td><td>{{ p["in"] }}{% if p.required %}, required{% endif %}</td><td>{{ p.description or "" }}</td></tr>{% endfor %}</table>{% endif %}
<table>{% for code, r in op.responses.items() %}<tr><td><b>{{ code }}</b></td><td>{{ r.description }}</td></tr>{% endfor %}</table>
</div>{% endfor %}{% endfor %}
<h2>Schemas</h2>
{% for name, schema in spec.components.schemas.items() %}<h3 id="{{ name }}">{{ name }}</h3><pre>{{ schema | tojson(indent=2) }}</pre>{% endfor %}
</body></html>"""


@bp.get("/docs")
def docs():
    return render_template_string(_DOCS, spec=current_app.extensions["openapi"])


PATHS = {
    "/healthz": {"get": {"operationId": "healthz", "summary": "Process is alive", "security": [],
                         "responses": {"200": {"description": "Alive."}}}},
    "/readyz": {"get": {"operationId": "readyz", "summary": "All downstream services are serving", "security": [],
                        "responses": {"200": {"description": "Ready."}, "503": problem("Not ready.", RETRY)}}},
    "/readyz/{service}": {"get": {
        "operationId": "readyzService", "summary": "One downstream service is serving (one gRPC health call)",
        "security": [],
        "parameters": [{"name": "service", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["customer", "sales", "support", "loyalty"]}}],
        "responses": {"200": {"description": "Serving."}, "404": problem("Unknown service."),
                      "503": problem("Not serving.", RETRY)}}},
    "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "security": [],
                         "responses": {"200": {"description": "Prometheus text format."}}}},
}

"""Operational routes: liveness, readiness, metrics, the API description and
its interactive docs (Swagger UI from the swagger-ui-py package, served from
this process: no CDN, works offline)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from flask import Blueprint, Response, current_app, g, send_from_directory
from pydantic import BaseModel, Field
from swagger_ui.utils import SWAGGER_UI_PY_ROOT

from crm_gateway.downstream import SERVICE_NAMES
from crm_gateway.problems import Problem
from crm_gateway.routing import PUBLIC, Args, Ok, route
from crm_gateway.web_metrics import render

bp = Blueprint("ops", __name__)

SWAGGER_UI_DIR = SWAGGER_UI_PY_ROOT / "static"
DOCS_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")


class Alive(BaseModel):
    status: Literal["alive"]


class Ready(BaseModel):
    status: str
    services: Annotated[dict[str, str], Field(description="Each service's gRPC health status.")]


class Serving(BaseModel):
    status: str


class ServicePath(BaseModel):
    service: Literal["customer", "sales", "support", "loyalty"]


_NOT_READY = {503: "Not ready."}


@route(bp, "GET", "/healthz", "healthz", "Process is alive", allow=PUBLIC, ok=Ok(Alive, "Alive."))
def healthz(a: Args):
    return {"status": "alive"}


@route(bp, "GET", "/readyz", "readyz", "All downstream services are serving", allow=PUBLIC, ok=Ok(Ready, "Ready."),
       errors=_NOT_READY)
def readyz(a: Args):
    statuses = g.downstream.check_health()
    down = sorted(name for name, status in statuses.items() if status != "SERVING")
    if down:
        raise Problem(503, f"not serving: {', '.join(down)}", slug="not-ready",
                      headers={"Retry-After": "1"}, extra={"services": statuses})
    return {"status": "ready", "services": statuses}


@route(bp, "GET", "/readyz/<service>", "readyzService", "One downstream service is serving (one gRPC health call)",
       allow=PUBLIC, path=ServicePath, ok=Ok(Serving, "Serving."),
       errors={404: "Unknown service.", 503: "Not serving."})
def readyz_service(a: Args):
    service = a.path.service
    assert service in SERVICE_NAMES
    status = g.downstream.check_one(service)
    if status != "SERVING":
        raise Problem(503, f"{service} is {status}", slug="not-ready", headers={"Retry-After": "1"})
    return {"status": status}


@route(bp, "GET", "/metrics", "metrics", "Prometheus metrics", allow=PUBLIC,
       ok=Ok(None, "Prometheus text format.", content_type="text/plain"))
def metrics(a: Args):
    body, content_type = render()
    return Response(body, content_type=content_type)


@route(bp, "GET", "/openapi.json", "openapi", "This document", allow=PUBLIC, ok=Ok(None, "OpenAPI 3.1."),
       in_schema=False)
def openapi(a: Args):
    return Response(current_app.extensions["openapi_json"], mimetype="application/json")


_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM API</title>
<link rel="icon" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  persistAuthorization: true, displayRequestDuration: true, tryItOutEnabled: false,
  validatorUrl: null, presets: [SwaggerUIBundle.presets.apis]});
</script></body></html>"""


@route(bp, "GET", "/docs", "docs", "Interactive API docs (Swagger UI)", allow=PUBLIC,
       ok=Ok(None, "HTML.", content_type="text/html"), in_schema=False)
def docs(a: Args):
    # "Authorize" takes the bearer token (components.securitySchemes.bearer); "Try it out" calls this gateway.
    return Response(_DOCS, mimetype="text/html")


class AssetPath(BaseModel):
    name: Literal["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"]


@route(bp, "GET", "/docs/assets/<name>", "docsAsset", "Swagger UI's files", allow=PUBLIC, path=AssetPath,
       ok=Ok(None, "The file."), in_schema=False)
def docs_asset(a: Args):
    resp = send_from_directory(SWAGGER_UI_DIR, a.path.name, max_age=86400)
    return resp


def spec_json(spec: dict) -> str:
    return json.dumps(spec, ensure_ascii=False)

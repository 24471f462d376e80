"""Every failure as RFC 9457 `application/problem+json`.

Includes the mapping from gRPC status codes (with google.rpc details) to
HTTP: the services decide, the gateway translates.
"""

from __future__ import annotations

import json

import grpc
from flask import Response, request
from google.rpc import error_details_pb2

from crm_kit import context
from crm_kit.grpc_errors import details_of

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 412: "Precondition Failed", 413: "Content Too Large", 415: "Unsupported Media Type",
    422: "Unprocessable Content", 428: "Precondition Required", 500: "Internal Server Error",
    503: "Service Unavailable", 504: "Gateway Timeout",
}


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None, extra: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(p: Problem) -> Response:
    body = {
        "type": f"urn:crm:problem:{p.slug}",
        "title": TITLES.get(p.status, "Error"),
        "status": p.status,
        "detail": p.detail,
        "instance": request.path if request else None,
        "request_id": context.request_id.get() or None,
    }
    if p.errors:
        body["errors"] = p.errors
    body.update(p.extra)
    resp = Response(json.dumps(body, ensure_ascii=False), status=p.status, mimetype=PROBLEM_JSON)
    for key, value in p.headers.items():
        resp.headers[key] = value
    return resp


_SIMPLE = {
    grpc.StatusCode.NOT_FOUND: (404, "not-found"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthorized"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "duplicate"),
    grpc.StatusCode.ABORTED: (409, "conflict"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "rate-limited"),
}


def from_rpc_error(err: grpc.RpcError, service: str) -> Problem:
    code = err.code()
    message = err.details() or ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return Problem(503, f"the {service} service is unavailable; retry shortly", slug="service-unavailable",
                       headers={"Retry-After": "1"}, extra={"service": service})
    details = details_of(err)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        errors = [{"field": v.field, "message": v.description}
                  for d in details if isinstance(d, error_details_pb2.BadRequest) for v in d.field_violations]
        status = 422 if request.method in ("POST", "PATCH", "PUT") else 400
        return Problem(status, message, slug="validation", errors=errors or None)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        stale = any(isinstance(d, error_details_pb2.PreconditionFailure) and
                    any(v.type == "ETAG" for v in d.violations) for d in details)
        if stale:
            return Problem(412, message, slug="stale-etag")
        # Which rule refused it (e.g. a redemption's POINTS, STOCK, LIMIT, VALIDITY): a client can act on it.
        reasons = [v.type for d in details if isinstance(d, error_details_pb2.PreconditionFailure)
                   for v in d.violations if v.type]
        return Problem(409, message, slug="conflict", extra={"reasons": reasons} if reasons else None)
    if code in _SIMPLE:
        status, slug = _SIMPLE[code]
        extra = {}
        for d in details:
            if isinstance(d, error_details_pb2.ErrorInfo) and d.metadata.get("relation"):  # "": nobody's record
                extra["relation"] = d.metadata["relation"]
        return Problem(status, message, slug=slug, extra=extra)
    return Problem(500, "internal error", slug="internal")

"""Declarative routes: one declaration per route yields its policy check, its
input validation, the downstream call's error mapping, the JSON answer and
its OpenAPI operation.

    @route(bp, "GET", "/<customer_id>", "getCustomer", "Get a customer", allow=READ,
           path=CustomerPath, ok=Ok(Customer, "The customer.", headers=(ETAG,)),
           errors={404: "No such customer, or not yours."})
    def get_customer(a: Args):
        return stubs().GetCustomer(pb.GetCustomerRequest(id=a.path.customer_id))

- `allow` is a `Policy`: the roles that may call (an integration also needs
  its scope); checked before anything else; every route in the URL map has
  one (tests/gateway/test_policy_matrix.py fails otherwise).
- `path`, `query`, `body` are pydantic v2 models. Bodies are strict (no
  coercion: "5" is not 5), unknown fields are refused at every level and
  keys starting with `$` are refused anywhere, so no operator reaches a
  service; lone surrogates and deep nesting are refused before parsing
  (requests.py). Query strings are parsed leniently from text ("5" -> 5), an
  unknown or repeated parameter is a 400. A path value outside its model is
  a 404 (no such resource).
- The view gets `Args(path, query, body)` and returns a protobuf message
  (mapped by the `Ok` model's `from_pb`), a dict, or a Response. A
  `grpc.RpcError` it lets out becomes a problem document (problems.py).
- The OpenAPI document is assembled from every declaration once, at start-up
  (openapi.py); nothing about a route is written twice.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ValidationError

from crm_gateway.problems import Problem, from_rpc_error
from crm_gateway.requests import JSON_TYPES, read_json

ALL_ROLES = ("admin", "manager", "rep", "agent", "finance", "integration")


# --- who may call ------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    """The roles that may call a route; an integration token also needs
    `scope`. `public` routes need no token at all."""

    roles: tuple[str, ...] = ()
    scope: str = ""
    public: bool = False

    def allows(self, principal) -> bool:
        if principal.role not in self.roles:
            return False
        return principal.role != "integration" or not self.scope or self.scope in principal.scopes

    def describe(self) -> str:
        if self.public:
            return "Public: no token needed."
        roles = [r if r != "integration" or not self.scope else f"integration (scope {self.scope})" for r in self.roles]
        return "Who may call: " + ", ".join(roles) + "."

    def as_extension(self) -> dict:
        return {"public": True} if self.public else {"roles": list(self.roles), "integration_scope": self.scope}


PUBLIC = Policy(public=True)


def check_policy(policy: Policy) -> None:
    if policy.public:
        return
    principal = g.principal
    if not policy.allows(principal):
        if principal.role == "integration" and principal.role in policy.roles:
            raise Problem(403, f"the token lacks the {policy.scope} scope", slug="forbidden")
        raise Problem(403, f"the {principal.role} role may not do this", slug="forbidden")


# --- what a route answers -------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    """A response header: documented, and set from the view's result."""

    name: str
    description: str
    value: Callable[[Any], str]
    schema: dict = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class RequestHeader:
    """A request header a route reads (documentation; the view reads it)."""

    name: str
    description: str
    required: bool = False
    schema: dict = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Ok:
    """The success answer: status, body model (None: no JSON body, the view
    returns a Response) and headers. `model.from_pb(message) -> dict` maps
    what the view returns, unless the view returns a dict or a Response."""

    model: type[BaseModel] | None
    description: str
    status: int = 200
    headers: tuple[Header, ...] = ()
    content_type: str = "application/json"


@dataclass
class Args:
    path: Any = None
    query: Any = None
    body: Any = None


@dataclass
class Operation:
    """Everything declared about one route; openapi.py reads these."""

    method: str
    rule: str  # the Flask rule, with the blueprint prefix
    operation_id: str
    summary: str
    description: str
    policy: Policy
    path: type[BaseModel] | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    body_types: tuple[str, ...]
    request_headers: tuple[RequestHeader, ...]
    ok: Ok
    errors: dict[int, str]
    service: str
    tags: tuple[str, ...]
    in_schema: bool


OPERATIONS: list[Operation] = []


def route(bp: Blueprint, method: str, rule: str, operation_id: str, summary: str, *, allow: Policy, ok: Ok,
          path: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
          body: type[BaseModel] | None = None, body_types: tuple[str, ...] = JSON_TYPES,
          request_headers: tuple[RequestHeader, ...] = (), errors: dict[int, str] | None = None,
          description: str = "", service: str = "customer", tags: tuple[str, ...] = (), in_schema: bool = True):
    """Declare a route (see the module docstring)."""

    def decorate(view: Callable[[Args], Any]):
        op = Operation(method, (bp.url_prefix or "") + rule, operation_id, summary, description, allow, path, query,
                       body, body_types, request_headers, ok, dict(errors or {}), service, tags, in_schema)
        OPERATIONS.append(op)
        mapping = ok.model.from_pb if ok.model is not None and hasattr(ok.model, "from_pb") else None
        status, headers = ok.status, ok.headers

        @functools.wraps(view)
        def endpoint(**values):
            check_policy(allow)
            args = Args()
            if path is not None:
                try:
                    args.path = path.model_validate(values)
                except ValidationError:
                    raise Problem(404, "no such resource", slug="not-found") from None
            if query is not None:
                args.query = parse_query(query)
            if body is not None:
                args.body = parse_body(body, body_types)
            try:
                result = view(args)
            except grpc.RpcError as err:
                raise from_rpc_error(err, service) from None
            if isinstance(result, Response):
                return result
            data = result if isinstance(result, (dict, list)) or mapping is None else mapping(result)
            resp = Response(json.dumps(data, ensure_ascii=False, separators=(",", ":")), status=status,
                            mimetype="application/json")
            for header in headers:
                resp.headers[header.name] = header.value(result)
            return resp

        endpoint.operation = op  # the policy matrix test reads it
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=endpoint, methods=[method])
        return endpoint

    return decorate


# --- inputs ---------------------------------------------------------------------------

def parse_query(model: type[BaseModel] | None):
    raw, errors = {}, []
    for name in request.args:
        values = request.args.getlist(name)
        if model is None or name not in model.model_fields:
            errors.append({"field": name, "message": "unknown query parameter"})
        elif len(values) > 1:
            errors.append({"field": name, "message": "give it once"})
        else:
            raw[name] = values[0]
    if not errors:
        if model is None:
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as err:
            errors = violations(err, "(query)")
    raise Problem(400, "bad query parameters: " + ", ".join(e["field"] for e in errors)[:200], slug="validation",
                  errors=errors)


def parse_body(model: type[BaseModel], types: tuple[str, ...]):
    data = read_json(types)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise Problem(422, "the body does not match the schema", slug="validation",
                      errors=violations(err, "(body)")) from None


def violations(err: ValidationError, where: str) -> list[dict]:
    """pydantic's errors as {field, message}, fields named "phones.0";
    unknown fields grouped under the object that holds them."""
    out, unknown = [], {}
    for e in err.errors(include_url=False, include_input=False):
        loc = [str(p) for p in e["loc"]]
        if e["type"] == "extra_forbidden":
            unknown.setdefault(".".join(loc[:-1]) or where, []).append(loc[-1])
            continue
        if e["type"] == "value_error" and "error" in e.get("ctx", {}):
            message = str(e["ctx"]["error"])
        else:
            message = e["msg"]
        out.append({"field": ".".join(loc) or where, "message": message[:300]})
    for holder, names in unknown.items():
        out.append({"field": holder, "message": f"unknown field(s): {', '.join(sorted(names))}"[:300]})
    return out

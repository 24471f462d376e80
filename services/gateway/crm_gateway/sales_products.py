"""/api/v1/products: REST in, the sales service's ProductService gRPC out."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, g, request
from pydantic import BaseModel, Field

from crm.common.v1 import common_pb2
from crm.sales.v1 import product_service_pb2 as pb
from crm.sales.v1 import product_service_pb2_grpc as pb_grpc

from crm_gateway.fields import NEXT_PAGE, Body, Id, Out, PageSize, PageToken, Query, QueryBool, Time, money_json, \
    optional, text
from crm_gateway.interactions import Money, MoneyIn
from crm_gateway.problems import Problem
from crm_gateway.routing import Args, Header, Ok, Policy, RequestHeader, route

bp = Blueprint("sales_products", __name__, url_prefix="/api/v1/products")

READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="sales:read")
# The catalogue is kept by managers and admins (crm_sales.access.require_catalogue_right).
CATALOGUE = Policy(("admin", "manager", "integration"), scope="sales:write")
# Margin grades are cost information: managers, finance and admins (crm_sales.access.sees_costs).
COSTS = Policy(("admin", "manager", "finance"))
ETAG = Header("ETag", "The product's revision; send it back in If-Match to update only what you read.",
              lambda m: f'"{m.revision}"')
IF_MATCH = RequestHeader("If-Match", "The ETag you read; optional: without it the change applies to the "
                                     "product as it is now.")
_NOT_FOUND = {404: "No such product."}
_COSTS_NOTE = "unit_cost, margin, margin_rate_bp and grade are null unless you are a manager, finance or an admin."


def expected_revision() -> int:
    """The revision named by If-Match ('"3"'), 0 without one; anything else is a 400."""
    raw = (request.headers.get("If-Match") or "").strip().removeprefix("W/").strip('"')
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise Problem(400, "If-Match must be an ETag this API gave you", slug="validation",
                      errors=[{"field": "If-Match", "message": "is not a revision ETag"}])
    return int(raw)


def money_pb(m: MoneyIn) -> common_pb2.Money:
    return common_pb2.Money(minor_units=m.minor_units, currency_code=m.currency_code)


# --- request bodies and queries ----------------------------------------------------------

class ProductCreate(Body):
    sku: text(64, 1, description="Unique in the catalogue: letters, digits, '.', '_', '/', '-'; case-insensitive "
                                 "(stored upper-cased).")
    name: text(200, 1, description="In any script.")
    unit: text(32, description="Unit of sale, e.g. each, box, kg; each when left out.") = ""
    list_price: Annotated[MoneyIn, Field(description="Per unit, integer minor units.")]
    unit_cost: Annotated[MoneyIn, Field(description="Per unit, in the list price's currency.")]
    active: Annotated[bool, Field(description="Whether it is sold.")] = True


class ProductUpdate(Body):
    name: text(200, 1) = optional()
    unit: text(32, 1) = optional()
    list_price: Annotated[MoneyIn, Field(description="In the unit cost's currency unless both change.")] = optional()
    unit_cost: Annotated[MoneyIn, Field(description="In the list price's currency unless both change.")] = optional()
    active: bool = optional()


class ProductPath(BaseModel):
    product_id: Id


class ProductsQuery(Query):
    active: Annotated[QueryBool | None, Field(description="Only active (true) or inactive (false) products.")] = None
    grade: text(8, description="Only this margin grade (managers, finance, admins).") = ""
    page_size: PageSize = 50
    page_token: PageToken = ""


# --- answers -----------------------------------------------------------------------------

class Product(Out):
    id: str
    sku: str
    name: str
    unit: str
    list_price: Money
    unit_cost: Money | None
    active: bool
    margin: Annotated[Money | None, Field(description="List price minus unit cost (negative at a loss).")]
    margin_rate_bp: Annotated[int | None, Field(description="Margin / list price in basis points, rounded down.")]
    grade: Annotated[str | None, Field(description="Margin grade under the configured bands, e.g. A.")]
    revision: int
    created_at: Time
    updated_at: Time

    @staticmethod
    def from_pb(p: pb.Product) -> dict:
        sees_costs = p.HasField("unit_cost")
        return {
            "id": p.id, "sku": p.sku, "name": p.name, "unit": p.unit, "list_price": money_json(p.list_price),
            "unit_cost": money_json(p.unit_cost) if sees_costs else None, "active": p.active,
            "margin": money_json(p.margin) if sees_costs else None,
            "margin_rate_bp": p.margin_rate_bp if sees_costs else None, "grade": p.grade if sees_costs else None,
            "revision": p.revision, "created_at": p.create_time.ToJsonString(),
            "updated_at": p.update_time.ToJsonString(),
        }


class ProductPage(Out):
    items: Annotated[list[Product], Field(description="In the order they were added; a page may be short when a "
                                                      "filter matches few.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(page: pb.ListProductsResponse) -> dict:
        return {"items": [Product.from_pb(p) for p in page.products], "next_page_token": page.next_page_token}


class GradeChange(Out):
    revision: int
    grade: str
    margin_rate_bp: int
    list_price: Money
    unit_cost: Money
    changed_at: Time
    changed_by: str


class GradeHistory(Out):
    items: Annotated[list[GradeChange], Field(description="Oldest first; the first is the product's first "
                                                          "revision.")]

    @staticmethod
    def from_pb(r: pb.GetProductGradeHistoryResponse) -> dict:
        return {"items": [{"revision": c.revision, "grade": c.grade, "margin_rate_bp": c.margin_rate_bp,
                           "list_price": money_json(c.list_price), "unit_cost": money_json(c.unit_cost),
                           "changed_at": c.change_time.ToJsonString(), "changed_by": c.changed_by}
                          for c in r.changes]}


def stub() -> pb_grpc.ProductServiceStub:
    return g.downstream.stub("sales", pb_grpc.ProductServiceStub)


# --- routes --------------------------------------------------------------------------------

@route(bp, "POST", "", "createProduct", "Add a product to the catalogue", allow=CATALOGUE, body=ProductCreate,
       ok=Ok(Product, "The product, with its margin and grade.", 201, (ETAG,)), service="sales",
       errors={409: "The SKU is taken."},
       description="Money is integer minor units plus an ISO 4217 code; price and cost in one currency. Margin, "
                   "margin rate and grade are derived, never sent.")
def create_product(a: Args):
    b = a.body
    return stub().CreateProduct(pb.CreateProductRequest(product=pb.Product(
        sku=b.sku, name=b.name, unit=b.unit, list_price=money_pb(b.list_price), unit_cost=money_pb(b.unit_cost),
        active=b.active)))


@route(bp, "GET", "", "listProducts", "The product catalogue", allow=READ, query=ProductsQuery,
       ok=Ok(ProductPage, "A page of products."), service="sales",
       errors={400: "Bad query parameter or page token.", 403: "Filtering by grade needs a role that sees costs."},
       description=_COSTS_NOTE)
def list_products(a: Args):
    q = a.query
    message = pb.ListProductsRequest(grade=q.grade, page_size=q.page_size, page_token=q.page_token)
    if q.active is not None:
        message.active = q.active
    return stub().ListProducts(message)


@route(bp, "GET", "/<product_id>", "getProduct", "Get a product", allow=READ, path=ProductPath,
       ok=Ok(Product, "The product.", headers=(ETAG,)), errors=_NOT_FOUND, service="sales", description=_COSTS_NOTE)
def get_product(a: Args):
    return stub().GetProduct(pb.GetProductRequest(id=a.path.product_id))


@route(bp, "PATCH", "/<product_id>", "updateProduct", "Change a product's name, unit, price, cost or active flag",
       allow=CATALOGUE, path=ProductPath, body=ProductUpdate, request_headers=(IF_MATCH,),
       ok=Ok(Product, "The product as changed.", headers=(ETAG,)), service="sales",
       errors={**_NOT_FOUND, 412: "If-Match is stale: someone changed the product since you read it."},
       description="Send only what changes. The grade follows price and cost; its history is kept.")
def update_product(a: Args):
    b = a.body
    message = pb.UpdateProductRequest(id=a.path.product_id, expected_revision=expected_revision())
    for name in ("name", "unit", "active"):
        if getattr(b, name) is not None:
            setattr(message, name, getattr(b, name))
    for name in ("list_price", "unit_cost"):
        if getattr(b, name) is not None:
            getattr(message, name).CopyFrom(money_pb(getattr(b, name)))
    return stub().UpdateProduct(message)


@route(bp, "GET", "/<product_id>/grade-history", "getProductGradeHistory", "How a product's margin grade changed",
       allow=COSTS, path=ProductPath, ok=Ok(GradeHistory, "The revisions at which the grade changed."),
       errors=_NOT_FOUND, service="sales")
def product_grade_history(a: Args):
    return stub().GetProductGradeHistory(pb.GetProductGradeHistoryRequest(id=a.path.product_id))

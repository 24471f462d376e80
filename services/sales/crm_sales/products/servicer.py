"""gRPC transport for the product catalogue: messages in, use cases, messages out."""

from __future__ import annotations

from crm.sales.v1 import product_service_pb2 as pb
from crm.sales.v1 import product_service_pb2_grpc as pb_grpc
from crm_kit.auth import Principal
from crm_kit.grpc_server import current_principal

from crm_sales import access
from crm_sales.products import model as rules
from crm_sales.products.model import GradeChange, Product, ProductChanges
from crm_sales.products.service import ProductService
from crm_sales.wire import money_from_pb, money_pb, timestamp_pb


class ProductServicer(pb_grpc.ProductServiceServicer):
    def __init__(self, service: ProductService):
        self.service = service

    def CreateProduct(self, request, context):
        p = request.product
        draft = rules.build_draft(
            sku=p.sku, name=p.name, unit=p.unit,
            list_price=money_from_pb(p.list_price) if p.HasField("list_price") else None,
            unit_cost=money_from_pb(p.unit_cost) if p.HasField("unit_cost") else None,
            active=p.active if p.HasField("active") else True)
        principal = current_principal()
        return to_pb(self.service.create(principal, draft), principal)

    def GetProduct(self, request, context):
        principal = current_principal()
        return to_pb(self.service.get(principal, request.id), principal)

    def ListProducts(self, request, context):
        principal = current_principal()
        page, token = self.service.list(principal, active=request.active if request.HasField("active") else None,
                                        grade=request.grade, page_size=request.page_size,
                                        page_token=request.page_token)
        return pb.ListProductsResponse(products=[to_pb(p, principal) for p in page], next_page_token=token)

    def UpdateProduct(self, request, context):
        changes = ProductChanges(
            name=request.name if request.HasField("name") else None,
            unit=request.unit if request.HasField("unit") else None,
            list_price=money_from_pb(request.list_price) if request.HasField("list_price") else None,
            unit_cost=money_from_pb(request.unit_cost) if request.HasField("unit_cost") else None,
            active=request.active if request.HasField("active") else None,
        )
        principal = current_principal()
        return to_pb(self.service.update(principal, request.id, changes, request.expected_revision), principal)

    def GetProductGradeHistory(self, request, context):
        changes = self.service.grade_history(current_principal(), request.id)
        return pb.GetProductGradeHistoryResponse(changes=[_grade_change_pb(c) for c in changes])


def to_pb(p: Product, principal: Principal) -> pb.Product:
    """Cost, margin, margin rate and grade only for those who see costs."""
    msg = pb.Product(id=p.id, sku=p.sku, name=p.name, unit=p.unit, list_price=money_pb(p.list_price),
                     active=p.active, revision=p.revision)
    if p.created_at is not None:
        msg.create_time.CopyFrom(timestamp_pb(p.created_at))
    if p.updated_at is not None:
        msg.update_time.CopyFrom(timestamp_pb(p.updated_at))
    if access.sees_costs(principal):
        msg.unit_cost.CopyFrom(money_pb(p.unit_cost))
        msg.margin.CopyFrom(money_pb(p.margin))
        msg.margin_rate_bp = p.margin_rate_bp
        msg.grade = p.grade
    return msg


def _grade_change_pb(c: GradeChange) -> pb.GradeChange:
    return pb.GradeChange(revision=c.revision, grade=c.grade, margin_rate_bp=c.margin_rate_bp,
                          list_price=money_pb(c.list_price), unit_cost=money_pb(c.unit_cost),
                          change_time=timestamp_pb(c.changed_at), changed_by=c.changed_by)

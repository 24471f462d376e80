"""gRPC transport for the customer service: messages in, use cases, messages out."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import customer_service_pb2_grpc as pb_grpc
from crm_kit.errors import DomainError, FieldViolation, InvalidArgument
from crm_kit.grpc_errors import to_status
from crm_kit.grpc_server import current_principal

from crm_customer import domain
from crm_customer.domain import Customer, Region
from crm_customer.service import CustomerService

_KIND_TO_PB = {"person": pb.CUSTOMER_KIND_PERSON, "company": pb.CUSTOMER_KIND_COMPANY}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}


class CustomerServicer(pb_grpc.CustomerServiceServicer):
    def __init__(self, service: CustomerService):
        self.service = service

    def CreateCustomer(self, request, context):
        return to_pb(self.service.create(current_principal(), self._draft(request.customer)))

    def BatchCreateCustomers(self, request, context):
        principal = current_principal()
        drafts: list = []
        for item in request.requests:
            try:
                drafts.append(self._draft(item.customer))
            except DomainError as err:
                drafts.append(err)
        valid = [d for d in drafts if not isinstance(d, DomainError)]
        created = iter(self.service.batch_create(principal, valid))
        response = pb.BatchCreateCustomersResponse()
        for draft in drafts:
            outcome = draft if isinstance(draft, DomainError) else next(created)
            result = response.results.add()
            if isinstance(outcome, DomainError):
                result.error_code = to_status(outcome).code.name
                result.error_message = outcome.message
            else:
                result.customer.CopyFrom(to_pb(outcome))
        return response

    def GetCustomer(self, request, context):
        return to_pb(self.service.get(current_principal(), request.id))

    def LookupCustomer(self, request, context):
        return to_pb(self.service.lookup_by_phone(current_principal(), request.phone))

    def ListCustomers(self, request, context):
        customers, token = self.service.list(
            current_principal(), owner_id=request.owner_id, page_size=request.page_size,
            page_token=request.page_token)
        return pb.ListCustomersResponse(customers=[to_pb(c) for c in customers], next_page_token=token)

    def UpdateCustomer(self, request, context):
        paths = list(request.update_mask.paths)
        c = request.customer
        changes = {
            "display_name": c.display_name, "kind": _kind_from_pb(c.kind, "customer.kind"),
            "phones": list(c.phones), "email": c.email,
            "region": Region(c.region.province, c.region.city),
        }
        return to_pb(self.service.update(current_principal(), c.id, changes, paths, request.etag))

    def _draft(self, c: pb.Customer) -> domain.CustomerDraft:
        return domain.build_draft(
            display_name=c.display_name, kind=_kind_from_pb(c.kind, "kind"), phones=list(c.phones),
            email=c.email, region=Region(c.region.province, c.region.city), owner_id=c.owner_id,
            default_region=self.service.default_region)


def _kind_from_pb(kind: int, field: str) -> str:
    if kind == pb.CUSTOMER_KIND_UNSPECIFIED:
        return "person"
    if kind not in _KIND_FROM_PB:
        raise InvalidArgument(FieldViolation(field, "unknown customer kind"))
    return _KIND_FROM_PB[kind]


def _timestamp(dt) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(dt)
    return ts


def to_pb(c: Customer) -> pb.Customer:
    return pb.Customer(
        id=c.id, display_name=c.display_name, kind=_KIND_TO_PB[c.kind], phones=list(c.phones), email=c.email,
        region=pb.Region(province=c.region.province, city=c.region.city), owner_id=c.owner_id,
        team_id=c.team_id, create_time=_timestamp(c.created_at), update_time=_timestamp(c.updated_at),
        etag=c.etag,
    )

"""gRPC transport for the customer service: messages in, use cases, messages out."""

from __future__ import annotations

from datetime import datetime, timezone

from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import customer_service_pb2_grpc as pb_grpc
from crm_kit.errors import DomainError, FieldViolation, InvalidArgument
from crm_kit.grpc_errors import to_status
from crm_kit.grpc_server import current_principal

from crm_customer.customers.model import record, editing, access
from crm_customer.customers.model.record import Address, Anniversary, Consent, Customer, Preference, Region
from crm_customer.customers.model.listing import ListFilters
from crm_customer.customers.imports import CustomerImport, ImportResult, ImportRow
from crm_customer.customers.service import CustomerService
from crm_customer.customers.store import Change

_KIND_TO_PB = {"person": pb.CUSTOMER_KIND_PERSON, "company": pb.CUSTOMER_KIND_COMPANY}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
_VIEW_TO_PB = {access.FULL: pb.CUSTOMER_VIEW_FULL, access.CONTACT: pb.CUSTOMER_VIEW_CONTACT,
               access.POOL: pb.CUSTOMER_VIEW_POOL}


class CustomerServicer(pb_grpc.CustomerServiceServicer):
    def __init__(self, service: CustomerService, importer: CustomerImport):
        self.service = service
        self.importer = importer

    def _out(self, customer: Customer) -> pb.Customer:
        return customer_pb(self.service, current_principal(), customer)

    def CreateCustomer(self, request, context):
        return self._out(self.service.create(current_principal(), self._draft(request.customer)))

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
                result.customer.CopyFrom(to_pb(outcome, access.FULL))
        return response

    def GetCustomer(self, request, context):
        return self._out(self.service.get(current_principal(), request.id))

    def LookupCustomer(self, request, context):
        return self._out(self.service.lookup(current_principal(), phone=request.phone, email=request.email))

    def ListCustomers(self, request, context):
        violations: list[FieldViolation] = []
        times = {f"{name}.{bound}": _bound(request, name, bound, violations)
                 for name in ("create_time", "last_contact_time") for bound in ("start_time", "end_time")}
        if violations:
            raise InvalidArgument(violations)
        filters = ListFilters(
            owner_id=request.owner_id, pool=request.pool, province=request.province, city=request.city,
            level=request.level, stage=request.stage, tag=request.tag, name_prefix=request.name_prefix,
            created_from=times["create_time.start_time"], created_to=times["create_time.end_time"],
            contact_from=times["last_contact_time.start_time"], contact_to=times["last_contact_time.end_time"],
            order_by=request.order_by or "id")
        customers, token = self.service.list(current_principal(), filters, request.page_size, request.page_token)
        return pb.ListCustomersResponse(customers=[self._out(c) for c in customers], next_page_token=token)

    def StreamCustomers(self, request, context):
        for page in self.service.stream_all(current_principal(), request.page_size):
            yield pb.StreamCustomersResponse(customers=[to_pb(c, view) for c, view in page])

    def UpdateCustomer(self, request, context):
        paths = list(request.update_mask.paths)  # checked once, by the rule (editing.apply_update)
        values = {k: v for k, v in profile_values(request.customer).items() if k in paths}
        customer = self.service.update(current_principal(), request.customer.id, values, paths, request.etag)
        return self._out(customer)

    def ClaimCustomer(self, request, context):
        return self._out(self.service.claim(current_principal(), request.id))

    def ReleaseCustomer(self, request, context):
        return self._out(self.service.release(current_principal(), request.id, request.reason))

    def TransferCustomer(self, request, context):
        return self._out(self.service.transfer(current_principal(), request.id, request.to_owner_id,
                                               request.to_team_id, request.reason))

    def HandOverCustomers(self, request, context):
        moved, skipped = self.service.hand_over(current_principal(), request.from_owner_id,
                                                list(request.to_owner_ids), request.to_team_id, request.reason)
        return pb.HandOverCustomersResponse(moved_count=moved, skipped_ids=skipped)

    def ReleaseInactiveCustomers(self, request, context):
        return pb.ReleaseInactiveCustomersResponse(released_count=self.service.release_inactive(current_principal()))

    def ListOwnershipChanges(self, request, context):
        changes = self.service.ownership_changes(current_principal(), request.id)
        return pb.ListOwnershipChangesResponse(changes=[_change_pb(request.id, c) for c in changes])

    def ListReferrals(self, request, context):
        referred_by, referred = self.service.referrals(current_principal(), request.id)
        return pb.ListReferralsResponse(referred_by=referred_by, referred_ids=referred)

    def ExportCustomerData(self, request, context):
        data = struct_pb2.Struct()
        data.update(self.service.export_data(current_principal(), request.id))
        return pb.ExportCustomerDataResponse(data=data)

    def EraseCustomer(self, request, context):
        return self._out(self.service.erase(current_principal(), request.id, request.reason))

    def _draft(self, c: pb.Customer) -> record.CustomerDraft:
        return editing.build_draft(profile_values(c), c.owner_id, self.service.default_region)

    def ImportCustomers(self, request, context):
        rows: list = []
        for item in request.rows:
            paths = tuple(item.update_mask.paths)
            try:
                full = profile_values(item.customer)
                fields = {p.partition(".")[0] for p in paths}  # "region.city" reads the region
                rows.append(ImportRow(item.row_number, {f: full[f] for f in fields if f in full}, paths, item.owner_id))
            except DomainError as err:
                rows.append(ImportResult.failed(ImportRow(item.row_number, {}, paths), err))
        valid = [r for r in rows if isinstance(r, ImportRow)]
        done = iter(self.importer.import_rows(current_principal(), valid, request.match_on, request.dry_run))
        return pb.ImportCustomersResponse(results=[
            _import_result_pb(next(done) if isinstance(r, ImportRow) else r) for r in rows])


# --- messages <-> domain values ------------------------------------------------

def profile_values(c: pb.Customer) -> dict:
    """Every profile field of a message as domain values (unset -> the default)."""
    return {
        "display_name": c.display_name, "kind": _kind_from_pb(c.kind), "phones": list(c.phones),
        "emails": list(c.emails), "region": Region(c.region.province, c.region.city),
        "addresses": [Address(a.label, a.province, a.city, a.district, a.line, a.postal_code) for a in c.addresses],
        "type": c.type or "prospect", "level": c.level, "tags": list(c.tags), "source": c.source,
        "stage": c.stage or "new", "intent_notes": c.intent_notes,
        "preferences": [Preference(p.topic, p.note) for p in c.preferences],
        "birthday": _anniversary(c.birthday) if c.HasField("birthday") else None,
        "anniversaries": [_anniversary(a) for a in c.anniversaries],
        "consent_sms": Consent(c.consent_sms.state or "unknown"),
        "consent_email": Consent(c.consent_email.state or "unknown"),
        "referred_by": c.referred_by, "external_id": c.external_id,
    }


def _kind_from_pb(kind: int) -> str:
    if kind == pb.CUSTOMER_KIND_UNSPECIFIED:
        return "person"
    if kind not in _KIND_FROM_PB:
        raise InvalidArgument(FieldViolation("kind", "unknown customer kind"))
    return _KIND_FROM_PB[kind]


def _anniversary(a: pb.Anniversary) -> Anniversary:
    return Anniversary(a.label, a.calendar or "gregorian", a.month, a.day, a.year, a.leap_month)


def _anniversary_pb(a: Anniversary) -> pb.Anniversary:
    return pb.Anniversary(label=a.label, calendar=a.calendar, year=a.year, month=a.month, day=a.day,
                          leap_month=a.leap_month)


def _timestamp(dt: datetime | None) -> Timestamp | None:
    if dt is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(dt)
    return ts


def _bound(request, name: str, bound: str, violations: list[FieldViolation]) -> datetime | None:
    """`name.bound` (a time range's start_time or end_time) as a UTC datetime;
    a time outside what a Timestamp may hold is a violation naming the field."""
    if not request.HasField(name) or not getattr(request, name).HasField(bound):
        return None
    try:
        return getattr(getattr(request, name), bound).ToDatetime(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        violations.append(FieldViolation(f"{name}.{bound}", "is not a valid time"))
        return None


def _consent_pb(c: Consent) -> pb.Consent:
    return pb.Consent(state=c.state, change_time=_timestamp(c.changed_at))


def _change_pb(customer_id: str, c: Change) -> pb.OwnershipChange:
    return pb.OwnershipChange(customer_id=customer_id, action=c.action, from_owner_id=c.from_owner_id,
                              to_owner_id=c.to_owner_id, changed_by=c.changed_by,
                              change_time=_timestamp(c.changed_at), reason=c.reason)


def customer_pb(service: CustomerService, principal, customer: Customer) -> pb.Customer:
    """The message for a customer as `principal` may see it."""
    view = service.view_of(principal, customer)
    return to_pb(access.visible(customer, view), view)


def to_pb(c: Customer, view: str) -> pb.Customer:
    """The message for a customer already reduced to `view` (access.visible)."""
    p = c.profile
    return pb.Customer(
        id=c.id, display_name=p.display_name, kind=_KIND_TO_PB[p.kind], phones=list(p.phones), emails=list(p.emails),
        region=pb.Region(province=p.region.province, city=p.region.city),
        addresses=[pb.Address(label=a.label, province=a.province, city=a.city, district=a.district, line=a.line,
                              postal_code=a.postal_code) for a in p.addresses],
        type=p.type, level=p.level, tags=list(p.tags), source=p.source, stage=p.stage, intent_notes=p.intent_notes,
        preferences=[pb.Preference(topic=x.topic, note=x.note) for x in p.preferences],
        birthday=_anniversary_pb(p.birthday) if p.birthday else None,
        anniversaries=[_anniversary_pb(a) for a in p.anniversaries],
        consent_sms=_consent_pb(p.consent_sms) if view != access.POOL else None,
        consent_email=_consent_pb(p.consent_email) if view != access.POOL else None,
        referred_by=p.referred_by, external_id=p.external_id,
        owner_id=c.owner_id, team_id=c.team_id, create_time=_timestamp(c.created_at),
        update_time=_timestamp(c.updated_at), owned_since_time=_timestamp(c.owned_since),
        last_contact_time=_timestamp(c.last_contact_at), erase_time=_timestamp(c.erased_at),
        etag=c.etag, view=_VIEW_TO_PB[view],
        # The value grade is the owning team's business: not shown in the pool's reduced view.
        value_grade=c.value_grade if view != access.POOL else "",
        value_grade_year=c.value_grade_year if view != access.POOL else 0,
    )


_OUTCOME_TO_PB = {"created": pb.IMPORT_OUTCOME_CREATED, "updated": pb.IMPORT_OUTCOME_UPDATED,
                  "unchanged": pb.IMPORT_OUTCOME_UNCHANGED, "error": pb.IMPORT_OUTCOME_ERROR}


def _import_result_pb(r) -> pb.ImportCustomersResult:
    """One row's result (crm_customer.customers.imports.ImportResult) as a message."""
    out = pb.ImportCustomersResult(row_number=r.row_number, outcome=_OUTCOME_TO_PB[r.outcome],
                                   customer_id=r.customer_id)
    if r.error is not None:
        out.error_code = to_status(r.error).code.name
        out.error_message = r.error.message
        out.field_violations.extend(pb.ImportFieldViolation(field=v.field, description=v.description)
                                    for v in getattr(r.error, "violations", ()) if isinstance(v, FieldViolation))
        out.relation = getattr(r.error, "relation", "")
    return out

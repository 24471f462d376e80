"""gRPC transport for contracts: messages in, use cases, messages out."""

from __future__ import annotations

from crm.sales.v1 import contract_service_pb2 as pb
from crm.sales.v1 import contract_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal
from crm_kit.validation import collect

from crm_sales.contracts.model import Contract, ContractDraft, RenewalTerms
from crm_sales.contracts.service import ContractService
from crm_sales.wire import date_from_pb, date_pb, money_from_pb, money_pb, timestamp_pb

STATE_TO_PB = {"draft": pb.CONTRACT_STATE_DRAFT, "signed": pb.CONTRACT_STATE_SIGNED,
               "ended": pb.CONTRACT_STATE_ENDED, "terminated": pb.CONTRACT_STATE_TERMINATED}


class ContractServicer(pb_grpc.ContractServiceServicer):
    def __init__(self, service: ContractService):
        self.service = service

    def CreateContract(self, request, context):
        return self._to_pb(self.service.create(current_principal(), draft_from_pb(request.contract)))

    def GetContract(self, request, context):
        return self._to_pb(self.service.get(current_principal(), request.id))

    def SignContract(self, request, context):
        return self._to_pb(self.service.sign(current_principal(), request.id))

    def TerminateContract(self, request, context):
        return self._to_pb(self.service.terminate(current_principal(), request.id, request.reason))

    def ListCustomerContracts(self, request, context):
        page, token = self.service.list_for_customer(current_principal(), request.customer_id, request.page_size,
                                                     request.page_token)
        return pb.ListCustomerContractsResponse(contracts=[self._to_pb(c) for c in page], next_page_token=token)

    def ListExpiringContracts(self, request, context):
        found, window, truncated = self.service.list_expiring(current_principal(), request.within_days,
                                                              request.owner_id)
        return pb.ListExpiringContractsResponse(
            contracts=[pb.ExpiringContract(contract=self._to_pb(c), days_left=days,
                                           notice_deadline=date_pb(c.notice_deadline())) for c, days in found],
            within_days=window, truncated=truncated)

    def RunExpiryCheck(self, request, context):
        reminded, renewed = self.service.run_expiry_check(current_principal())
        return pb.RunExpiryCheckResponse(reminded_count=reminded, renewed_count=renewed)

    def _to_pb(self, c: Contract) -> pb.Contract:
        return to_pb(c, c.state_on(self.service.today()))


def draft_from_pb(c: pb.Contract) -> ContractDraft:
    """Dates that are no calendar day are refused here, naming the field; the rest is the model's."""
    violations = []
    start = collect(violations, date_from_pb, c.start_date, "start_date") if c.HasField("start_date") else None
    end = collect(violations, date_from_pb, c.end_date, "end_date") if c.HasField("end_date") else None
    if start is None and not c.HasField("start_date"):
        violations.append(_required("start_date"))
    if end is None and not c.HasField("end_date"):
        violations.append(_required("end_date"))
    if not c.HasField("value"):
        violations.append(_required("value"))
    if violations:
        raise InvalidArgument(violations)
    return ContractDraft(customer_id=c.customer_id, title=c.title, start=start, end=end,
                         value=money_from_pb(c.value), order_ids=tuple(c.order_ids),
                         renewal=RenewalTerms(c.renewal.auto_renew, c.renewal.renewal_months, c.renewal.notice_days))


def _required(field_name: str) -> FieldViolation:
    return FieldViolation(field_name, "is required")


def to_pb(c: Contract, state: str) -> pb.Contract:
    msg = pb.Contract(
        id=c.id, customer_id=c.customer_id, owner_id=c.owner_id, team_id=c.team_id, title=c.title,
        start_date=date_pb(c.start), end_date=date_pb(c.end), value=money_pb(c.value), order_ids=list(c.order_ids),
        state=STATE_TO_PB[state],
        renewal=pb.RenewalTerms(auto_renew=c.renewal.auto_renew, renewal_months=c.renewal.renewal_months,
                                notice_days=c.renewal.notice_days),
        create_time=timestamp_pb(c.created_at), created_by=c.created_by, signed_by=c.signed_by,
        termination_reason=c.termination_reason, renewal_opportunity_id=c.renewal_opportunity_id,
        renewal_count=c.renewal_count, revision=c.revision, personal_data_erased=c.erased_at is not None)
    if c.signed_at is not None:
        msg.sign_time.CopyFrom(timestamp_pb(c.signed_at))
    if c.terminated_at is not None:
        msg.terminate_time.CopyFrom(timestamp_pb(c.terminated_at))
    if c.reminded_end is not None:
        msg.reminded_end_date.CopyFrom(date_pb(c.reminded_end))
    return msg

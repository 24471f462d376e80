"""/api/v1/contracts: REST in, the sales service's ContractService gRPC out."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from crm.common.v1 import common_pb2
from crm.sales.v1 import contract_service_pb2 as pb
from crm.sales.v1 import contract_service_pb2_grpc as pb_grpc

from crm_gateway.fields import NEXT_PAGE, Body, DateIn, Id, NullableTime, Out, PageSize, PageToken, Query, Time, \
    text
from crm_gateway.interactions import Money, MoneyIn
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("sales_contracts", __name__, url_prefix="/api/v1/contracts")

# The service decides per customer (a rep's own, a manager's team): these are the roles that may ask at all.
READ = Policy(("admin", "manager", "rep", "agent", "finance", "integration"), scope="sales:read")
WRITE = Policy(("admin", "manager", "rep", "integration"), scope="sales:write")
ADMIN = Policy(("admin",))
STATES = ("draft", "signed", "ended", "terminated")
_STATE_FROM_PB = {pb.ContractState.Value(f"CONTRACT_STATE_{s.upper()}"): s for s in STATES}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NOT_FOUND = {404: "No such contract, or not one you may see."}
_STATE = {409: "Not in a state that allows this (e.g. terminating a draft)."}


def _date_pb(value: str) -> common_pb2.Date:
    # A well-formed but impossible day (2026-02-30) is the service's to refuse, naming the field.
    year, month, day = map(int, _DATE.match(value).groups())
    return common_pb2.Date(year=year, month=month, day=day)


def _date_json(d: common_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


# --- request bodies and queries ----------------------------------------------------------

class RenewalIn(Body):
    auto_renew: Annotated[bool, Field(description="Renews by itself at the end of the term unless notice is "
                                                  "given.")] = False
    renewal_months: Annotated[int, Field(ge=0, le=120, description="Length of each renewed term; required (1 or "
                                                                   "more) with auto_renew.")] = 0
    notice_days: Annotated[int, Field(ge=0, le=365, description="Days before the end by which notice must be "
                                                                "given.")] = 0


class ContractCreate(Body):
    customer_id: Id
    title: text(200, 1, description="What the contract is about; shown in lists, never sent in events.")
    start_date: Annotated[DateIn, Field(description="First day of the term.")]
    end_date: Annotated[DateIn, Field(description="Last day of the term; not before start_date.")]
    value: Annotated[MoneyIn, Field(description="What the contract is worth over its term (more than zero).")]
    order_ids: Annotated[list[Id], Field(max_length=100, description="Orders of the same customer it covers.")] = []
    renewal: RenewalIn = RenewalIn()


class Termination(Body):
    reason: text(500, 1, description="Why the contract ends early.")


class ContractPath(BaseModel):
    contract_id: Id


class CustomerContractsQuery(Query):
    customer_id: Id
    page_size: PageSize = 50
    page_token: PageToken = ""


class ExpiringQuery(Query):
    within_days: Annotated[int, Field(ge=0, le=366, description="Ending within this many days; the configured "
                                                                "reminder window (SALES_CONTRACT_REMINDER_DAYS) "
                                                                "when 0 or left out.")] = 0
    owner_id: text(128, description="Only this rep's (managers, admins; reps may name only themselves).") = ""


# --- answers -----------------------------------------------------------------------------

class Renewal(Out):
    auto_renew: bool
    renewal_months: int
    notice_days: int


class Contract(Out):
    id: str
    customer_id: str
    owner_id: str
    team_id: str
    title: str
    start_date: Annotated[str, Field(json_schema_extra={"format": "date"})]
    end_date: Annotated[str, Field(json_schema_extra={"format": "date"})]
    value: Money
    order_ids: list[str]
    state: Literal["draft", "signed", "ended", "terminated"]
    renewal: Renewal
    created_at: Time
    created_by: str
    signed_at: NullableTime
    signed_by: str
    terminated_at: NullableTime
    termination_reason: str
    reminded_end_date: Annotated[str | None, Field(json_schema_extra={"format": "date"},
                                                   description="The end date a reminder went out for.")]
    renewal_opportunity_id: str
    renewal_count: Annotated[int, Field(description="Times the term renewed automatically.")]
    revision: int
    personal_data_erased: Annotated[bool, Field(description="The customer was erased: title and termination "
                                                            "reason are gone; term and value stay.")]

    @staticmethod
    def from_pb(c: pb.Contract) -> dict:
        return {
            "id": c.id, "customer_id": c.customer_id, "owner_id": c.owner_id, "team_id": c.team_id,
            "title": c.title, "start_date": _date_json(c.start_date), "end_date": _date_json(c.end_date),
            "value": {"minor_units": c.value.minor_units, "currency_code": c.value.currency_code},
            "order_ids": list(c.order_ids), "state": _STATE_FROM_PB.get(c.state, "draft"),
            "renewal": {"auto_renew": c.renewal.auto_renew, "renewal_months": c.renewal.renewal_months,
                        "notice_days": c.renewal.notice_days},
            "created_at": c.create_time.ToJsonString(), "created_by": c.created_by,
            "signed_at": c.sign_time.ToJsonString() if c.HasField("sign_time") else None, "signed_by": c.signed_by,
            "terminated_at": c.terminate_time.ToJsonString() if c.HasField("terminate_time") else None,
            "termination_reason": c.termination_reason,
            "reminded_end_date": _date_json(c.reminded_end_date) if c.HasField("reminded_end_date") else None,
            "renewal_opportunity_id": c.renewal_opportunity_id, "renewal_count": c.renewal_count,
            "revision": c.revision, "personal_data_erased": c.personal_data_erased,
        }


class ContractPage(Out):
    items: Annotated[list[Contract], Field(description="In the order they were drafted.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(page: pb.ListCustomerContractsResponse) -> dict:
        return {"items": [Contract.from_pb(c) for c in page.contracts], "next_page_token": page.next_page_token}


class ExpiringContract(Out):
    contract: Contract
    days_left: Annotated[int, Field(description="Days from today to its last day (0: ends today).")]
    notice_deadline: Annotated[str, Field(json_schema_extra={"format": "date"},
                                          description="The last day notice can be given.")]


class ExpiringContracts(Out):
    items: Annotated[list[ExpiringContract], Field(description="Soonest first.")]
    within_days: int
    truncated: Annotated[bool, Field(description="More end in the window than one answer holds.")]

    @staticmethod
    def from_pb(r: pb.ListExpiringContractsResponse) -> dict:
        return {"items": [{"contract": Contract.from_pb(e.contract), "days_left": e.days_left,
                           "notice_deadline": _date_json(e.notice_deadline)} for e in r.contracts],
                "within_days": r.within_days, "truncated": r.truncated}


class ExpiryCheck(Out):
    reminded_count: int
    renewed_count: int

    @staticmethod
    def from_pb(r: pb.RunExpiryCheckResponse) -> dict:
        return {"reminded_count": r.reminded_count, "renewed_count": r.renewed_count}


def stub() -> pb_grpc.ContractServiceStub:
    return g.downstream.stub("sales", pb_grpc.ContractServiceStub)


# --- routes --------------------------------------------------------------------------------

@route(bp, "POST", "", "createContract", "Draft a contract with a customer", allow=WRITE, body=ContractCreate,
       ok=Ok(Contract, "The draft.", 201), service="sales",
       errors={404: "No such customer, or not one you may see."},
       description="Money is integer minor units plus an ISO 4217 code. Linked orders must be the same customer's. "
                   "A contract ending before it starts is refused (422).")
def create_contract(a: Args):
    b = a.body
    return stub().CreateContract(pb.CreateContractRequest(contract=pb.Contract(
        customer_id=b.customer_id, title=b.title, start_date=_date_pb(b.start_date), end_date=_date_pb(b.end_date),
        value=common_pb2.Money(minor_units=b.value.minor_units, currency_code=b.value.currency_code),
        order_ids=b.order_ids, renewal=pb.RenewalTerms(auto_renew=b.renewal.auto_renew,
                                                       renewal_months=b.renewal.renewal_months,
                                                       notice_days=b.renewal.notice_days))))


@route(bp, "GET", "", "listCustomerContracts", "A customer's contracts", allow=READ, query=CustomerContractsQuery,
       ok=Ok(ContractPage, "A page of contracts."), service="sales",
       errors={404: "No such customer, or not one you may see.", 400: "Bad query parameter or page token."})
def list_customer_contracts(a: Args):
    q = a.query
    return stub().ListCustomerContracts(pb.ListCustomerContractsRequest(
        customer_id=q.customer_id, page_size=q.page_size, page_token=q.page_token))


@route(bp, "GET", "/expiring", "listExpiringContracts", "Signed contracts ending soon", allow=READ,
       query=ExpiringQuery, ok=Ok(ExpiringContracts, "Soonest first."), service="sales",
       description="A rep's own, a manager's team's, everyone's for admins, finance and agents.")
def list_expiring_contracts(a: Args):
    return stub().ListExpiringContracts(pb.ListExpiringContractsRequest(
        within_days=a.query.within_days, owner_id=a.query.owner_id), timeout=g.downstream.settings.list_timeout_seconds)


@route(bp, "POST", "/expiry-check", "runContractExpiryCheck", "Run the contract expiry check now", allow=ADMIN,
       ok=Ok(ExpiryCheck, "What this run did."), service="sales",
       description="Reminders (event contract.expiring) and renewal opportunities for contracts ending within the "
                   "reminder window, once per contract and end date; auto-renewals of contracts whose term is over. "
                   "The service also runs it on a schedule. Idempotent.")
def run_expiry_check(a: Args):
    # It walks a month of contracts or more: the longer deadline the lists get.
    return stub().RunExpiryCheck(pb.RunExpiryCheckRequest(), timeout=g.downstream.settings.list_timeout_seconds)


@route(bp, "GET", "/<contract_id>", "getContract", "Get a contract", allow=READ, path=ContractPath,
       ok=Ok(Contract, "The contract."), errors=_NOT_FOUND, service="sales")
def get_contract(a: Args):
    return stub().GetContract(pb.GetContractRequest(id=a.path.contract_id))


@route(bp, "POST", "/<contract_id>/sign", "signContract", "Sign a draft contract", allow=WRITE, path=ContractPath,
       ok=Ok(Contract, "The signed contract."), errors={**_NOT_FOUND, **_STATE}, service="sales",
       description="Opens a payment plan for its value. Signing a signed contract again changes nothing.")
def sign_contract(a: Args):
    return stub().SignContract(pb.SignContractRequest(id=a.path.contract_id))


@route(bp, "POST", "/<contract_id>/terminate", "terminateContract", "End a signed contract early", allow=WRITE,
       path=ContractPath, body=Termination, ok=Ok(Contract, "The terminated contract."),
       errors={**_NOT_FOUND, **_STATE}, service="sales")
def terminate_contract(a: Args):
    return stub().TerminateContract(pb.TerminateContractRequest(id=a.path.contract_id, reason=a.body.reason))

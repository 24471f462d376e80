"""Edges of the customer service's gRPC inputs: random ids, out-of-range
times, not-found answers that do not echo what was sent, and the etag an
update must carry."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import interaction_service_pb2 as ipb
from crm.customer.v1 import visit_service_pb2 as vpb
from crm_customer.customers.model import record
from crm_kit.grpc_errors import details_of
from tests.service.support import as_in, create

as_ = as_in("team-edges")
REP = as_("rep-edges")


def _error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def _fields(err: grpc.RpcError) -> list[str]:
    return [v.field for d in details_of(err) for v in getattr(d, "field_violations", [])]


def test_new_customers_and_visits_get_random_ids_of_120_bits(stub, visits, phone):
    from datetime import datetime, timedelta, timezone
    from tests.service.support import ts

    made = [create(stub, phone(), REP) for _ in range(3)]
    for c in made:
        assert record.CUSTOMER_ID.match(c.id) and len(c.id) == len("cus_") + 24
        assert stub.GetCustomer(pb.GetCustomerRequest(id=c.id), metadata=REP).id == c.id
    assert len({c.id[4:12] for c in made}) == 3  # no shared time prefix
    visit = visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
        customer_id=made[0].id, schedule_time=ts(datetime.now(timezone.utc) + timedelta(days=1)), purpose="回访")),
        metadata=REP)
    assert visit.id.startswith("vis_") and len(visit.id) == len("vis_") + 24
    assert visits.GetVisit(vpb.GetVisitRequest(id=visit.id), metadata=REP).id == visit.id


@pytest.mark.parametrize("range_field", ["create_time", "last_contact_time"])
@pytest.mark.parametrize("bound", ["start_time", "end_time"])
@pytest.mark.parametrize("seconds,nanos", [(10**12, 0), (-10**12, 0), (0, -1)])
def test_an_out_of_range_time_in_list_filters_is_invalid_argument_naming_it(stub, range_field, bound, seconds,
                                                                             nanos):
    request = pb.ListCustomersRequest()
    getattr(getattr(request, range_field), bound).CopyFrom(Timestamp(seconds=seconds, nanos=nanos))
    err = _error(lambda: stub.ListCustomers(request, metadata=REP))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _fields(err) == [f"{range_field}.{bound}"]


def test_out_of_range_times_of_interactions_and_visits_are_invalid_argument(stub, log, visits, phone):
    cid = create(stub, phone(), REP).id
    huge = Timestamp(seconds=10**12)
    err = _error(lambda: log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=cid, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_OUTBOUND, summary="x",
        occur_time=huge)), metadata=REP))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "occurred_at" in _fields(err)
    err = _error(lambda: log.RecordInteraction(ipb.RecordInteractionRequest(customer_id=cid, interaction=ipb.Interaction(
        channel=ipb.INTERACTION_CHANNEL_CALL, direction=ipb.INTERACTION_DIRECTION_OUTBOUND, summary="x",
        next_follow_up_date=common_pb2.Date(year=10**6, month=1, day=1))), metadata=REP))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "next_follow_up" in _fields(err)
    err = _error(lambda: visits.ScheduleVisit(vpb.ScheduleVisitRequest(visit=vpb.Visit(
        customer_id=cid, schedule_time=huge, purpose="x")), metadata=REP))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "scheduled_at" in _fields(err)
    err = _error(lambda: visits.ListVisits(vpb.ListVisitsRequest(due_before=Timestamp(seconds=-10**12)), metadata=REP))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and _fields(err) == ["due_before"]


def _resource_names(err: grpc.RpcError) -> list[str]:
    return [d.resource_name for d in details_of(err) if hasattr(d, "resource_name")]


def test_not_found_never_echoes_an_implausible_id(stub, visits):
    long_text = "cus_" + "x" * 100_000
    for call in (lambda i: stub.GetCustomer(pb.GetCustomerRequest(id=i), metadata=REP),
                 lambda i: stub.ClaimCustomer(pb.ClaimCustomerRequest(id=i), metadata=REP),
                 lambda i: stub.ListOwnershipChanges(pb.ListOwnershipChangesRequest(id=i), metadata=REP)):
        err = _error(lambda: call(long_text))
        assert err.code() == grpc.StatusCode.NOT_FOUND
        assert _resource_names(err) in ([], [""]) and "xxxx" not in (err.details() or "")
    err = _error(lambda: visits.GetVisit(vpb.GetVisitRequest(id="vis_" + "<script>" * 5000), metadata=REP))
    assert err.code() == grpc.StatusCode.NOT_FOUND and _resource_names(err) in ([], [""])
    assert "script" not in (err.details() or "")
    # A plausible id of a customer that does not exist is still named.
    plausible = "cus_" + "z" * 24
    err = _error(lambda: stub.GetCustomer(pb.GetCustomerRequest(id=plausible), metadata=REP))
    assert err.code() == grpc.StatusCode.NOT_FOUND and _resource_names(err) == [plausible]


def test_an_update_without_an_etag_is_refused_and_changes_nothing(stub, phone):
    made = create(stub, phone(), REP, display_name="原名")
    mask = field_mask_pb2.FieldMask(paths=["display_name"])
    err = _error(lambda: stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, display_name="无条件覆盖"), update_mask=mask), metadata=REP))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and _fields(err) == ["etag"]
    assert stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=REP).display_name == "原名"
    changed = stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, display_name="新名"), update_mask=mask, etag=made.etag), metadata=REP)
    assert changed.display_name == "新名" and changed.etag != made.etag
    stale = _error(lambda: stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, display_name="旧读"), update_mask=mask, etag=made.etag), metadata=REP))
    assert stale.code() == grpc.StatusCode.FAILED_PRECONDITION

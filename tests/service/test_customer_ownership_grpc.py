"""Ownership over real gRPC: the public pool (claim, release, the protection
period job), transfers and hand-overs by managers, the audit trail,
referrals, and privacy (export, erase)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from prometheus_client import REGISTRY

from crm.customer.v1 import customer_service_pb2 as pb
from crm_kit.grpc_errors import details_of
from tests.service.support import as_, code_of, create, race

ADMIN = as_("root", "admin")
MANAGER = as_("boss", "manager")


def rep() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def get(stub, cid, who=None):
    return stub.GetCustomer(pb.GetCustomerRequest(id=cid), metadata=who or ADMIN)


def released(stub, cid, who):
    return stub.ReleaseCustomer(pb.ReleaseCustomerRequest(id=cid, reason="不再跟进"), metadata=who)


def changes(stub, cid):
    return [(c.action, c.from_owner_id, c.to_owner_id, c.changed_by, c.reason)
            for c in stub.ListOwnershipChanges(pb.ListOwnershipChangesRequest(id=cid), metadata=ADMIN).changes]


def test_release_then_claim_moves_the_customer_through_the_pool_with_an_audit_trail(stub, phone):
    alice, bob = rep(), rep()
    made = create(stub, phone(), as_(alice), emails=[f"{uuid.uuid4().hex[:8]}@example.com"])
    pooled = released(stub, made.id, as_(alice))
    assert pooled.owner_id == "" and pooled.owned_since_time.ToDatetime() >= made.owned_since_time.ToDatetime()
    # Any rep sees a pool customer, but not how to reach them, until claiming it.
    seen = get(stub, made.id, as_(bob))
    assert seen.view == pb.CUSTOMER_VIEW_POOL and not seen.phones and not seen.emails
    assert code_of(lambda: stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, display_name="x"), update_mask={"paths": ["display_name"]},
        etag=seen.etag), metadata=as_(bob))) == grpc.StatusCode.FAILED_PRECONDITION
    claimed = stub.ClaimCustomer(pb.ClaimCustomerRequest(id=made.id), metadata=as_(bob))
    assert claimed.owner_id == bob and claimed.view == pb.CUSTOMER_VIEW_FULL and list(claimed.phones) == list(made.phones)
    assert code_of(lambda: get(stub, made.id, as_(alice))) == grpc.StatusCode.NOT_FOUND
    when = [c.change_time.ToDatetime() for c in stub.ListOwnershipChanges(
        pb.ListOwnershipChangesRequest(id=made.id), metadata=as_(bob)).changes]
    assert when == sorted(when)
    assert changes(stub, made.id) == [("release", alice, "", alice, "不再跟进"), ("claim", "", bob, bob, "")]


def test_an_owned_customer_cannot_be_claimed_and_a_pool_duplicate_says_so(stub, phone):
    alice, bob = rep(), rep()
    number = phone()
    made = create(stub, number, as_(alice))
    assert code_of(lambda: stub.ClaimCustomer(pb.ClaimCustomerRequest(id=made.id), metadata=as_(bob))) == \
        grpc.StatusCode.NOT_FOUND  # another rep's customer: not even its existence
    assert code_of(lambda: stub.ClaimCustomer(pb.ClaimCustomerRequest(id=made.id), metadata=MANAGER)) == \
        grpc.StatusCode.FAILED_PRECONDITION
    released(stub, made.id, as_(alice))
    with pytest.raises(grpc.RpcError) as err:
        create(stub, number, as_(bob))
    assert details_of(err.value)[0].metadata["relation"] == "public_pool"


def test_twenty_reps_claiming_one_pool_customer_leave_exactly_one_owner(stub, phone):
    made = create(stub, phone(), as_(rep()))
    released(stub, made.id, MANAGER)
    reps = [rep() for _ in range(20)]
    outcomes = race(20, lambda i: stub.ClaimCustomer(pb.ClaimCustomerRequest(id=made.id), metadata=as_(reps[i])).owner_id)
    winners = [o for o in outcomes if isinstance(o, str)]
    assert len(winners) == 1 and get(stub, made.id).owner_id == winners[0]
    assert [c[0] for c in changes(stub, made.id)] == ["release", "claim"]


def test_transfer_is_for_managers_of_the_team(stub, phone):
    alice, bob = rep(), rep()
    made = create(stub, phone(), as_(alice))
    request = pb.TransferCustomerRequest(id=made.id, to_owner_id=bob, reason="区域调整")
    assert code_of(lambda: stub.TransferCustomer(request, metadata=as_(alice))) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: stub.TransferCustomer(request, metadata=as_("boss-w", "manager", team="team-west"))) == \
        grpc.StatusCode.NOT_FOUND
    moved = stub.TransferCustomer(request, metadata=MANAGER)
    assert (moved.owner_id, moved.team_id) == (bob, "team-1")
    assert changes(stub, made.id) == [("transfer", alice, bob, "boss", "区域调整")]


def test_hand_over_spreads_a_leaving_reps_customers_and_is_safe_to_repeat(stub, phone):
    leaver, bob, carol = rep(), rep(), rep()
    ids = [create(stub, phone(), as_(leaver)).id for _ in range(5)]
    request = pb.HandOverCustomersRequest(from_owner_id=leaver, to_owner_ids=[bob, carol], reason="离职交接")
    assert code_of(lambda: stub.HandOverCustomers(request, metadata=as_(bob))) == grpc.StatusCode.PERMISSION_DENIED
    result = stub.HandOverCustomers(request, metadata=MANAGER)
    assert (result.moved_count, list(result.skipped_ids)) == (5, [])
    owners = [get(stub, cid).owner_id for cid in ids]
    assert sorted(owners) == sorted([bob, carol, bob, carol, bob])
    assert stub.HandOverCustomers(request, metadata=MANAGER).moved_count == 0
    assert all(changes(stub, cid) == [("hand_over", leaver, owner, "boss", "离职交接")] for cid, owner in zip(ids, owners))
    mine = stub.ListCustomers(pb.ListCustomersRequest(), metadata=as_(leaver))
    assert list(mine.customers) == []


def test_hand_over_refuses_bad_requests(stub):
    for request in (pb.HandOverCustomersRequest(from_owner_id="rep-x", to_owner_ids=[]),
                    pb.HandOverCustomersRequest(from_owner_id="rep-x", to_owner_ids=["rep-x"]),
                    pb.HandOverCustomersRequest(from_owner_id="", to_owner_ids=["rep-y"])):
        assert code_of(lambda: stub.HandOverCustomers(request, metadata=MANAGER)) == grpc.StatusCode.INVALID_ARGUMENT


def _pool_released_total() -> float:
    return REGISTRY.get_sample_value("crm_customer_pool_released_total") or 0.0


def test_customers_nobody_contacted_for_the_protection_period_return_to_the_pool(stub, phone, customer_db):
    alice = rep()
    idle = create(stub, phone(), as_(alice))
    fresh = create(stub, phone(), as_(alice))
    contacted = create(stub, phone(), as_(alice))
    long_ago = datetime.now(timezone.utc) - timedelta(days=31)
    # 31 days pass for two of them; one was called yesterday.
    for cid in (idle.id, contacted.id):
        customer_db.customers.update_one({"_id": cid}, {"$set": {"owned_since": long_ago, "created_at": long_ago}})
    customer_db.customers.update_one({"_id": contacted.id},
                                     {"$set": {"last_contact_at": datetime.now(timezone.utc) - timedelta(days=1)}})
    assert code_of(lambda: stub.ReleaseInactiveCustomers(pb.ReleaseInactiveCustomersRequest(), metadata=MANAGER)) == \
        grpc.StatusCode.PERMISSION_DENIED
    before = _pool_released_total()
    first = stub.ReleaseInactiveCustomers(pb.ReleaseInactiveCustomersRequest(), metadata=ADMIN)
    assert first.released_count >= 1 and _pool_released_total() - before == first.released_count
    assert get(stub, idle.id).owner_id == ""
    assert get(stub, fresh.id).owner_id == alice and get(stub, contacted.id).owner_id == alice
    assert changes(stub, idle.id) == [("protection_expired", alice, "", "system", "no interaction for 30 days")]
    again = stub.ReleaseInactiveCustomers(pb.ReleaseInactiveCustomersRequest(), metadata=ADMIN)
    assert again.released_count == 0
    assert len(changes(stub, idle.id)) == 1


def test_referrals_are_listed_both_ways_and_survive_ownership_changes(stub, phone):
    alice = rep()
    referrer = create(stub, phone(), as_(alice), display_name="老客户王")
    friends = [create(stub, phone(), as_(alice), referred_by=referrer.id).id for _ in range(2)]
    both = stub.ListReferrals(pb.ListReferralsRequest(id=referrer.id), metadata=as_(alice))
    assert (both.referred_by, sorted(both.referred_ids)) == ("", sorted(friends))
    stub.TransferCustomer(pb.TransferCustomerRequest(id=friends[0], to_owner_id=rep()), metadata=MANAGER)
    back = stub.ListReferrals(pb.ListReferralsRequest(id=friends[0]), metadata=ADMIN)
    assert back.referred_by == referrer.id
    assert sorted(stub.ListReferrals(pb.ListReferralsRequest(id=referrer.id), metadata=ADMIN).referred_ids) == \
        sorted(friends)
    assert code_of(lambda: stub.ListReferrals(pb.ListReferralsRequest(id=referrer.id), metadata=as_(rep()))) == \
        grpc.StatusCode.NOT_FOUND


def test_export_holds_everything_and_only_admins_may_export(stub, phone):
    alice = rep()
    made = create(stub, phone(), as_(alice), display_name="隐私测试", preferences=[pb.Preference(note="靠窗")])
    released(stub, made.id, as_(alice))
    assert code_of(lambda: stub.ExportCustomerData(pb.ExportCustomerDataRequest(id=made.id), metadata=MANAGER)) == \
        grpc.StatusCode.PERMISSION_DENIED
    data = stub.ExportCustomerData(pb.ExportCustomerDataRequest(id=made.id), metadata=ADMIN).data
    assert data["customer"]["display_name"] == "隐私测试"
    assert data["customer"]["phones"] == list(made.phones)
    assert data["customer"]["preferences"][0]["note"] == "靠窗"
    assert [c["action"] for c in data["ownership_changes"]] == ["release"]


def test_erase_removes_personal_data_frees_keys_keeps_the_id_and_is_idempotent(stub, phone, customer_db):
    alice = rep()
    number = phone()
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    made = create(stub, number, as_(alice), display_name="要删除的人", emails=[email],
                  birthday=pb.Anniversary(calendar="gregorian", year=1988, month=3, day=8))
    stub.UpdateCustomer(pb.UpdateCustomerRequest(customer=pb.Customer(id=made.id, intent_notes="私人备注"),
                                                 update_mask={"paths": ["intent_notes"]}, etag=made.etag),
                        metadata=as_(alice))
    assert code_of(lambda: stub.EraseCustomer(pb.EraseCustomerRequest(id=made.id), metadata=as_(alice))) == \
        grpc.StatusCode.PERMISSION_DENIED
    erased = stub.EraseCustomer(pb.EraseCustomerRequest(id=made.id, reason="GDPR request 42"), metadata=ADMIN)
    assert erased.id == made.id and erased.HasField("erase_time")
    assert not erased.phones and not erased.emails and not erased.HasField("birthday") and erased.owner_id == ""
    # Nothing personal is left anywhere in this service's database.
    leftovers = [doc for name in ("customers", "customer_keys", "customer_versions")
                 for doc in customer_db[name].find({}) if made.id in str(doc)]
    assert leftovers and not any(x in str(doc) for doc in leftovers for x in ("要删除的人", number, email, "私人备注"))
    # Keys are free, lookups find nothing, lists skip it, a second erase changes nothing.
    assert code_of(lambda: stub.LookupCustomer(pb.LookupCustomerRequest(phone=number), metadata=ADMIN)) == \
        grpc.StatusCode.NOT_FOUND
    assert create(stub, number, as_(rep()), emails=[email]).id != made.id
    again = stub.EraseCustomer(pb.EraseCustomerRequest(id=made.id), metadata=ADMIN)
    assert again.etag == erased.etag
    assert code_of(lambda: get(stub, made.id)) == grpc.StatusCode.NOT_FOUND
    audit = stub.ExportCustomerData(pb.ExportCustomerDataRequest(id=made.id), metadata=ADMIN).data["ownership_changes"]
    assert [(c["action"], c["from_owner_id"], c["changed_by"], c["reason"]) for c in audit] == \
        [("erase", alice, "root", "GDPR request 42")]

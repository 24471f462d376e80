"""The customer service over real gRPC, backed by real FerretDB: what other
enterprise systems (and the gateway) rely on, roles enforced in the service."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from crm.customer.v1 import customer_service_pb2 as pb
from crm_kit.grpc_errors import details_of
from tests.service.support import as_, code_of, create, race


def test_health_and_reflection_are_served(channel):
    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service="crm.customer.v1.CustomerService")).status
    assert status == health_pb2.HealthCheckResponse.SERVING
    reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
    answer = next(reflect.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in answer.list_services_response.service}
    assert "crm.customer.v1.CustomerService" in names


def test_calls_without_a_valid_token_are_unauthenticated(stub):
    assert code_of(lambda: stub.GetCustomer(pb.GetCustomerRequest(id="cus_x"))) == grpc.StatusCode.UNAUTHENTICATED
    bad = [("authorization", "Bearer nonsense")]
    assert code_of(lambda: stub.GetCustomer(pb.GetCustomerRequest(id="cus_x"), metadata=bad)) == \
        grpc.StatusCode.UNAUTHENTICATED


def test_create_normalizes_and_owner_is_the_caller(stub, phone):
    number = phone()
    national = number.removeprefix("+86")
    made = create(stub, f"{national[:3]} {national[3:7]} {national[7:]}", emails=[f"Li.Lei.{national}@Example.COM"],
                  region=pb.Region(province="浙江", city="杭州"))
    assert list(made.phones) == [number]
    assert list(made.emails) == [f"Li.Lei.{national}@example.com"]
    assert made.owner_id == "rep-a"
    assert made.etag == "1"
    assert stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_()).display_name == "王小明"


def test_lookup_by_phone_in_any_notation(stub, phone):
    number = phone()
    made = create(stub, number)
    found = stub.LookupCustomer(pb.LookupCustomerRequest(phone="0086 " + number[3:]), metadata=as_())
    assert found.id == made.id


def test_another_reps_customer_is_not_found_over_grpc(stub, phone):
    number = phone()
    made = create(stub, number)
    other = as_("rep-b")
    assert code_of(lambda: stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=other)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: stub.LookupCustomer(pb.LookupCustomerRequest(phone=number), metadata=other)) == \
        grpc.StatusCode.NOT_FOUND
    change = pb.UpdateCustomerRequest(customer=pb.Customer(id=made.id, display_name="hijack"),
                                      update_mask=field_mask_pb2.FieldMask(paths=["display_name"]), etag=made.etag)
    assert code_of(lambda: stub.UpdateCustomer(change, metadata=other)) == grpc.StatusCode.NOT_FOUND
    assert stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_("boss", "manager")).id == made.id


def test_roles_without_write_rights_cannot_create(stub, phone):
    for who in (as_("agent-1", "agent"), as_("fin-1", "finance"),
                as_("erp", "integration", scopes="customers:read")):
        assert code_of(lambda: create(stub, phone(), who)) == grpc.StatusCode.PERMISSION_DENIED


def test_rep_cannot_create_for_another_rep_but_manager_can(stub, phone):
    assert code_of(lambda: create(stub, phone(), owner_id="rep-b")) == grpc.StatusCode.PERMISSION_DENIED
    assert create(stub, phone(), as_("boss", "manager"), owner_id="rep-b").owner_id == "rep-b"


def test_duplicate_phone_says_whose_without_details(stub, phone):
    number = phone()
    create(stub, number)
    with pytest.raises(grpc.RpcError) as mine:
        create(stub, number, display_name="again")
    assert mine.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert details_of(mine.value)[0].metadata["relation"] == "yours"
    with pytest.raises(grpc.RpcError) as theirs:
        create(stub, number, as_("rep-b"))
    info = details_of(theirs.value)[0]
    assert info.metadata["relation"] == "another_owner"
    assert "rep-a" not in theirs.value.details() and "王小明" not in theirs.value.details()


def test_twenty_concurrent_creates_of_one_phone_make_one_customer(stub, phone, customer_db):
    number = phone()
    who = [as_("rep-a"), as_("rep-b")]

    outcomes = race(20, lambda i: create(stub, number, who[i % 2], display_name=f"racer {i}").id)
    created = [o for o in outcomes if isinstance(o, str)]
    assert len(created) == 1
    assert all(o == grpc.StatusCode.ALREADY_EXISTS for o in outcomes if not isinstance(o, str))
    assert customer_db.customers.count_documents({"phones": number}) == 1


def test_invalid_input_is_refused_with_field_violations_and_nothing_written(stub, customer_db):
    before = customer_db.customers.count_documents({})
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateCustomer(pb.CreateCustomerRequest(customer=pb.Customer(
            display_name="x" * 201, phones=["12345"], emails=["nope"])), metadata=as_())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in details_of(err.value)[0].field_violations}
    assert fields == {"display_name", "phones[0]", "emails[0]"}
    assert customer_db.customers.count_documents({}) == before


def test_update_with_stale_etag_fails_and_fresh_one_succeeds(stub, phone):
    made = create(stub, phone())
    mask = field_mask_pb2.FieldMask(paths=["display_name"])
    first = stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, display_name="王大明"), update_mask=mask, etag=made.etag), metadata=as_())
    assert first.display_name == "王大明" and first.etag != made.etag
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateCustomer(pb.UpdateCustomerRequest(
            customer=pb.Customer(id=made.id, display_name="lost update"), update_mask=mask, etag=made.etag),
            metadata=as_())
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_of(err.value)[0].violations[0].type == "ETAG"


def test_changing_phones_moves_the_key(stub, phone):
    old, new = phone(), phone()
    made = create(stub, old)
    stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, phones=[new]), update_mask=field_mask_pb2.FieldMask(paths=["phones"]),
        etag=made.etag), metadata=as_())
    assert stub.LookupCustomer(pb.LookupCustomerRequest(phone=new), metadata=as_()).id == made.id
    assert code_of(lambda: stub.LookupCustomer(pb.LookupCustomerRequest(phone=old), metadata=as_())) == \
        grpc.StatusCode.NOT_FOUND
    assert create(stub, old, as_("rep-b")).owner_id == "rep-b"  # the old phone is free again


def test_updating_owner_through_a_plain_update_is_refused(stub, phone):
    made = create(stub, phone())
    change = pb.UpdateCustomerRequest(customer=pb.Customer(id=made.id, owner_id="rep-a"),
                                      update_mask=field_mask_pb2.FieldMask(paths=["owner_id"]))
    assert code_of(lambda: stub.UpdateCustomer(change, metadata=as_())) == grpc.StatusCode.INVALID_ARGUMENT


def test_list_pages_cover_each_customer_once_even_with_inserts_between_pages(stub, phone):
    owner = as_("rep-pager")
    ids = {create(stub, phone(), owner).id for _ in range(7)}
    seen, token_ = [], ""
    while True:
        page = stub.ListCustomers(pb.ListCustomersRequest(page_size=3, page_token=token_), metadata=owner)
        seen += [c.id for c in page.customers]
        if len(seen) == 3:
            ids.add(create(stub, phone(), owner).id)  # a concurrent insert mid-listing
        token_ = page.next_page_token
        if not token_:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == ids


def test_reps_list_only_their_own(stub, phone):
    create(stub, phone(), as_("rep-list-a"))
    page = stub.ListCustomers(pb.ListCustomersRequest(page_size=200), metadata=as_("rep-list-b"))
    assert all(c.owner_id == "rep-list-b" for c in page.customers)
    assert code_of(lambda: stub.ListCustomers(pb.ListCustomersRequest(owner_id="rep-list-a"),
                                              metadata=as_("rep-list-b"))) == grpc.StatusCode.PERMISSION_DENIED
    managed = stub.ListCustomers(pb.ListCustomersRequest(owner_id="rep-list-a"), metadata=as_("boss", "manager"))
    assert [c.owner_id for c in managed.customers] == ["rep-list-a"]


def test_oversized_pages_and_forged_tokens_are_refused(stub):
    assert code_of(lambda: stub.ListCustomers(pb.ListCustomersRequest(page_size=500), metadata=as_())) == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(lambda: stub.ListCustomers(pb.ListCustomersRequest(page_token="eyJ4Ijox"), metadata=as_())) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_batch_create_reports_each_item(stub, phone):
    taken = phone()
    create(stub, taken, as_("rep-b"))
    fresh = phone()
    response = stub.BatchCreateCustomers(pb.BatchCreateCustomersRequest(requests=[
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="一", phones=[fresh])),
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="二", phones=[taken])),
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="三", phones=["bad"])),
        pb.CreateCustomerRequest(customer=pb.Customer(display_name="四", phones=[fresh])),
    ]), metadata=as_())
    outcomes = [r.error_code or r.customer.phones[0] for r in response.results]
    assert outcomes == [fresh, "ALREADY_EXISTS", "INVALID_ARGUMENT", "ALREADY_EXISTS"]


def test_a_key_left_by_a_crashed_create_does_not_block_the_phone_forever(stub, phone, customer_db):
    number = phone()
    # What a create killed between its key write and its customer write leaves behind.
    customer_db.customer_keys.insert_one({
        "_id": f"phone:{number}", "customer_id": "cus_" + "0" * 24, "owner_id": "rep-gone",
        "created_at": datetime.now(timezone.utc) - timedelta(minutes=5)})
    made = create(stub, number)
    assert stub.LookupCustomer(pb.LookupCustomerRequest(phone=number), metadata=as_()).id == made.id


def test_concurrent_updates_from_one_read_let_exactly_one_win(stub, phone):
    made = create(stub, phone())
    mask = field_mask_pb2.FieldMask(paths=["display_name"])

    outcomes = race(10, lambda i: stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, display_name=f"writer {i}"), update_mask=mask, etag=made.etag),
        metadata=as_()).display_name)
    winners = [o for o in outcomes if isinstance(o, str)]
    assert len(winners) == 1
    assert outcomes.count(grpc.StatusCode.FAILED_PRECONDITION) == 9
    stored = stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_())
    assert stored.display_name == winners[0] and stored.etag == "2"


def test_an_update_abandoned_mid_write_is_completed_not_blocking(stub, phone, customer_db):
    made = create(stub, phone())
    # What a writer killed between claiming version 2 and writing it leaves behind.
    state = customer_db.customers.find_one({"_id": made.id})
    customer_db.customer_versions.insert_one({
        "_id": f"{made.id}#2", "customer": {**state, "display_name": "claimed", "version": 2},
        "changed_by": "rep-a", "claimed_at": datetime.now(timezone.utc) - timedelta(minutes=5)})
    mask = field_mask_pb2.FieldMask(paths=["display_name"])
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateCustomer(pb.UpdateCustomerRequest(
            customer=pb.Customer(id=made.id, display_name="later"), update_mask=mask, etag="1"), metadata=as_())
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    current = stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_())
    assert (current.display_name, current.etag) == ("claimed", "2")
    again = stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, display_name="later"), update_mask=mask, etag=current.etag), metadata=as_())
    assert (again.display_name, again.etag) == ("later", "3")

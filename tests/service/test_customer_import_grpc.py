"""ImportCustomers over real gRPC, backed by real FerretDB: upserts by phone,
e-mail or external id, a result per row, dry runs that write nothing, and
another rep's customers refused without showing them."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import customer_service_pb2_grpc
from tests.service.support import as_, code_of, create

OUT = pb.ImportOutcome


@pytest.fixture(scope="module")
def stub(services):
    ch = grpc.insecure_channel(services.targets["customer"])
    yield customer_service_pb2_grpc.CustomerServiceStub(ch)
    ch.close()


def row(n: int, owner_id: str = "", **fields) -> pb.ImportRow:
    """A row setting exactly the given fields (its non-empty cells)."""
    paths = []
    customer = pb.Customer()
    for name, value in fields.items():
        if name in ("province", "city"):
            setattr(customer.region, name, value)
            paths.append(f"region.{name}")
        elif isinstance(value, list):
            getattr(customer, name).extend(value)
            paths.append(name)
        else:
            setattr(customer, name, value)
            paths.append(name)
    return pb.ImportRow(row_number=n, customer=customer, update_mask=field_mask_pb2.FieldMask(paths=paths),
                        owner_id=owner_id)


def run(stub, rows, who=None, match_on="phone", dry_run=False):
    response = stub.ImportCustomers(pb.ImportCustomersRequest(rows=rows, match_on=match_on, dry_run=dry_run),
                                    metadata=who or as_())
    return list(response.results)


def outcomes(results):
    return [OUT.Name(r.outcome).removeprefix("IMPORT_OUTCOME_").lower() for r in results]


def get(stub, customer_id, who=None):
    return stub.GetCustomer(pb.GetCustomerRequest(id=customer_id), metadata=who or as_("boss", "admin"))


def test_each_row_is_created_updated_unchanged_or_refused(stub, phone):
    existing = create(stub, phone(), display_name="老王", stage="new")
    same = create(stub, phone(), display_name="老李", stage="won")
    fresh = phone()
    results = run(stub, [
        row(2, display_name="新客户", phones=[fresh], province="浙江", city="杭州"),
        row(3, phones=[existing.phones[0]], stage="negotiating"),
        row(4, phones=[same.phones[0]], stage="won"),
        row(5, display_name="坏号码", phones=["12345"]),
    ])
    assert [r.row_number for r in results] == [2, 3, 4, 5]
    assert outcomes(results) == ["created", "updated", "unchanged", "error"]
    created = get(stub, results[0].customer_id)
    assert (created.display_name, list(created.phones), created.region.city, created.owner_id) == \
        ("新客户", [fresh], "杭州", "rep-a")
    assert results[1].customer_id == existing.id and results[2].customer_id == same.id
    bad = results[3]
    assert bad.error_code == "INVALID_ARGUMENT" and not bad.customer_id
    assert [v.field for v in bad.field_violations] == ["phones[0]"]


def test_an_update_changes_only_the_fields_the_row_sets(stub, phone):
    made = create(stub, phone(), display_name="王五", emails=["wang.wu.import@example.com"], level="A",
                  tags=["老客户"], region=pb.Region(province="浙江", city="杭州"))
    [result] = run(stub, [row(7, phones=[made.phones[0]], stage="target", city="宁波")])
    assert outcomes([result]) == ["updated"]
    after = get(stub, made.id)
    assert after.stage == "target" and after.region.city == "宁波"
    assert (after.display_name, list(after.emails), after.level, list(after.tags), after.region.province) == \
        ("王五", ["wang.wu.import@example.com"], "A", ["老客户"], "浙江")
    assert after.etag == "2"


def test_upsert_by_email_and_by_external_id(stub, phone):
    by_mail = create(stub, phone(), display_name="Grace Hall", emails=["grace.hall.import@example.com"])
    by_ext = create(stub, phone(), display_name="ERP 客户", external_id="ERP-IMPORT-0001")
    mail_results = run(stub, [row(2, emails=["Grace.Hall.Import@Example.com"], level="VIP")], match_on="email")
    ext_results = run(stub, [row(2, external_id="ERP-IMPORT-0001", display_name="ERP 客户（改）")],
                      match_on="external_id")
    assert outcomes(mail_results + ext_results) == ["updated", "updated"]
    assert mail_results[0].customer_id == by_mail.id and get(stub, by_mail.id).level == "VIP"
    assert ext_results[0].customer_id == by_ext.id and get(stub, by_ext.id).display_name == "ERP 客户（改）"
    new_ext = run(stub, [row(3, external_id="ERP-IMPORT-0002", display_name="新的", phones=[phone()])],
                  match_on="external_id")
    assert outcomes(new_ext) == ["created"]
    assert get(stub, new_ext[0].customer_id).external_id == "ERP-IMPORT-0002"


def test_a_row_without_the_key_it_is_matched_on_is_refused(stub, phone):
    results = run(stub, [row(4, display_name="无邮箱", phones=[phone()])], match_on="email")
    assert outcomes(results) == ["error"]
    assert [v.field for v in results[0].field_violations] == ["emails"]
    assert code_of(lambda: run(stub, [row(2, display_name="x", phones=[phone()])], match_on="name")) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_another_reps_customer_is_refused_without_details(stub, phone, customer_db):
    theirs = create(stub, phone(), as_("rep-b"), display_name="别人的客户", stage="won")
    [result] = run(stub, [row(9, display_name="我的名字", phones=[theirs.phones[0]], stage="lost")])
    assert outcomes([result]) == ["error"]
    assert result.error_code == "ALREADY_EXISTS" and result.relation == "another_owner"
    assert "another rep" in result.error_message
    assert not result.customer_id
    assert "rep-b" not in str(result) and "别人的客户" not in str(result) and theirs.id not in str(result)
    stored = customer_db.customers.find_one({"_id": theirs.id})
    assert (stored["display_name"], stored["stage"], stored["version"]) == ("别人的客户", "won", 1)


def test_a_pool_customer_tells_a_rep_to_claim_it(stub, phone):
    pooled = create(stub, phone(), as_("boss", "manager"), owner_id="rep-c")
    stub.ReleaseCustomer(pb.ReleaseCustomerRequest(id=pooled.id), metadata=as_("boss", "manager"))
    [result] = run(stub, [row(2, phones=[pooled.phones[0]], stage="target")])
    assert (result.error_code, result.relation) == ("ALREADY_EXISTS", "public_pool")


def test_dry_run_reports_the_same_outcomes_and_writes_nothing(stub, phone, customer_db):
    existing = create(stub, phone(), display_name="赵六", stage="new")
    theirs = create(stub, phone(), as_("rep-b"))
    fresh = phone()
    rows = [row(2, display_name="新", phones=[fresh]),
            row(3, phones=[existing.phones[0]], stage="won"),
            row(4, phones=[existing.phones[0]], display_name="赵六", stage="new"),
            row(5, phones=[theirs.phones[0]], display_name="x"),
            row(6, display_name="重复", phones=[phone(), theirs.phones[0]])]
    counts = (customer_db.customers.count_documents({}), customer_db.customer_keys.count_documents({}),
              customer_db.customer_versions.count_documents({}))
    dry = run(stub, rows, dry_run=True)
    # Row 4 repeats row 3's phone: a file holds each customer once.
    assert outcomes(dry) == ["created", "updated", "error", "error", "error"]
    assert dry[3].relation == "another_owner" and dry[4].relation == "another_owner"
    assert (customer_db.customers.count_documents({}), customer_db.customer_keys.count_documents({}),
            customer_db.customer_versions.count_documents({})) == counts
    assert code_of(lambda: stub.LookupCustomer(pb.LookupCustomerRequest(phone=fresh), metadata=as_())) == \
        grpc.StatusCode.NOT_FOUND
    assert get(stub, existing.id).stage == "new"
    real = run(stub, rows)
    assert outcomes(real) == outcomes(dry)


def test_a_failed_row_writes_nothing_and_the_others_proceed(stub, phone, customer_db):
    taken_mail = "taken.import@example.com"
    create(stub, phone(), as_("rep-b"), emails=[taken_mail])
    half = phone()
    ok = phone()
    results = run(stub, [
        row(2, display_name="半个", phones=[half], emails=[taken_mail]),  # phone free, e-mail another rep's
        row(3, display_name="好的", phones=[ok]),
        row(4, display_name="", phones=[phone()]),  # a name is required to create
    ])
    assert outcomes(results) == ["error", "created", "error"]
    assert results[0].error_code == "ALREADY_EXISTS"
    assert [v.field for v in results[2].field_violations] == ["display_name"]
    assert customer_db.customer_keys.find_one({"_id": f"phone:{half}"}) is None
    assert customer_db.customers.count_documents({"phones": half}) == 0
    assert customer_db.customers.count_documents({"phones": ok}) == 1


def test_an_import_never_changes_the_owner(stub, phone):
    mine = create(stub, phone(), as_("boss", "manager"), owner_id="rep-a")
    results = run(stub, [row(2, owner_id="rep-z", phones=[mine.phones[0]], level="B")], as_("boss", "manager"))
    assert outcomes(results) == ["updated"]
    assert get(stub, mine.id).owner_id == "rep-a"
    teammate = run(stub, [row(3, phones=[mine.phones[0]], level="C")], as_("ops", "manager"))
    assert outcomes(teammate) == ["updated"]  # same team: managers run their team's customers
    mask_owner = pb.ImportRow(row_number=4, customer=pb.Customer(phones=[mine.phones[0]], owner_id="rep-z"),
                              update_mask=field_mask_pb2.FieldMask(paths=["phones", "owner_id"]))
    [bad] = run(stub, [mask_owner], as_("boss", "manager"))
    assert bad.error_code == "INVALID_ARGUMENT" and [v.field for v in bad.field_violations] == ["owner_id"]


def test_managers_assign_owners_reps_import_for_themselves(stub, phone):
    [assigned] = run(stub, [row(2, owner_id="rep-q", display_name="分配", phones=[phone()])], as_("boss", "manager"))
    assert get(stub, assigned.customer_id).owner_id == "rep-q"
    [refused] = run(stub, [row(2, owner_id="rep-q", display_name="越权", phones=[phone()])])
    assert refused.error_code == "PERMISSION_DENIED"
    [own] = run(stub, [row(2, owner_id="rep-a", display_name="自己的", phones=[phone()])])
    assert get(stub, own.customer_id).owner_id == "rep-a"


def test_roles_without_write_rights_cannot_import(stub, phone, customer_db):
    number = phone()
    for who in (as_("agent-1", "agent"), as_("fin-1", "finance"),
                as_("erp", "integration", scopes="customers:read")):
        assert code_of(lambda: run(stub, [row(2, display_name="x", phones=[number])], who)) == \
            grpc.StatusCode.PERMISSION_DENIED
    assert customer_db.customer_keys.find_one({"_id": f"phone:{number}"}) is None
    writer = as_("erp", "integration", scopes="customers:read customers:write")
    assert outcomes(run(stub, [row(2, display_name="x", phones=[number])], writer)) == ["created"]


def test_more_than_1000_rows_are_refused_as_a_whole(stub):
    rows = [row(i, display_name="x", phones=[f"+86139{i:08d}"]) for i in range(1001)]
    assert code_of(lambda: run(stub, rows)) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_chunk_of_new_customers_is_created_in_bulk(stub, phone, customer_db):
    numbers = [phone() for _ in range(300)]
    results = run(stub, [row(i + 2, display_name=f"批量{i}", phones=[n], stage="contacted")
                         for i, n in enumerate(numbers)])
    assert outcomes(results) == ["created"] * 300
    assert len({r.customer_id for r in results}) == 300
    assert customer_db.customers.count_documents({"phones": {"$in": numbers}}) == 300
    again = run(stub, [row(i + 2, display_name=f"批量{i}", phones=[n], stage="contacted")
                       for i, n in enumerate(numbers)])
    assert outcomes(again) == ["unchanged"] * 300
    assert [r.customer_id for r in again] == [r.customer_id for r in results]


def test_rows_matching_one_customer_by_different_phones_apply_in_file_order(stub, phone):
    first, second = phone(), phone()
    made = create(stub, first, display_name="两个号码")
    stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=made.id, phones=[first, second]),
        update_mask=field_mask_pb2.FieldMask(paths=["phones"]), etag=made.etag), metadata=as_())
    results = run(stub, [row(2, phones=[first, second], stage="target"),
                         row(3, phones=[second, first], level="VIP"),
                         row(4, display_name="新来的", phones=[phone()])])
    assert outcomes(results) == ["updated", "updated", "created"]
    after = get(stub, made.id)
    assert (after.stage, after.level, list(after.phones), after.etag) == ("target", "VIP", [second, first], "4")

"""The complete customer record over real gRPC: contacts, preferences,
anniversaries, consent, natural keys on every contact, lookups, filtered lists
and what each role sees."""

from __future__ import annotations

import uuid
from datetime import timedelta, timezone

import grpc
import pytest
from google.protobuf import field_mask_pb2

from crm.customer.v1 import customer_service_pb2 as pb
from crm_kit.grpc_errors import details_of
from tests.service.support import as_, code_of, create, race, ts


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def update(stub, customer, who=None, **fields):
    return stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=customer.id, **fields), update_mask=field_mask_pb2.FieldMask(paths=list(fields)),
        etag=customer.etag), metadata=who or as_())


def test_the_whole_record_round_trips(stub, phone):
    made = create(
        stub, phone(), display_name="欧阳娜娜", emails=["Nana@Example.com"], type="customer", level="VIP", tags=["回头客"],
        source="referral", stage="strong_intent", intent_notes="想订三间湖景房\n预算 5000",
        region=pb.Region(province="浙江", city="杭州"),
        addresses=[pb.Address(label="home", province="浙江", city="杭州", district="西湖区", line="北山街 1 号")],
        preferences=[pb.Preference(topic="seat", note="likes the window seat"),
                     pb.Preference(topic="room", note="favourite room type: lake view")],
        birthday=pb.Anniversary(calendar="lunar", year=1990, month=8, day=15),
        anniversaries=[pb.Anniversary(label="wedding", calendar="gregorian", month=5, day=20)],
        consent_sms=pb.Consent(state="granted"))
    got = stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_())
    assert got == made
    assert got.view == pb.CUSTOMER_VIEW_FULL
    assert [p.note for p in got.preferences] == ["likes the window seat", "favourite room type: lake view"]
    assert (got.birthday.calendar, got.birthday.month, got.birthday.day, got.birthday.label) == ("lunar", 8, 15, "birthday")
    assert got.consent_sms.state == "granted" and got.consent_sms.HasField("change_time")
    assert got.consent_email.state == "unknown" and not got.consent_email.HasField("change_time")
    assert got.intent_notes == "想订三间湖景房\n预算 5000"


def test_consent_time_changes_only_when_the_state_does(stub, phone):
    made = create(stub, phone(), consent_email=pb.Consent(state="granted"))
    given = made.consent_email.change_time
    same = update(stub, made, consent_email=pb.Consent(state="granted"))
    assert same.consent_email.change_time == given
    withdrawn = update(stub, same, consent_email=pb.Consent(state="withdrawn"))
    assert withdrawn.consent_email.state == "withdrawn"
    assert withdrawn.consent_email.change_time.ToDatetime() >= given.ToDatetime()


@pytest.mark.parametrize("fields,field", [
    ({"emails": ["not-an-email"]}, "emails[0]"),
    ({"stage": "hot"}, "stage"),
    ({"birthday": pb.Anniversary(calendar="lunar", year=2024, month=6, day=1, leap_month=True)}, "birthday"),
    ({"tags": ["x" * 33]}, "tags[0]"),
    ({"referred_by": "cus_nope"}, "referred_by"),
    ({"referred_by": "cus_" + "0" * 24}, "referred_by"),
    ({"level": "$gt"}, "level"),
])
def test_bad_fields_are_refused_and_nothing_is_written(stub, phone, customer_db, fields, field):
    number = phone()
    with pytest.raises(grpc.RpcError) as err:
        create(stub, number, **fields)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in {v.field for v in details_of(err.value)[0].field_violations}
    assert customer_db.customers.count_documents({"phones": number}) == 0
    assert customer_db.customer_keys.count_documents({"_id": f"phone:{number}"}) == 0


def test_duplicates_are_caught_on_every_email_company_and_external_id(stub, phone):
    email = f"{unique('dup')}@example.com"
    company = unique("杭州西湖贸易")
    external = unique("ERP")
    create(stub, phone(), emails=["other@example.com", email], external_id=external)
    create(stub, phone(), display_name=company, kind=pb.CUSTOMER_KIND_COMPANY,
           region=pb.Region(province="浙江", city="杭州"))
    attempts = {
        "e-mail": dict(emails=[email.upper()]),
        "company name and region": dict(display_name=company.replace("杭州", "杭州 "), kind=pb.CUSTOMER_KIND_COMPANY,
                                        region=pb.Region(province="浙江", city="杭州")),
        "external id": dict(external_id=external),
    }
    for what, fields in attempts.items():
        with pytest.raises(grpc.RpcError) as err:
            create(stub, phone(), as_("rep-b"), **fields)
        assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert details_of(err.value)[0].metadata["relation"] == "another_owner"
        assert what in err.value.details()
    # The same company name elsewhere is another company.
    assert create(stub, phone(), display_name=company, kind=pb.CUSTOMER_KIND_COMPANY,
                  region=pb.Region(province="江苏", city="苏州")).id


def test_twenty_concurrent_creates_of_one_company_by_two_reps_make_one(stub, phone, customer_db):
    company = unique("深圳腾飞科技")
    who = [as_("rep-a"), as_("rep-b")]
    outcomes = race(20, lambda i: create(stub, phone(), who[i % 2], display_name=company, kind=pb.CUSTOMER_KIND_COMPANY,
                                         region=pb.Region(province="广东", city="深圳")).id)
    assert len([o for o in outcomes if isinstance(o, str)]) == 1
    assert outcomes.count(grpc.StatusCode.ALREADY_EXISTS) == 19
    assert customer_db.customers.count_documents({"display_name": company}) == 1


def test_lookup_by_any_phone_or_email(stub, phone):
    first, second = phone(), phone()
    email = f"{unique('lookup')}@example.com"
    made = create(stub, first, emails=[email])
    made = update(stub, made, phones=[first, second])
    for request in (pb.LookupCustomerRequest(phone=second), pb.LookupCustomerRequest(email=email.upper())):
        assert stub.LookupCustomer(request, metadata=as_()).id == made.id
    assert code_of(lambda: stub.LookupCustomer(pb.LookupCustomerRequest(phone=first, email=email), metadata=as_())) \
        == grpc.StatusCode.INVALID_ARGUMENT


def test_removing_an_email_frees_it(stub, phone):
    email = f"{unique('moved')}@example.com"
    made = create(stub, phone(), emails=[email])
    update(stub, made, emails=[])
    assert create(stub, phone(), as_("rep-b"), emails=[email]).owner_id == "rep-b"


def test_list_filters_combine_and_name_prefix_matches_pinyin(stub, phone):
    owner = unique("rep-filter")
    who = as_(owner)
    zhang = create(stub, phone(), who, display_name="张伟", stage="negotiating", level="A", tags=["vip"],
                   region=pb.Region(province="浙江", city="杭州"))
    create(stub, phone(), who, display_name="张静", stage="new", level="A", region=pb.Region(province="浙江", city="宁波"))
    create(stub, phone(), who, display_name="Zhao Li", stage="negotiating", level="B")

    def names(**filters):
        page = stub.ListCustomers(pb.ListCustomersRequest(page_size=50, **filters), metadata=who)
        return sorted(c.display_name for c in page.customers)

    assert names(stage="negotiating") == ["Zhao Li", "张伟"]
    assert names(stage="negotiating", level="A") == ["张伟"]
    assert names(province="浙江") == ["张伟", "张静"]
    assert names(city="宁波") == ["张静"]
    assert names(tag="vip") == ["张伟"]
    assert names(name_prefix="zhang") == ["张伟", "张静"]
    assert names(name_prefix="张") == ["张伟", "张静"]
    assert names(name_prefix="zha") == ["Zhao Li", "张伟", "张静"]
    created = zhang.create_time.ToDatetime(tzinfo=timezone.utc)
    window = pb.TimeRange(start_time=ts(created), end_time=ts(created + timedelta(milliseconds=1)))
    assert names(create_time=window) == ["张伟"]
    assert code_of(lambda: stub.ListCustomers(pb.ListCustomersRequest(stage="$ne"), metadata=who)) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_list_by_name_pages_in_pinyin_order_without_repeats(stub, phone):
    owner = unique("rep-names")
    who = as_(owner)
    for name in ["赵敏", "Alice", "陈静", "张三", "白露", "Bob"]:
        create(stub, phone(), who, display_name=name)
    seen, token = [], ""
    while True:
        page = stub.ListCustomers(pb.ListCustomersRequest(page_size=4, page_token=token, order_by="name"), metadata=who)
        seen += [c.display_name for c in page.customers]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["Alice", "白露", "Bob", "陈静", "张三", "赵敏"]


def test_page_tokens_are_bound_to_their_filters(stub, phone):
    who = as_(unique("rep-token"))
    for _ in range(3):
        create(stub, phone(), who, stage="won")
    page = stub.ListCustomers(pb.ListCustomersRequest(page_size=1, stage="won"), metadata=who)
    assert code_of(lambda: stub.ListCustomers(pb.ListCustomersRequest(
        page_size=1, stage="lost", page_token=page.next_page_token), metadata=who)) == grpc.StatusCode.INVALID_ARGUMENT


def test_what_each_role_sees(stub, phone):
    made = create(stub, phone(), emails=[f"{unique('roles')}@example.com"], intent_notes="预算充足",
                  preferences=[pb.Preference(note="不吃辣")])
    agent = stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_("agent-1", "agent"))
    assert agent.view == pb.CUSTOMER_VIEW_CONTACT
    assert list(agent.phones) == list(made.phones) and agent.intent_notes == ""
    assert [p.note for p in agent.preferences] == ["不吃辣"]  # the agent on the phone honours them
    finance = stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_("fin-1", "finance"))
    assert finance.view == pb.CUSTOMER_VIEW_CONTACT
    reader = as_("erp", "integration", scopes="customers:read")
    assert stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=reader).intent_notes == "预算充足"
    no_scope = as_("bi", "integration", scopes="orders:read")
    assert code_of(lambda: stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=no_scope)) == \
        grpc.StatusCode.PERMISSION_DENIED
    other_team = as_("boss-w", "manager", team="team-west")
    assert code_of(lambda: stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=other_team)) == \
        grpc.StatusCode.NOT_FOUND
    assert stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_("boss", "manager")).view == \
        pb.CUSTOMER_VIEW_FULL


def test_roles_that_only_read_cannot_change_or_list(stub, phone):
    made = create(stub, phone())
    for who in (as_("agent-1", "agent"), as_("erp", "integration", scopes="customers:read")):
        assert code_of(lambda: update(stub, made, who, display_name="x")) in \
            (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)
    assert code_of(lambda: stub.ListCustomers(pb.ListCustomersRequest(), metadata=as_("agent-1", "agent"))) == \
        grpc.StatusCode.PERMISSION_DENIED
    writer = as_("erp-w", "integration", scopes="customers:read customers:write")
    assert update(stub, made, writer, display_name="由 ERP 更新").display_name == "由 ERP 更新"


def test_managers_list_only_their_team(stub, phone):
    east, west = unique("rep-east"), unique("rep-west")
    create(stub, phone(), as_(east, team="team-east"))
    create(stub, phone(), as_(west, team="team-west"))
    seen = stub.ListCustomers(pb.ListCustomersRequest(owner_id=east), metadata=as_("boss-e", "manager", team="team-east"))
    assert [c.owner_id for c in seen.customers] == [east]
    hidden = stub.ListCustomers(pb.ListCustomersRequest(owner_id=west), metadata=as_("boss-e", "manager", team="team-east"))
    assert list(hidden.customers) == []


@pytest.mark.parametrize("path", ["owner_id", "team_id", "create_time", "etag", "last_contact_time", "view"])
def test_mass_assignment_of_owner_and_system_fields_is_refused(stub, phone, path):
    made = create(stub, phone())
    request = pb.UpdateCustomerRequest(customer=pb.Customer(id=made.id, owner_id="rep-a", team_id="x"),
                                       update_mask=field_mask_pb2.FieldMask(paths=[path]), etag=made.etag)
    assert code_of(lambda: stub.UpdateCustomer(request, metadata=as_())) == grpc.StatusCode.INVALID_ARGUMENT
    assert stub.GetCustomer(pb.GetCustomerRequest(id=made.id), metadata=as_()).etag == made.etag


def test_the_stream_of_everyone_holds_each_live_customer_once_for_admins_and_read_integrations(stub, phone):
    mine = create(stub, phone(), display_name=unique("streamed"), consent_sms=pb.Consent(state="granted"))
    gone = create(stub, phone())
    stub.EraseCustomer(pb.EraseCustomerRequest(id=gone.id, reason="customer asked"), metadata=as_("root", "admin"))
    for who in (as_("root", "admin"), as_("erp", "integration", scopes="customers:read")):
        pages = list(stub.StreamCustomers(pb.StreamCustomersRequest(page_size=7), metadata=who))
        assert pages and all(1 <= len(p.customers) <= 7 for p in pages) and all(len(p.customers) == 7 for p in pages[:-1])
        ids = [c.id for p in pages for c in p.customers]
        assert len(ids) == len(set(ids))  # each customer once
        assert gone.id not in ids  # the erased are not streamed
        (got,) = [c for p in pages for c in p.customers if c.id == mine.id]
        assert got.view == pb.CUSTOMER_VIEW_FULL and got.phones == mine.phones and got.consent_sms.state == "granted"


@pytest.mark.parametrize("who,page_size,code", [
    (as_("rep-a"), 0, grpc.StatusCode.PERMISSION_DENIED),  # a rep sees only some customers: no stream of everyone
    (as_("boss", "manager"), 0, grpc.StatusCode.PERMISSION_DENIED),
    (as_("agent-1", "agent"), 0, grpc.StatusCode.PERMISSION_DENIED),
    (as_("bi", "integration", scopes="orders:read"), 0, grpc.StatusCode.PERMISSION_DENIED),
    (as_("root", "admin"), 101, grpc.StatusCode.INVALID_ARGUMENT),
    (as_("root", "admin"), -1, grpc.StatusCode.INVALID_ARGUMENT),
])
def test_the_stream_of_everyone_is_refused_to_partial_readers_and_to_bad_page_sizes(stub, who, page_size, code):
    assert code_of(lambda: list(stub.StreamCustomers(pb.StreamCustomersRequest(page_size=page_size),
                                                     metadata=who))) == code


def test_at_most_two_streams_of_everyone_are_open_at_once_and_a_closed_one_frees_its_place(stub, phone, customer_db):
    """Each open stream holds a server worker while it is read; a caller that
    stops reading must not tie up more than two. (In-process: over gRPC the
    server sends ahead into the transport's window, so "not read" is not
    observable with a small store.)"""
    from crm_customer.customers.service import CustomerService
    from crm_customer.customers.store import CustomerStore
    from crm_kit.auth import Principal
    from crm_kit.errors import ResourceExhausted

    create(stub, phone())
    create(stub, phone())
    service, admin = CustomerService(CustomerStore(customer_db)), Principal("root", "admin")
    held = [service.stream_all(admin, 1) for _ in range(2)]
    for pages in held:
        assert len(next(pages)) == 1  # each serving its first page: its place is taken
    with pytest.raises(ResourceExhausted):
        next(service.stream_all(admin, 1))
    held[0].close()  # the call cancelled: its generator is closed
    third = service.stream_all(admin, 1)
    assert len(next(third)) == 1
    third.close()
    held[1].close()

"""Owner lists read from each owner's book (an insert-only chain of
arrivals) instead of a sorted scan: what a rep sees there."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from crm.customer.v1 import customer_service_pb2 as pb
from crm_customer.customers.model.record import CustomerDraft, Profile
from crm_customer.customers.model.listing import ListFilters
from crm_customer.customers.service import CustomerService
from crm_customer.customers.store import CustomerStore
from crm_kit.auth import Principal
from crm_kit.mongo import connect
from tests.service.support import as_, create

MANAGER = as_("boss", "manager")


def rep() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def listed(stub, who, page_size=200, **filters) -> list[str]:
    ids, token = [], ""
    while True:
        page = stub.ListCustomers(pb.ListCustomersRequest(page_size=page_size, page_token=token, **filters),
                                  metadata=who)
        ids += [c.id for c in page.customers]
        token = page.next_page_token
        if not token:
            return ids


def test_a_customer_that_leaves_and_comes_back_is_listed_once_at_its_return(stub, phone):
    alice, bob = rep(), rep()
    first, second, third = (create(stub, phone(), as_(alice)).id for _ in range(3))
    for to in (bob, alice):
        stub.TransferCustomer(pb.TransferCustomerRequest(id=first, to_owner_id=to), metadata=MANAGER)
    assert listed(stub, as_(alice), page_size=2) == [second, third, first]
    assert listed(stub, as_(bob)) == []


def test_pool_lists_follow_releases_and_claims(stub, phone):
    alice = rep()
    made = create(stub, phone(), as_(alice)).id
    stub.ReleaseCustomer(pb.ReleaseCustomerRequest(id=made), metadata=as_(alice))
    assert made in listed(stub, as_(rep()), pool=True)
    stub.ClaimCustomer(pb.ClaimCustomerRequest(id=made), metadata=as_(alice))
    assert made not in listed(stub, as_(rep()), pool=True)
    assert listed(stub, as_(alice)) == [made]


def test_a_book_entry_left_by_a_write_that_never_landed_is_not_listed(stub, phone, customer_db):
    alice, bob = rep(), rep()
    theirs = create(stub, phone(), as_(bob))
    # A transfer to alice killed after writing her book entry, before the customer write.
    customer_db.customer_book_links.insert_one({"_id": f"owner:{alice}#{1:010d}", "customer_id": theirs.id,
                                                "since": datetime.now(timezone.utc)})
    mine = create(stub, phone(), as_(alice)).id
    assert listed(stub, as_(alice)) == [mine]
    assert listed(stub, as_(bob)) == [theirs.id]


def test_filters_apply_to_book_lists_and_managers_stay_in_their_team(stub, phone):
    alice = rep()
    won = create(stub, phone(), as_(alice), stage="won", tags=["vip"]).id
    create(stub, phone(), as_(alice), stage="lost")
    assert listed(stub, as_(alice), stage="won", tag="vip") == [won]
    assert listed(stub, MANAGER, owner_id=alice, stage="won") == [won]
    assert listed(stub, as_("boss-w", "manager", team="team-west"), owner_id=alice) == []


def test_customers_stored_before_books_existed_are_backfilled_once(stores):
    client = connect(stores.mongodb_uri, "tests")
    try:
        store = CustomerStore(client[f"crm_customer_backfill_{uuid.uuid4().hex[:8]}"])
        service = CustomerService(store)
        admin = Principal("root", "admin")
        made = service.create(admin, CustomerDraft(Profile(display_name="老数据", phones=("+8613800138111",)), "rep-old"))
        store.db["customer_books"].delete_many({})  # as if written by a version without books
        store.db["customer_book_links"].delete_many({})
        assert service.backfill_books() == 1
        assert service.backfill_books() == 0
        page, _token = service.list(Principal("rep-old", "rep"), ListFilters(), 50, "")
        assert [c.id for c in page] == [made.id]
    finally:
        client.close()



def test_a_managers_team_list_and_an_admins_full_list_come_from_their_books(stub, phone):
    team = f"team-{uuid.uuid4().hex[:6]}"
    alice, bob = rep(), rep()
    first = create(stub, phone(), as_(alice, team=team)).id
    second = create(stub, phone(), as_(bob, team=team)).id
    elsewhere = create(stub, phone(), as_(rep(), team="team-other")).id
    manager = as_("boss-t", "manager", team=team)
    assert listed(stub, manager, page_size=1) == [first, second]
    stub.TransferCustomer(pb.TransferCustomerRequest(id=first, to_owner_id=rep(), to_team_id="team-other"),
                          metadata=as_("root", "admin"))
    assert listed(stub, manager) == [second]
    everyone = listed(stub, as_("root", "admin"))
    assert everyone.index(first) < everyone.index(second) < everyone.index(elsewhere)  # creation order

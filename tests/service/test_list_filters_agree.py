"""A list filter means one thing: the store's scan query (`list_query`,
used when sorting by name) selects exactly the customers the domain rule
(`listing.list_matches`, applied to books) does — property-tested over
random scopes and filters against customers stored in a real FerretDB."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crm_customer.customers.model import listing
from crm_customer.customers.model.record import Customer, Profile, Region, sort_name
from crm_customer.customers.store import CustomerStore, list_query
from crm_kit.mongo import connect

PROVINCES = ("浙江", "江苏", "")
CITIES = ("杭州", "宁波", "南京", "")
LEVELS = ("A", "B", "")
STAGES = ("new", "target", "won")
TAGS = ("vip", "团购", "老客户")
NAMES = ("张伟", "张敏", "Zhang Wei", "白露", "Bob", "陈静")
OWNERS = ("rep-1", "rep-2", "")
TEAMS = ("team-1", "team-2")
BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _customers(n: int = 60) -> list[Customer]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        created = BASE + timedelta(days=rng.randrange(300))
        contact = None if rng.random() < 0.3 else created + timedelta(days=rng.randrange(60))
        profile = Profile(display_name=rng.choice(NAMES), region=Region(rng.choice(PROVINCES), rng.choice(CITIES)),
                          level=rng.choice(LEVELS), stage=rng.choice(STAGES),
                          tags=tuple(rng.sample(TAGS, rng.randrange(3))))
        out.append(Customer(id=f"cus_{uuid.uuid4().hex[:24]}", profile=profile, owner_id=rng.choice(OWNERS),
                            team_id=rng.choice(TEAMS), created_at=created, updated_at=created, owned_since=created,
                            last_contact_at=contact, erased_at=BASE if rng.random() < 0.1 else None))
    return out


@pytest.fixture(scope="module")
def stored(stores):
    client = connect(stores.mongodb_uri, "list-filter-test")
    db = client[f"crm_customer_lists_{uuid.uuid4().hex[:8]}"]
    customers = _customers()
    CustomerStore(db).insert_many(customers, "test", [[] for _ in customers])
    yield db, customers
    client.drop_database(db.name)
    client.close()


def _often_unset(values, unset=""):
    """Mostly unset (as most list requests are), so combined filters still match someone."""
    return st.one_of(st.just(unset), st.just(unset), st.sampled_from(values))


def _moment():
    return _often_unset([BASE + timedelta(days=d) for d in range(0, 361, 30)], None)


scopes = st.builds(listing.ListScope, owner_id=st.sampled_from((None, *OWNERS[:2])),
                   team_id=st.sampled_from((None, *TEAMS)), pool_only=st.booleans())
filters = st.builds(
    listing.ListFilters, province=_often_unset(PROVINCES), city=_often_unset(CITIES), level=_often_unset(LEVELS),
    stage=_often_unset(STAGES), tag=_often_unset(TAGS), name_prefix=_often_unset([sort_name(n)[:3] for n in NAMES]),
    created_from=_moment(), created_to=_moment(), contact_from=_moment(), contact_to=_moment())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scope=scopes, f=filters)
def test_the_scan_query_and_the_book_rule_select_the_same_customers(stored, scope, f):
    db, customers = stored
    by_rule = {c.id for c in customers if listing.list_matches(c, scope, f)}
    event("some customers match" if by_rule else "none match")
    by_query = {d["_id"] for d in db["customers"].find(list_query(scope, f, None, "sort_name"), {"_id": 1})}
    assert by_query == by_rule

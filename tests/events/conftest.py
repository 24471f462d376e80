"""Fixtures for the event backbone: the real event Redis, a fresh FerretDB
database and fresh stream names per test."""

from __future__ import annotations

import uuid

import pytest

from crm_kit.events.bus import connect
from crm_kit.mongo import connect as mongo_connect


@pytest.fixture(scope="session")
def events_redis(events_redis_url):
    client = connect(events_redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def mongo_client(stores):
    client = mongo_connect(stores.mongodb_uri, "events-tests")
    yield client
    client.close()


@pytest.fixture
def producer_db(mongo_client):
    name = f"crm_events_test_{uuid.uuid4().hex[:10]}"
    yield mongo_client[name]
    mongo_client.drop_database(name)


@pytest.fixture
def producer():
    """A producer name of its own per test, so its stream `events:<name>` is fresh."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def stream(producer):
    return f"events:{producer}"


@pytest.fixture
def dead_letter(producer):
    return f"events:dead-letter-{producer}"

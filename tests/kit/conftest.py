import uuid

import pytest

from crm_kit.mongo import connect


@pytest.fixture
def db(stores):
    """A fresh database on the session's real FerretDB (or MongoDB)."""
    client = connect(stores.mongodb_uri, "kit-tests")
    name = f"kit_test_{uuid.uuid4().hex[:8]}"
    yield client[name]
    client.drop_database(name)
    client.close()

"""Resource ids: prefix + 120 random bits, and older ObjectId-style ids still accepted."""

from __future__ import annotations

import pytest

from crm_customer.customers.model import record, editing

from crm_customer.visits import model as visits
from crm_customer.customers.store import new_customer_id
from crm_kit.ids import id_pattern, new_id


def test_new_ids_carry_120_random_bits_in_24_base32_characters():
    ids = {new_id("cus") for _ in range(2000)}
    assert len(ids) == 2000
    for value in ids:
        prefix, _, body = value.partition("_")
        assert prefix == "cus" and len(body) == 24 and set(body) <= set("abcdefghijklmnopqrstuvwxyz234567")
    # Neither time-ordered nor sharing a leading time part, as ObjectIds do.
    ordered = [new_id("vis") for _ in range(50)]
    assert ordered != sorted(ordered)
    assert len({v[4:12] for v in ordered}) > 40


def test_customer_ids_are_random_and_both_forms_are_valid():
    cid = new_customer_id()
    assert record.CUSTOMER_ID.match(cid) and len(cid) == 28
    assert editing.validate_customer_id(cid, "id") == cid
    assert editing.validate_customer_id("cus_6650c0f1a2b3c4d5e6f70812", "id")  # an older ObjectId-style id
    assert visits.validate_visit_id("vis_6650c0f1a2b3c4d5e6f70812") and visits.validate_visit_id(new_id("vis"))
    for bad in ("cus_" + "a" * 23, "cus_" + "a" * 25, "cus_" + "A" * 24, "cus_" + "g1" * 12, "vis_" + "a" * 24,
                "cus_" + "a" * 24 + "\n"):
        assert not record.CUSTOMER_ID.match(bad)


def test_prefixes_are_short_lowercase_words():
    for bad in ("", "c", "CUS", "cus_", "customers"):
        with pytest.raises(ValueError):
            new_id(bad)
        with pytest.raises(ValueError):
            id_pattern(bad)

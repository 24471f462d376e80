"""Customer domain rules, pure: no store, no network."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from crm_customer import domain
from crm_customer.domain import Customer, Region
from crm_customer.service import _decode_page_token, _encode_page_token
from crm_kit.auth import Principal
from crm_kit.errors import InvalidArgument, PermissionDenied

REP = Principal("rep-a", "rep")
OTHER_REP = Principal("rep-b", "rep")
MANAGER = Principal("boss", "manager")
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def customer(owner="rep-a", phones=("+8613800138000",)) -> Customer:
    return Customer("cus_" + "a" * 24, "张三", "person", phones, "", Region(), owner, "", NOW, NOW, 1)


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "0086 13800138000"])
def test_phone_notations_normalize_to_one_e164(raw):
    assert domain.normalize_phone(raw, "CN") == "+8613800138000"


def test_default_region_decides_national_numbers():
    assert domain.normalize_phone("(202) 456-1111", "US") == "+12024561111"


@pytest.mark.parametrize("raw", ["", "12", "abc", "+86 138", "1" * 40, "+0000000000"])
def test_invalid_phones_are_refused(raw):
    with pytest.raises(InvalidArgument):
        domain.normalize_phone(raw, "CN")


@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_normalizing_a_normalized_phone_changes_nothing(n):
    e164 = domain.normalize_phone(f"139{n:08d}", "CN")
    assert domain.normalize_phone(e164, "CN") == e164


def test_draft_reports_every_bad_field_at_once():
    with pytest.raises(InvalidArgument) as err:
        domain.build_draft(display_name="", kind="robot", phones=["12"], email="not-an-email",
                           region=Region("x" * 65, ""), owner_id="", default_region="CN")
    fields = {v.field for v in err.value.violations}
    assert fields == {"display_name", "kind", "phones[0]", "email", "region.province"}


def test_names_in_any_script_are_kept_and_trimmed():
    draft = domain.build_draft(display_name="  欧阳 娜娜 ", kind="person", phones=["13800138000"], email="",
                               region=Region(), owner_id="", default_region="CN")
    assert draft.display_name == "欧阳 娜娜"


def test_control_characters_in_names_are_refused():
    with pytest.raises(InvalidArgument):
        domain.clean_text("bad\x00name", "display_name", 200, True)


def test_email_is_normalized_by_a_real_validator():
    assert domain.normalize_email("Li.Lei@Example.COM") == "Li.Lei@example.com"
    with pytest.raises(InvalidArgument):
        domain.normalize_email("li@@example")


def test_same_phone_twice_counts_once():
    assert domain.validate_phones(["13800138000", "+8613800138000"], "CN") == ("+8613800138000",)


def test_reps_see_only_their_own_customers_managers_see_all():
    assert domain.can_read(REP, customer("rep-a"))
    assert not domain.can_read(OTHER_REP, customer("rep-a"))
    assert domain.can_read(MANAGER, customer("rep-a"))
    assert not domain.can_write(Principal("agent-1", "agent"), customer("rep-a"))


def test_integration_accounts_get_their_scopes_only():
    reader = Principal("erp", "integration", scopes=frozenset({"customers:read"}))
    assert domain.can_read(reader, customer())
    assert not domain.can_write(reader, customer())
    with pytest.raises(PermissionDenied):
        domain.require_create_right(reader)


def test_reps_cannot_create_for_someone_else():
    with pytest.raises(PermissionDenied):
        domain.owner_for_new_customer(REP, "rep-b")
    assert domain.owner_for_new_customer(MANAGER, "rep-b") == "rep-b"
    assert domain.owner_for_new_customer(REP, "") == "rep-a"


def test_duplicate_message_names_the_relation_not_the_record():
    assert domain.duplicate_relation(REP, "rep-a")[0] == "yours"
    assert domain.duplicate_relation(REP, "")[0] == "public_pool"
    relation, message = domain.duplicate_relation(REP, "rep-b")
    assert relation == "another_owner" and "rep-b" not in message


def test_update_refuses_fields_outside_the_mask_list():
    with pytest.raises(InvalidArgument):
        domain.apply_update(customer(), {"owner_id": "rep-a"}, ["owner_id"], "CN")


def test_update_changes_only_masked_fields():
    updated = domain.apply_update(customer(), {"display_name": "李四", "email": "x@example.com"}, ["display_name"], "CN")
    assert updated.display_name == "李四" and updated.email == ""


def test_page_tokens_round_trip_and_are_bound_to_their_query():
    token = _encode_page_token("cus_" + "b" * 24, "rep-a")
    assert _decode_page_token(token, "rep-a") == "cus_" + "b" * 24
    with pytest.raises(InvalidArgument):
        _decode_page_token(token, "rep-b")
    with pytest.raises(InvalidArgument):
        _decode_page_token("not-a-token", None)

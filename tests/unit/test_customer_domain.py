"""Customer domain rules, pure: no store, no network."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from crm_customer.customers.model import record, editing, access, listing, ownership
from crm_kit.validation import clean_text
from crm_customer.customers.model.record import Anniversary, Consent, Customer, Profile, Region
from crm_kit.auth import Principal
from crm_kit.errors import InvalidArgument, PermissionDenied

REP = Principal("rep-a", "rep", team="east")
OTHER_REP = Principal("rep-b", "rep", team="east")
MANAGER = Principal("boss", "manager", team="east")
OTHER_MANAGER = Principal("boss-w", "manager", team="west")
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def customer(owner="rep-a", phones=("+8613800138000",), team="east", **profile) -> Customer:
    return Customer("cus_" + "a" * 24, Profile(display_name="张三", phones=phones, **profile), owner, team, NOW, NOW, 1,
                    owned_since=NOW if owner else None)


def draft(**values):
    values.setdefault("display_name", "张三")
    values.setdefault("phones", ["13800138000"])
    return editing.build_draft(values, "", "CN")


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "0086 13800138000"])
def test_phone_notations_normalize_to_one_e164(raw):
    assert editing.normalize_phone(raw, "CN") == "+8613800138000"


def test_default_region_decides_national_numbers():
    assert editing.normalize_phone("(202) 456-1111", "US") == "+12024561111"


@pytest.mark.parametrize("raw", ["", "12", "abc", "+86 138", "1" * 40, "+0000000000"])
def test_invalid_phones_are_refused(raw):
    with pytest.raises(InvalidArgument):
        editing.normalize_phone(raw, "CN")


@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_normalizing_a_normalized_phone_changes_nothing(n):
    e164 = editing.normalize_phone(f"139{n:08d}", "CN")
    assert editing.normalize_phone(e164, "CN") == e164


def test_draft_reports_every_bad_field_at_once():
    with pytest.raises(InvalidArgument) as err:
        editing.build_draft({"display_name": "", "kind": "robot", "phones": ["12"], "emails": ["not-an-email"],
                            "region": Region("x" * 65, ""), "stage": "hot"}, "", "CN")
    fields = {v.field for v in err.value.violations}
    assert fields == {"display_name", "kind", "phones[0]", "emails[0]", "region.province", "stage"}


def test_a_customer_needs_a_phone_or_an_email():
    with pytest.raises(InvalidArgument):
        editing.build_draft({"display_name": "无名"}, "", "CN")
    assert draft(phones=[], emails=["a@example.com"]).profile.emails == ("a@example.com",)


def test_unknown_fields_are_refused():
    with pytest.raises(InvalidArgument):
        draft(owner_idx="x")


def test_names_in_any_script_are_kept_and_trimmed():
    assert draft(display_name="  欧阳 娜娜 ").profile.display_name == "欧阳 娜娜"


def test_control_characters_in_names_are_refused():
    with pytest.raises(InvalidArgument):
        clean_text("bad\x00name", "display_name", 200, True)


def test_email_is_normalized_by_a_real_validator():
    assert editing.normalize_email("Li.Lei@Example.COM") == "Li.Lei@example.com"
    with pytest.raises(InvalidArgument):
        editing.normalize_email("li@@example")


def test_same_phone_twice_counts_once():
    assert editing.validate_phones(["13800138000", "+8613800138000"], "CN") == ("+8613800138000",)


def test_every_phone_email_company_and_external_id_is_a_key():
    p = draft(kind="company", display_name="杭州 ＡＢＣ 贸易", phones=["13800138000"], emails=["Sales@ABC.cn"],
              region=Region("浙江", "杭州"), external_id="ERP-1").profile
    assert record.natural_keys(p) == ("phone:+8613800138000", "email:sales@abc.cn", "company:杭州abc贸易|浙江|杭州",
                                      "ext:ERP-1")


def test_company_names_fold_width_case_and_spaces():
    assert record.company_key("ＡＢＣ  Ltd", Region("浙江", "杭州")) == record.company_key("abc ltd", Region("浙江", "杭州"))


def test_chinese_names_sort_and_search_by_pinyin():
    assert record.sort_name("张三") == "zhang san"
    names = ["赵敏", "Alice Wang", "张三", "陈静", "Bob"]
    assert sorted(names, key=record.sort_name) == ["Alice Wang", "Bob", "陈静", "张三", "赵敏"]


@pytest.mark.parametrize("anniversary", [
    Anniversary("birthday", "gregorian", 2, 29, 0),         # year unknown: 29 February may exist
    Anniversary("birthday", "lunar", 8, 15, 1990),
    Anniversary("birthday", "lunar", 6, 1, 2025, True),     # 2025 has a leap sixth month
])
def test_valid_anniversaries_are_stored_as_given(anniversary):
    assert editing.validate_anniversary(anniversary, "birthday") == anniversary


@pytest.mark.parametrize("anniversary", [
    Anniversary("birthday", "gregorian", 2, 29, 2023),      # not a leap year
    Anniversary("birthday", "gregorian", 13, 1, 0),
    Anniversary("birthday", "lunar", 6, 1, 2024, True),     # 2024 has no leap sixth month
    Anniversary("birthday", "lunar", 1, 31, 0),             # lunar months have at most 30 days
    Anniversary("birthday", "julian", 1, 1, 0),
    Anniversary("birthday", "gregorian", 1, 1, 0, True),    # only lunar months are leap
])
def test_impossible_anniversaries_are_refused(anniversary):
    with pytest.raises(InvalidArgument):
        editing.validate_anniversary(anniversary, "birthday")


def test_consent_time_is_set_when_the_state_changes_and_cannot_be_forged():
    before = Profile(display_name="x", phones=("+8613800138000",))
    forged = replace(before, consent_sms=Consent("granted", datetime(2000, 1, 1, tzinfo=timezone.utc)))
    stamped = editing.stamp_consent(before, forged, NOW)
    assert stamped.consent_sms == Consent("granted", NOW)
    assert editing.stamp_consent(stamped, stamped, NOW + timedelta(days=1)).consent_sms == Consent("granted", NOW)


def test_views_by_role():
    mine, pool, theirs = customer("rep-a"), customer(""), customer("rep-b")
    assert access.view_for(REP, mine) == access.FULL
    assert access.view_for(REP, pool) == access.POOL
    assert access.view_for(REP, theirs) is None
    assert access.view_for(MANAGER, theirs) == access.FULL
    assert access.view_for(OTHER_MANAGER, theirs) is None
    assert access.view_for(Principal("agent-1", "agent"), theirs) == access.CONTACT
    assert access.view_for(Principal("root", "admin"), theirs) == access.FULL


def test_pool_view_hides_every_way_to_reach_the_customer():
    c = customer("", emails=("a@example.com",), intent_notes="wants 3 rooms", tags=("vip",))
    seen = access.visible(c, access.POOL).profile
    assert seen.phones == () and seen.emails == () and seen.intent_notes == "" and seen.tags == ("vip",)
    contact = access.visible(c, access.CONTACT).profile
    assert contact.phones == c.profile.phones and contact.intent_notes == "" and contact.tags == ()


def test_writes_by_role():
    assert access.can_write(REP, customer("rep-a"))
    assert not access.can_write(OTHER_REP, customer("rep-a"))
    assert not access.can_write(REP, customer(""))  # claim first
    assert access.can_write(MANAGER, customer("rep-b"))
    assert not access.can_write(OTHER_MANAGER, customer("rep-b"))
    assert not access.can_write(Principal("agent-1", "agent"), customer("rep-a"))


def test_integration_accounts_get_their_scopes_only():
    reader = Principal("erp", "integration", scopes=frozenset({"customers:read"}))
    assert access.view_for(reader, customer()) == access.FULL
    assert not access.can_write(reader, customer())
    with pytest.raises(PermissionDenied):
        access.require_create_right(reader)


def test_reps_cannot_create_for_someone_else():
    with pytest.raises(PermissionDenied):
        access.owner_for_new_customer(REP, "rep-b")
    assert access.owner_for_new_customer(MANAGER, "rep-b") == "rep-b"
    assert access.owner_for_new_customer(REP, "") == "rep-a"


def test_list_scope_by_role():
    assert listing.list_scope(REP, "", False) == listing.ListScope(owner_id="rep-a")
    assert listing.list_scope(REP, "", True) == listing.ListScope(pool_only=True)
    assert listing.list_scope(MANAGER, "rep-b", False) == listing.ListScope(owner_id="rep-b", team_id="east")
    with pytest.raises(PermissionDenied):
        listing.list_scope(REP, "rep-b", False)
    with pytest.raises(PermissionDenied):
        listing.list_scope(Principal("agent-1", "agent"), "", False)


def test_duplicate_message_names_the_relation_not_the_record():
    assert access.duplicate_relation(REP, "rep-a", "phone:+1")[0] == "yours"
    assert access.duplicate_relation(REP, "", "email:x")[0] == "public_pool"
    relation, message = access.duplicate_relation(REP, "rep-b", "company:x")
    assert relation == "another_owner" and "rep-b" not in message and "company" in message


def test_update_refuses_owner_and_system_fields():
    for path in ("owner_id", "team_id", "created_at", "version", "last_contact_at"):
        with pytest.raises(InvalidArgument):
            editing.apply_update(customer().profile, {path: "x"}, [path], "CN")


def test_update_changes_only_masked_fields():
    updated = editing.apply_update(customer().profile, {"display_name": "李四", "emails": ["x@example.com"]},
                                  ["display_name"], "CN")
    assert updated.display_name == "李四" and updated.emails == ()


def test_update_cannot_remove_the_last_way_to_reach_a_customer():
    with pytest.raises(InvalidArgument):
        editing.apply_update(customer().profile, {"phones": []}, ["phones"], "CN")


def test_protection_period_counts_from_the_last_contact_or_the_claim():
    owned = replace(customer(), owned_since=NOW)
    assert not ownership.protection_expired(owned, NOW + timedelta(days=29), 30)
    assert ownership.protection_expired(owned, NOW + timedelta(days=30), 30)
    contacted = replace(owned, last_contact_at=NOW + timedelta(days=20))
    assert not ownership.protection_expired(contacted, NOW + timedelta(days=30), 30)
    assert not ownership.protection_expired(customer(""), NOW + timedelta(days=300), 30)  # already in the pool


@given(st.lists(st.text(min_size=1, max_size=5), min_size=0, max_size=40, unique=True),
       st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=6, unique=True))
def test_hand_over_gives_every_customer_to_exactly_one_rep_evenly(customer_ids, reps):
    plan = ownership.assign_round_robin(customer_ids, reps)
    assert set(plan) == set(customer_ids) and set(plan.values()) <= set(reps)
    loads = [list(plan.values()).count(r) for r in reps]
    assert max(loads) - min(loads) <= 1


def test_list_matching_follows_scope_and_filters():
    c = customer("rep-a", stage="won", tags=("vip",), region=Region("浙江", "杭州"))
    everyone = listing.ListScope()
    assert listing.list_matches(c, listing.ListScope(owner_id="rep-a"), listing.ListFilters(stage="won", tag="vip"))
    assert not listing.list_matches(c, listing.ListScope(owner_id="rep-b"), listing.ListFilters())
    assert not listing.list_matches(c, listing.ListScope(team_id="west"), listing.ListFilters())
    assert not listing.list_matches(c, listing.ListScope(pool_only=True), listing.ListFilters())
    assert not listing.list_matches(c, everyone, listing.ListFilters(city="宁波"))
    assert listing.list_matches(c, everyone, listing.clean_list_filters(listing.ListFilters(name_prefix="张")))
    assert not listing.list_matches(c, everyone, listing.ListFilters(contact_from=NOW))  # never contacted
    assert not listing.list_matches(replace(c, erased_at=NOW), everyone, listing.ListFilters())

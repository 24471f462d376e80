"""Customer grants (crm_kit.customer_directory.CustomerGrants): what they
say, to whom, and for how long."""

from __future__ import annotations

import pytest

from crm_kit.auth import AuthSettings
from crm_kit.customer_directory import GRANT_SECONDS, CustomerGrants, CustomerRef
from crm_kit.settings import SettingsError

SECRET = "g" * 40
REF = CustomerRef("cus_1", "rep-1", "team-1", "浙江")


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


def test_a_grant_reads_back_as_the_answer_it_was_made_of():
    grants = CustomerGrants(SECRET)
    assert grants.read(grants.issue("token-a", REF), "token-a", "cus_1") == REF
    pool = CustomerRef("cus_2", "", "", "")
    assert grants.read(grants.issue("token-a", pool), "token-a", "cus_2") == pool


def test_it_says_nothing_to_another_token_another_customer_or_another_secret():
    grants = CustomerGrants(SECRET)
    grant = grants.issue("token-a", REF)
    assert grants.read(grant, "token-b", "cus_1") is None
    assert grants.read(grant, "", "cus_1") is None
    assert grants.read(grant, "token-a", "cus_9") is None
    assert CustomerGrants("h" * 40).read(grant, "token-a", "cus_1") is None
    assert grants.issue("", REF) == ""  # no caller, no grant


def test_a_tampered_or_oversized_grant_is_not_read():
    grants = CustomerGrants(SECRET)
    head, body, sig = grants.issue("token-a", REF).split(".")
    assert grants.read(f"{head}.{body}.{sig[:-2]}AA", "token-a", "cus_1") is None
    assert grants.read(f"{head}.{body}x.{sig}", "token-a", "cus_1") is None
    assert grants.read("x" * 5000, "token-a", "cus_1") is None


def test_a_grant_runs_out_after_its_seconds():
    clock = Clock()
    grants = CustomerGrants(SECRET, clock=clock)
    grant = grants.issue("token-a", REF)
    clock.now += GRANT_SECONDS - 1
    assert grants.read(grant, "token-a", "cus_1") == REF
    clock.now += 2
    assert grants.read(grant, "token-a", "cus_1") is None


def test_the_grant_secret_is_optional_long_and_not_the_token_secret(monkeypatch):
    monkeypatch.setenv("CRM_JWT_DEV_SECRET", "d" * 40)
    monkeypatch.delenv("CRM_CUSTOMER_GRANT_SECRET", raising=False)
    assert CustomerGrants.of(AuthSettings.from_env()) is None
    monkeypatch.setenv("CRM_CUSTOMER_GRANT_SECRET", "short")
    with pytest.raises(SettingsError, match="CRM_CUSTOMER_GRANT_SECRET"):
        AuthSettings.from_env()
    monkeypatch.setenv("CRM_CUSTOMER_GRANT_SECRET", "d" * 40)
    with pytest.raises(SettingsError, match="differ"):
        AuthSettings.from_env()
    monkeypatch.setenv("CRM_CUSTOMER_GRANT_SECRET", SECRET)
    assert CustomerGrants.of(AuthSettings.from_env()) is not None

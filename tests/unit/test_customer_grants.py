"""Customer grants (crm_kit.customer_directory.CustomerGrants): what they
say, to whom, for how long, and who can make them."""

from __future__ import annotations

import jwt
import pytest

from crm_kit.auth import AuthSettings, load_grant_keys, new_grant_keys
from crm_kit.customer_directory import GRANT_AUDIENCE, GRANT_SECONDS, CustomerGrants, CustomerRef, _token_digest
from crm_kit.settings import SettingsError

SIGNING, VERIFY = new_grant_keys()
REF = CustomerRef("cus_1", "rep-1", "team-1", "浙江")
T0 = 1_800_000_000.0


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def grants(clock=None, signing: str | None = SIGNING) -> CustomerGrants:
    private, public = load_grant_keys(signing, VERIFY)
    return CustomerGrants(public, private, clock or Clock())


def test_a_grant_reads_back_as_the_answer_it_was_made_of():
    g = grants()
    assert g.read(g.issue("token-a", REF), "token-a", "cus_1") == REF
    pool = CustomerRef("cus_2", "", "", "")
    assert g.read(g.issue("token-a", pool), "token-a", "cus_2") == pool


def test_it_says_nothing_to_another_token_or_about_another_customer():
    g = grants()
    grant = g.issue("token-a", REF)
    assert g.read(grant, "token-b", "cus_1") is None
    assert g.read(grant, "", "cus_1") is None
    assert g.read(grant, "token-a", "cus_9") is None
    assert g.issue("", REF) == ""  # no caller, no grant


def test_only_the_signing_key_makes_one():
    """The services that read grants hold the public key: they cannot make
    one, and neither can anyone with a user token's HS256 secret."""
    reader = grants(signing=None)
    assert reader.issue("token-a", REF) == ""
    other_private, _ = load_grant_keys(new_grant_keys()[0], None)
    claims = {"aud": GRANT_AUDIENCE, "iat": T0, "exp": T0 + 5, "tok": _token_digest("token-a"), "sub": "cus_1",
              "own": "rep-1", "team": "team-1", "reg": ""}
    assert reader.read(jwt.encode(claims, other_private, algorithm="EdDSA"), "token-a", "cus_1") is None
    assert reader.read(jwt.encode(claims, "s" * 40, algorithm="HS256"), "token-a", "cus_1") is None
    assert reader.read(jwt.encode({**claims, "aud": "crm"}, load_grant_keys(SIGNING, None)[0], algorithm="EdDSA"),
                       "token-a", "cus_1") is None


def test_a_tampered_or_oversized_grant_is_not_read():
    g = grants()
    head, body, sig = g.issue("token-a", REF).split(".")
    flipped = sig[:10] + ("B" if sig[10] == "A" else "A") + sig[11:]  # a middle character: all six bits count
    assert g.read(f"{head}.{body}.{flipped}", "token-a", "cus_1") is None
    assert g.read(f"{head}.{body}x.{sig}", "token-a", "cus_1") is None
    assert g.read("x" * 5000, "token-a", "cus_1") is None


def test_a_grant_runs_out_after_its_seconds_and_cannot_ask_for_more():
    clock = Clock()
    g = grants(clock)
    grant = g.issue("token-a", REF)
    clock.now += GRANT_SECONDS - 0.01
    assert g.read(grant, "token-a", "cus_1") == REF
    clock.now += 0.02
    assert g.read(grant, "token-a", "cus_1") is None
    # A well-signed grant that claims a longer life, or one issued in the future, is not read either.
    private, _ = load_grant_keys(SIGNING, None)
    claims = {"aud": GRANT_AUDIENCE, "tok": _token_digest("token-a"), "sub": "cus_1", "own": "", "team": "", "reg": ""}
    long_lived = jwt.encode({**claims, "iat": T0, "exp": T0 + 3600}, private, algorithm="EdDSA")
    from_the_future = jwt.encode({**claims, "iat": T0 + 60, "exp": T0 + 62}, private, algorithm="EdDSA")
    clock.now = T0 + 1
    assert g.read(long_lived, "token-a", "cus_1") is None
    assert g.read(from_the_future, "token-a", "cus_1") is None


def test_the_grant_keys_are_optional_checked_and_a_pair(monkeypatch):
    monkeypatch.setenv("CRM_JWT_DEV_SECRET", "d" * 40)
    for name in ("CRM_CUSTOMER_GRANT_SIGNING_KEY", "CRM_CUSTOMER_GRANT_VERIFY_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert CustomerGrants.of(AuthSettings.from_env()) is None
    monkeypatch.setenv("CRM_CUSTOMER_GRANT_VERIFY_KEY", "not-a-key")
    with pytest.raises(SettingsError, match="CRM_CUSTOMER_GRANT_VERIFY_KEY"):
        AuthSettings.from_env()
    monkeypatch.setenv("CRM_CUSTOMER_GRANT_VERIFY_KEY", new_grant_keys()[1])
    monkeypatch.setenv("CRM_CUSTOMER_GRANT_SIGNING_KEY", SIGNING)
    with pytest.raises(SettingsError, match="not the public key"):
        AuthSettings.from_env()
    monkeypatch.setenv("CRM_CUSTOMER_GRANT_VERIFY_KEY", VERIFY)
    settings = AuthSettings.from_env()
    assert CustomerGrants.of(settings).issue("t", REF)
    assert SIGNING not in repr(settings)  # no private key in a log line or traceback
    monkeypatch.delenv("CRM_CUSTOMER_GRANT_SIGNING_KEY")
    assert CustomerGrants.of(AuthSettings.from_env()).issue("t", REF) == ""  # verify only

"""Service kit: settings validation, tokens, error mapping."""

from __future__ import annotations

import json
import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from crm_kit.auth import AuthSettings, TokenVerifier, mint_dev_token
from crm_kit.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, Unauthenticated
from crm_kit.grpc_errors import to_status
from crm_kit.settings import SettingsError, env_address, env_int, env_url
from crm_customer.settings import CustomerSettings

SECRET = "s" * 40
DEV = AuthSettings("crm", "crm", SECRET, None)


def test_bad_variables_are_named(monkeypatch):
    monkeypatch.setenv("CUSTOMER_GRPC_WORKERS", "many")
    with pytest.raises(SettingsError, match="CUSTOMER_GRPC_WORKERS"):
        env_int("CUSTOMER_GRPC_WORKERS", 16)
    monkeypatch.setenv("CUSTOMER_GRPC_ADDR", "nohost")
    with pytest.raises(SettingsError, match="CUSTOMER_GRPC_ADDR"):
        env_address("CUSTOMER_GRPC_ADDR", "127.0.0.1:1")
    monkeypatch.setenv("CUSTOMER_MONGODB_URI", "http://db")
    with pytest.raises(SettingsError, match="CUSTOMER_MONGODB_URI"):
        env_url("CUSTOMER_MONGODB_URI", None, schemes=("mongodb",))


def test_service_settings_fail_on_unknown_phone_region(monkeypatch):
    monkeypatch.setenv("CRM_JWT_DEV_SECRET", SECRET)
    monkeypatch.setenv("CUSTOMER_DEFAULT_PHONE_REGION", "XX")
    with pytest.raises(SettingsError, match="CUSTOMER_DEFAULT_PHONE_REGION"):
        CustomerSettings.from_env()


def test_exactly_one_key_source_is_required(monkeypatch):
    monkeypatch.delenv("CRM_JWT_DEV_SECRET", raising=False)
    monkeypatch.delenv("CRM_JWT_JWKS_FILE", raising=False)
    with pytest.raises(SettingsError, match="CRM_JWT_DEV_SECRET"):
        AuthSettings.from_env()


def test_dev_token_round_trip():
    principal = TokenVerifier(DEV).verify(mint_dev_token(SECRET, "rep-7", "rep", team="east"))
    assert (principal.subject, principal.role, principal.team) == ("rep-7", "rep", "east")


@pytest.mark.parametrize("bad", [
    mint_dev_token("w" * 40, "rep-7", "rep"),  # wrong key
    mint_dev_token(SECRET, "rep-7", "rep", ttl_seconds=-10),  # expired
    jwt.encode({"sub": "x", "role": "emperor", "iss": "crm", "aud": "crm", "exp": int(time.time()) + 60}, SECRET),
    jwt.encode({"sub": "x", "role": "rep", "iss": "crm", "aud": "crm", "exp": int(time.time()) + 60}, "", algorithm="none"),
    "garbage",
])
def test_bad_tokens_are_unauthenticated(bad):
    with pytest.raises(Unauthenticated):
        TokenVerifier(DEV).verify(bad)


def test_rs256_tokens_verify_against_a_key_set(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    verifier = TokenVerifier(AuthSettings("crm", "crm", None, str(jwks)))
    claims = {"sub": "svc", "role": "integration", "scope": "customers:read", "iss": "crm", "aud": "crm",
              "exp": int(time.time()) + 60}
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert verifier.verify(good).scopes == frozenset({"customers:read"})
    with pytest.raises(Unauthenticated):
        verifier.verify(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "other"}))
    with pytest.raises(Unauthenticated):  # an HS256 token signed with the public key must not pass
        verifier.verify(mint_dev_token("p" * 40, "svc", "admin"))


def test_domain_errors_map_to_status_codes():
    assert to_status(InvalidArgument(FieldViolation("x", "bad"))).code == grpc.StatusCode.INVALID_ARGUMENT
    assert to_status(NotFound("customer")).code == grpc.StatusCode.NOT_FOUND
    assert to_status(AlreadyExists("customer", "phone:+1", "yours", "dup")).code == grpc.StatusCode.ALREADY_EXISTS


def test_indexes_can_be_ensured_again_at_every_start(stores):
    from pymongo import ASCENDING, IndexModel

    from crm_kit import mongo

    client = mongo.connect(stores.mongodb_uri, "tests")
    try:
        db = client["crm_kit_indexes_test"]
        wanted = {"things": [IndexModel([("a", ASCENDING)], name="a_1"), IndexModel([("b", ASCENDING)], name="b_1")]}
        mongo.ensure_indexes(db, wanted)
        mongo.ensure_indexes(db, wanted)  # a restart: the indexes exist already
        assert {"a_1", "b_1"} <= set(db["things"].index_information())
    finally:
        client.close()


def test_bulk_appends_to_several_chains_keep_every_doc_once_and_no_gaps(stores):
    import uuid

    from crm_kit import mongo
    from crm_kit.persistence.chain import Chain, link_id

    client = mongo.connect(stores.mongodb_uri, "tests")
    try:
        db = client[f"crm_kit_chain_{uuid.uuid4().hex[:8]}"]
        chain = Chain(db["links"], db["hints"])
        chain.append("a", lambda n, _prev: {"v": "first"})
        # Another writer took link 2 of "a" and died before moving the hint.
        db["links"].insert_one({"_id": link_id("a", 2), "v": "theirs"})
        chain.append_to_many({"a": [{"v": "x"}, {"v": "y"}], "b": [{"v": "z"}]})
        a_top, _ = chain.top("a")
        assert sorted(chain.link("a", n)["v"] for n in range(1, a_top + 1)) == ["first", "theirs", "x", "y"]
        assert [chain.link("b", n)["v"] for n in range(1, chain.top("b")[0] + 1)] == ["z"]
    finally:
        client.close()


def test_not_found_never_echoes_a_name_longer_than_any_id():
    """A 100,000-character id sent over gRPC must come back NOT_FOUND, not
    overflow the status trailers (RESOURCE_EXHAUSTED)."""
    from crm_kit.errors import NotFound
    from crm_kit.grpc_errors import to_status

    assert NotFound("order", "ord_" + "a" * 24).resource_name == "ord_" + "a" * 24
    huge = NotFound("order", "x" * 100_000)
    assert huge.resource_name == "" and to_status(huge).code.name == "NOT_FOUND"
    assert sum(len(value) for _key, value in to_status(huge).trailing_metadata) < 1000


def test_a_job_with_a_number_of_runs_ends_after_them_and_a_failed_run_does_not_count():
    from crm_kit.jobs import PeriodicJob

    calls = []

    def run():
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the store was away")  # retried at the next tick
        return len(calls)

    job = PeriodicJob("bounded", 0.01, run, first_run_after=0, runs=2)
    job.start()
    job._thread.join(10)
    assert not job._thread.is_alive()  # ended by itself, not stopped
    assert calls == [0, 1, 2]  # one failure, then the two runs it was given

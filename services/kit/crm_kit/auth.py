"""Bearer-JWT authentication shared by the gateway and every service.

Development: HS256 with a shared secret (`CRM_JWT_DEV_SECRET`).
Production: RS256 verified against a JSON Web Key Set (`CRM_JWT_JWKS_FILE`),
so services hold only public keys. Exactly one of the two must be set.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crm_kit.errors import Unauthenticated
from crm_kit.settings import SettingsError, env_optional, env_str

ROLES = ("admin", "manager", "rep", "agent", "finance", "integration")


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    team: str = ""
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "manager")


@dataclass(frozen=True)
class AuthSettings:
    issuer: str
    audience: str
    dev_secret: str | None = field(repr=False)
    jwks_file: str | None
    # Customer grants (customer_directory.CustomerGrants), raw Ed25519 keys in base64url: the customer service
    # signs (and holds the private key), the services that follow its answers verify; the gateway holds neither.
    grant_signing_key: str | None = field(default=None, repr=False)
    grant_verify_key: str | None = None

    @classmethod
    def from_env(cls) -> "AuthSettings":
        dev_secret = env_optional("CRM_JWT_DEV_SECRET")
        jwks_file = env_optional("CRM_JWT_JWKS_FILE")
        if bool(dev_secret) == bool(jwks_file):
            raise SettingsError("set exactly one of CRM_JWT_DEV_SECRET (HS256, development) "
                                "and CRM_JWT_JWKS_FILE (RS256 key set, production)")
        if dev_secret and len(dev_secret) < 32:
            raise SettingsError("environment variable CRM_JWT_DEV_SECRET must be at least 32 characters")
        if jwks_file and not Path(jwks_file).is_file():
            raise SettingsError(f"environment variable CRM_JWT_JWKS_FILE names a missing file: {jwks_file}")
        grant_signing_key = env_optional("CRM_CUSTOMER_GRANT_SIGNING_KEY")
        grant_verify_key = env_optional("CRM_CUSTOMER_GRANT_VERIFY_KEY")
        load_grant_keys(grant_signing_key, grant_verify_key)  # fail at start-up, naming the variable
        return cls(
            issuer=env_str("CRM_JWT_ISSUER", "crm"),
            audience=env_str("CRM_JWT_AUDIENCE", "crm"),
            dev_secret=dev_secret,
            jwks_file=jwks_file,
            grant_signing_key=grant_signing_key,
            grant_verify_key=grant_verify_key,
        )


def _raw_key(name: str, text: str) -> bytes:
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise SettingsError(f"environment variable {name} must be a raw Ed25519 key, 32 bytes in base64url "
                            "(`crm grant-keys` makes a pair)")
    return raw


def load_grant_keys(signing: str | None, verify: str | None) -> tuple[Ed25519PrivateKey | None,
                                                                      Ed25519PublicKey | None]:
    """The customer grant keys from their settings: (signing key or None, verify key or None). The verify key
    follows from the signing key; given both, they must be a pair."""
    private = Ed25519PrivateKey.from_private_bytes(_raw_key("CRM_CUSTOMER_GRANT_SIGNING_KEY", signing)) \
        if signing else None
    public = Ed25519PublicKey.from_public_bytes(_raw_key("CRM_CUSTOMER_GRANT_VERIFY_KEY", verify)) \
        if verify else None
    if private is not None:
        derived = private.public_key()
        if public is not None and public.public_bytes_raw() != derived.public_bytes_raw():
            raise SettingsError("CRM_CUSTOMER_GRANT_VERIFY_KEY is not the public key of "
                                "CRM_CUSTOMER_GRANT_SIGNING_KEY")
        public = derived
    return private, public


def _key_text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_grant_keys() -> tuple[str, str]:
    """A fresh (signing, verify) pair as the settings take them."""
    private = Ed25519PrivateKey.generate()
    return _key_text(private.private_bytes_raw()), _key_text(private.public_key().public_bytes_raw())


def grant_verify_key_of(signing: str) -> str:
    """The verify key (as the settings take it) that goes with a signing key."""
    _, public = load_grant_keys(signing, None)
    return _key_text(public.public_bytes_raw())


class TokenVerifier:
    # Verified tokens are remembered until they expire: every hop re-checks
    # the same token, and a signature check costs more than the dict lookup.
    CACHE_SIZE = 10_000

    def __init__(self, settings: AuthSettings):
        self.settings = settings
        self._keys: dict[str, object] = {}
        self._verified: dict[str, tuple[Principal, float]] = {}
        if settings.jwks_file:
            jwks = json.loads(Path(settings.jwks_file).read_text())
            for jwk in jwks.get("keys", []):
                self._keys[jwk["kid"]] = jwt.PyJWK(jwk).key
            if not self._keys:
                raise SettingsError("CRM_JWT_JWKS_FILE holds no keys")

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires_at = self._verify_signature(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires_at)
        return principal

    def _verify_signature(self, token: str) -> tuple[Principal, float]:
        try:
            if self.settings.dev_secret:
                key, algorithms = self.settings.dev_secret, ["HS256"]
            else:
                kid = jwt.get_unverified_header(token).get("kid", "")
                if kid not in self._keys:
                    raise Unauthenticated("token signed by an unknown key")
                key, algorithms = self._keys[kid], ["RS256"]
            claims = jwt.decode(
                token, key, algorithms=algorithms, audience=self.settings.audience,
                issuer=self.settings.issuer, options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("invalid token") from None
        return principal_from_claims(claims), float(claims["exp"])

    def verify_header(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("missing bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("authorization must be 'Bearer <token>'")
        return self.verify(token.strip())


def principal_from_claims(claims: dict) -> Principal:
    role = claims.get("role")
    subject = claims.get("sub")
    if role not in ROLES:
        raise Unauthenticated("token has no valid role")
    if not isinstance(subject, str) or not 0 < len(subject) <= 128:
        raise Unauthenticated("token has no valid subject")
    scopes = claims.get("scope", "")
    return Principal(
        subject=subject,
        role=role,
        team=str(claims.get("team", ""))[:128],
        scopes=frozenset(scopes.split()) if isinstance(scopes, str) else frozenset(),
    )


def mint_dev_token(secret: str, subject: str, role: str, *, team: str = "", scopes: str = "",
                   ttl_seconds: int = 12 * 3600, issuer: str = "crm", audience: str = "crm") -> str:
    """A development token (HS256). Production tokens come from the identity provider."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = int(time.time())
    claims = {"sub": subject, "role": role, "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl_seconds}
    if team:
        claims["team"] = team
    if scopes:
        claims["scope"] = scopes
    return jwt.encode(claims, secret, algorithm="HS256")

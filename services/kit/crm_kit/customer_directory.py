"""Who a customer belongs to, asked of the customer service at the time of
each call (never copied): everything a service keeps about a customer
(sales' orders, loyalty's points) hangs off it and follows the customer's
rights.

The call carries the caller's own token (the kit's client interceptor
forwards it), so the customer service applies its rules: a rep asking about
another rep's customer gets NOT_FOUND, and so does the asking service's
caller.

The 360 card asks two more services about one customer a few milliseconds
after the customer service answered the gateway about it. That answer comes
with a **customer grant** (CustomerGrants): the owner, team and region the
customer service gave this caller, signed with an Ed25519 key only the
customer service holds (CRM_CUSTOMER_GRANT_SIGNING_KEY; the others hold the
public key, CRM_CUSTOMER_GRANT_VERIFY_KEY, and the gateway neither: it
relays what it cannot make). The gateway sends it with the card's section
calls (metadata `x-crm-customer-grant`); a service does not send on a grant
it received. A **read** (`get(..., for_reading=True)`, or any get within
`one_answer_each(reading=True)`: the card's sales section, the loyalty
account) takes the answer from it instead of asking again; writes always
ask, also after a granted read within the same `one_answer_each` block. A
grant is bound to the caller's own bearer token and to one customer, and is
good for GRANT_SECONDS from its issue: a change of rights reaches a card's
read at most that late (plus the clock skew allowed between pods,
CLOCK_SKEW_SECONDS). Anything else (no key,
another token, another customer, expired, a bad signature) is ignored and
the customer service is asked.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm_kit import context
from crm_kit.auth import AuthSettings, load_grant_keys
from crm_kit.errors import NotFound, Unavailable
from crm_kit.grpc_client import open_channel

SERVICE = "crm.customer.v1.CustomerService"


@dataclass(frozen=True)
class CustomerRef:
    id: str
    owner_id: str  # "" while in the public pool
    team_id: str
    # The customer's region code (its province), as the profit reports filter by it; "" when none.
    region: str = ""

    @property
    def in_pool(self) -> bool:
        return not self.owner_id

    @classmethod
    def of(cls, c: cpb.Customer) -> "CustomerRef":
        """From the customer service's answer (as the caller may see the customer)."""
        return cls(c.id, c.owner_id, c.team_id, c.region.province)


GRANT_SECONDS = 5.0
# How far the reading pod's clock may run behind the issuing one's (NTP keeps pods well within it).
CLOCK_SKEW_SECONDS = 1.0
# Never a user token's audience (nor its algorithm or key): a grant cannot pass as a login.
GRANT_AUDIENCE = "crm-customer-grant"


def _token_digest(bearer_token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(bearer_token.encode()).digest()[:18]).decode()


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class CustomerGrants:
    """Issues (the customer service, which holds the signing key) and reads
    (every service with the public key) signed answers about one customer
    for one caller's token."""

    def __init__(self, verify_key: Ed25519PublicKey, signing_key: Ed25519PrivateKey | None = None,
                 clock: Callable[[], float] = time.time):
        self._verify_key, self._signing_key, self._clock = verify_key, signing_key, clock

    @classmethod
    def of(cls, auth: AuthSettings) -> "CustomerGrants | None":
        """None when the platform runs without grant keys (every service asks)."""
        signing, verifying = load_grant_keys(auth.grant_signing_key, auth.grant_verify_key)
        return cls(verifying, signing) if verifying is not None else None

    def issue(self, bearer_token: str, ref: CustomerRef) -> str:
        """"" without the signing key or a caller's token (a grant says something only with one)."""
        if self._signing_key is None or not bearer_token:
            return ""
        now = round(self._clock(), 3)
        claims = {"aud": GRANT_AUDIENCE, "iat": now, "exp": now + GRANT_SECONDS, "tok": _token_digest(bearer_token),
                  "sub": ref.id, "own": ref.owner_id, "team": ref.team_id, "reg": ref.region}
        return jwt.encode(claims, self._signing_key, algorithm="EdDSA")

    def read(self, grant: str, bearer_token: str, customer_id: str) -> CustomerRef | None:
        """The customer as the grant says this caller may see it; None unless
        the grant is well signed, current, for this customer and this token."""
        if not grant or not bearer_token or len(grant) > 2048:
            return None
        try:
            # Times are checked below, with the lifetime bounded too (PyJWT checks exp alone).
            claims = jwt.decode(grant, self._verify_key, algorithms=["EdDSA"], audience=GRANT_AUDIENCE,
                                options={"require": ["iat", "exp", "sub", "aud", "tok"], "verify_exp": False,
                                         "verify_iat": False})
        except jwt.PyJWTError:
            return None
        issued, expires, now = claims["iat"], claims["exp"], self._clock()
        if not (_number(issued) and _number(expires)) or not 0 < expires - issued <= GRANT_SECONDS:
            return None
        if not issued - CLOCK_SKEW_SECONDS <= now < expires:
            return None
        if claims["sub"] != customer_id or claims["tok"] != _token_digest(bearer_token):
            return None
        if not all(isinstance(claims.get(k), str) for k in ("own", "team", "reg")):
            return None
        return CustomerRef(customer_id, claims["own"], claims["team"], claims["reg"])


# Answers already had within one use case (see CustomerDirectory.one_answer_each).
_answers: contextvars.ContextVar[dict | None] = contextvars.ContextVar("customer_answers", default=None)
# Set within a block that only reads (one_answer_each(reading=True)): every get in it is a read.
_reading_only: contextvars.ContextVar[bool] = contextvars.ContextVar("customer_reading_only", default=False)


class CustomerDirectory:
    def __init__(self, channel: grpc.Channel, grants: CustomerGrants | None = None):
        self._stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
        self._grants = grants

    @classmethod
    def connect(cls, target: str, grants: CustomerGrants | None = None) -> "CustomerDirectory":
        return cls(open_channel(target, SERVICE, ("GetCustomer",)), grants)

    @contextlib.contextmanager
    def one_answer_each(self, *, reading: bool = False):
        """Within the block, each customer is asked about once: a use case that
        composes several features' reads (the 360 card's sales section) pays
        for one round trip, not one per feature. Only for a single caller's
        single request: rights can change between requests. `reading`: the
        block only reads, so each get in it may go by the caller's grant."""
        reset = _answers.set({})
        reading_reset = _reading_only.set(reading)
        try:
            yield
        finally:
            _reading_only.reset(reading_reset)
            _answers.reset(reset)

    def get(self, customer_id: str, *, for_reading: bool = False) -> CustomerRef:
        """The customer as the current caller may see it; NotFound when the
        caller may not see it at all (or it does not exist, or was erased).
        `for_reading`: a read may take the answer from the caller's customer
        grant (a write never does: it stores or acts on the owner now)."""
        for_reading = for_reading or _reading_only.get()
        answers = _answers.get()
        if answers is not None and customer_id in answers:
            found, by_grant = answers[customer_id]
            if for_reading or not by_grant:  # a write after a granted read within the block still asks
                return found
        granted = self._granted(customer_id) if for_reading else None
        found = granted or self._ask(customer_id)
        if answers is not None:
            answers[customer_id] = (found, granted is not None)
        return found

    def _granted(self, customer_id: str) -> CustomerRef | None:
        grant = context.received_customer_grant.get()
        if not grant or self._grants is None:
            return None
        return self._grants.read(grant, context.bearer_token.get(), customer_id)

    def _ask(self, customer_id: str) -> CustomerRef:
        try:
            c = self._stub.GetCustomer(cpb.GetCustomerRequest(id=customer_id))
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT,
                              grpc.StatusCode.PERMISSION_DENIED):
                raise NotFound("customer", customer_id) from None
            raise Unavailable("the customer service could not be asked who owns the customer") from None
        return CustomerRef.of(c)

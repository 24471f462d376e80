"""Contact, consent and dates of the customers, streamed from the customer
service a page of 100 at a time as a run greets them (never copied here: a
page is read seconds before its greetings are sent, so a consent withdrawn a
minute ago is honoured and customer.consent_changed needs no handler; one
withdrawn within those seconds may still be greeted once).

The run asks as the loyalty service itself: an integration principal with
only the `customers:read` scope (LOYALTY_SERVICE_TOKEN in production, where
services hold public keys only; minted from the development secret
otherwise). A caller's reads of the delivery log ask with the caller's own
token (the kit's client interceptor forwards it): what the customer service
does not show them is NotFound here too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc

from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm_kit import context
from crm_kit.auth import AuthSettings, mint_dev_token
from crm_kit.errors import NotFound, Unavailable
from crm_kit.grpc_client import open_channel
from crm_kit.ids import id_pattern, matches
from crm_kit.settings import SettingsError

from crm_loyalty.greetings.model import Contact, RecordedDate

SERVICE = "crm.customer.v1.CustomerService"
SYSTEM_SUBJECT = "svc-loyalty"
CUSTOMER_ID = id_pattern("cus")
# The longest a run may read contacts: a million customers at the festival's pace take well under an hour.
STREAM_DEADLINE_SECONDS = 4 * 3600


class SystemToken:
    """The loyalty service's own bearer token, renewed before it expires."""

    def __init__(self, auth: AuthSettings | None, static_token: str = "", ttl_seconds: int = 3600):
        if not static_token and not (auth and auth.dev_secret):
            raise SettingsError("environment variable LOYALTY_SERVICE_TOKEN is required when tokens are not "
                                "minted from CRM_JWT_DEV_SECRET (the greetings read contacts as the service)")
        self.auth, self.static, self.ttl = auth, static_token, ttl_seconds
        self._token, self._renew_at = "", 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        if self.static:
            return self.static
        with self._lock:
            if time.monotonic() >= self._renew_at:
                self._token = mint_dev_token(self.auth.dev_secret, SYSTEM_SUBJECT, "integration",
                                             scopes="customers:read", issuer=self.auth.issuer,
                                             audience=self.auth.audience, ttl_seconds=self.ttl)
                self._renew_at = time.monotonic() + self.ttl / 2
            return self._token


class CustomerContacts:
    def __init__(self, channel: grpc.Channel, system_token: SystemToken, page_size: int = 0):
        self._stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
        self._system_token = system_token
        self.page_size = page_size  # customers per page of everyone(); 0: the customer service's own (100)

    @classmethod
    def connect(cls, target: str, system_token: SystemToken, page_size: int = 0) -> "CustomerContacts":
        # A page of 100 records is at most about 4 MB: room above gRPC's default limit of 4 MB a message.
        return cls(open_channel(target, SERVICE, ("GetCustomer", "StreamCustomers"), max_receive_bytes=16 << 20),
                   system_token, page_size)

    def everyone(self) -> Iterator[list[Contact]]:
        """Every live customer's contact, a page at a time, from one pass
        over the customer service's store (StreamCustomers), asked as the
        system. The call's deadline (STREAM_DEADLINE_SECONDS) bounds a run
        whose customer service stops sending; the channel's keepalive
        notices a dead peer sooner. Unavailable when the stream cannot be
        opened, breaks off or passes its deadline; closing the generator
        (the run ending early) cancels the call."""
        metadata = [("authorization", f"Bearer {self._system_token()}")]
        if rid := context.request_id.get():
            metadata.append(("x-request-id", rid))
        call = self._stub.StreamCustomers(cpb.StreamCustomersRequest(page_size=self.page_size), metadata=metadata,
                                          timeout=STREAM_DEADLINE_SECONDS)
        try:
            for page in call:
                yield [_contact(c) for c in page.customers if not c.HasField("erase_time")]
        except grpc.RpcError:
            raise Unavailable("the customer service could not be asked for its customers' contacts") from None
        finally:
            call.cancel()  # a no-op once the stream has ended

    def require_visible(self, customer_id: str) -> None:
        """NotFound unless the current caller may see the customer."""
        if not matches(CUSTOMER_ID, customer_id):
            raise NotFound("customer", "")
        try:
            self._stub.GetCustomer(cpb.GetCustomerRequest(id=customer_id))
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT,
                              grpc.StatusCode.PERMISSION_DENIED):
                raise NotFound("customer", customer_id) from None
            raise Unavailable("the customer service could not be asked whether the customer may be seen") from None


def _contact(c: cpb.Customer) -> Contact:
    return Contact(
        customer_id=c.id, name=c.display_name, phone=c.phones[0] if c.phones else "",
        email=c.emails[0] if c.emails else "",
        consent_sms=c.consent_sms.state or "unknown", consent_email=c.consent_email.state or "unknown",
        birthday=_recorded(c.birthday) if c.HasField("birthday") else None,
        anniversaries=tuple(r for a in c.anniversaries if (r := _recorded(a)) is not None))


def _recorded(a: cpb.Anniversary) -> RecordedDate | None:
    if not (1 <= a.month <= 12 and 1 <= a.day <= 31):
        return None
    return RecordedDate(a.calendar or "gregorian", a.month, a.day, a.leap_month, a.label)

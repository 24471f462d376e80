"""Per-call context carried across threads and hops: request id, caller,
the caller's customer grant.

Set by the gRPC server interceptors and the gateway; read by the client
interceptor so the request id and the caller's token travel with every call.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")
bearer_token: ContextVar[str] = ContextVar("bearer_token", default="")
# A signed answer of the customer service about one customer for this caller
# (customer_directory.CustomerGrants): the one to send with outgoing calls
# (only the gateway's card sets it), and the one the call being handled
# came with. Two variables, so a service never sends on a grant it got.
customer_grant: ContextVar[str] = ContextVar("customer_grant", default="")
received_customer_grant: ContextVar[str] = ContextVar("received_customer_grant", default="")
# time.monotonic() by which the caller stops waiting for this call (None: no deadline).
deadline: ContextVar[float | None] = ContextVar("deadline", default=None)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def accept_request_id(candidate: str | None) -> str:
    """Keep a caller's request id if it is well-formed, else make a new one
    (ids end up in logs, so nothing arbitrary gets through)."""
    if candidate and _REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex

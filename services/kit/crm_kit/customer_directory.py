"""Who a customer belongs to, asked of the customer service at the time of
each call (never copied): everything a service keeps about a customer
(sales' orders, loyalty's points) hangs off it and follows the customer's
rights.

The call carries the caller's own token (the kit's client interceptor
forwards it), so the customer service applies its rules: a rep asking about
another rep's customer gets NOT_FOUND, and so does the asking service's
caller.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

import grpc

from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
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


# Answers already had within one use case (see CustomerDirectory.one_answer_each).
_answers: contextvars.ContextVar[dict | None] = contextvars.ContextVar("customer_answers", default=None)


class CustomerDirectory:
    def __init__(self, channel: grpc.Channel):
        self._stub = customer_service_pb2_grpc.CustomerServiceStub(channel)

    @classmethod
    def connect(cls, target: str) -> "CustomerDirectory":
        return cls(open_channel(target, SERVICE, ("GetCustomer",)))

    @contextlib.contextmanager
    def one_answer_each(self):
        """Within the block, each customer is asked about once: a use case that
        composes several features' reads (the 360 card's sales section) pays
        for one round trip, not one per feature. Only for a single caller's
        single request: rights can change between requests."""
        reset = _answers.set({})
        try:
            yield
        finally:
            _answers.reset(reset)

    def get(self, customer_id: str) -> CustomerRef:
        """The customer as the current caller may see it; NotFound when the
        caller may not see it at all (or it does not exist, or was erased)."""
        answers = _answers.get()
        if answers is not None and customer_id in answers:
            return answers[customer_id]
        found = self._ask(customer_id)
        if answers is not None:
            answers[customer_id] = found
        return found

    def _ask(self, customer_id: str) -> CustomerRef:
        try:
            c = self._stub.GetCustomer(cpb.GetCustomerRequest(id=customer_id))
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT,
                              grpc.StatusCode.PERMISSION_DENIED):
                raise NotFound("customer", customer_id) from None
            raise Unavailable("the customer service could not be asked who owns the customer") from None
        return CustomerRef(c.id, c.owner_id, c.team_id, c.region.province)

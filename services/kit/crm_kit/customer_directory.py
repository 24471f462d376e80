"""Who a customer belongs to, asked of the customer service at the time of
each call, as the caller (the kit's client interceptor forwards the caller's
token), so the customer service applies its own rules: a rep asking about
another rep's customer gets NOT_FOUND, and so does the asking service's
caller. For services that hang things off customers (loyalty; sales keeps
its own copy in crm_sales.customers, which could move here).
"""

from __future__ import annotations

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

    @property
    def in_pool(self) -> bool:
        return not self.owner_id


class CustomerDirectory:
    def __init__(self, channel: grpc.Channel):
        self._stub = customer_service_pb2_grpc.CustomerServiceStub(channel)

    @classmethod
    def connect(cls, target: str) -> "CustomerDirectory":
        return cls(open_channel(target, SERVICE, ("GetCustomer",)))

    def get(self, customer_id: str) -> CustomerRef:
        """The customer as the current caller may see it; NotFound when the
        caller may not see it at all (or it does not exist, or was erased)."""
        try:
            c = self._stub.GetCustomer(cpb.GetCustomerRequest(id=customer_id))
        except grpc.RpcError as err:
            if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT,
                              grpc.StatusCode.PERMISSION_DENIED):
                raise NotFound("customer", customer_id) from None
            raise Unavailable("the customer service could not be asked about the customer") from None
        return CustomerRef(c.id, c.owner_id, c.team_id)

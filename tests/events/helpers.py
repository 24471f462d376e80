from __future__ import annotations

from crm.events.v1 import events_pb2 as pb
from crm_kit.events.envelope import encode, new_event


def created(customer_id: str, producer: str = "customer"):
    return new_event("customer.created", customer_id,
                     pb.CustomerCreated(customer_id=customer_id, owner_id="rep-a", kind="person", stage="target"),
                     producer)


def publish(client, stream: str, env) -> bytes:
    return client.xadd(stream, {"id": env.event_id, "type": env.type, "data": encode(env)})


def ids_in(client, stream: str) -> list[str]:
    return [f[b"id"].decode() for _, f in client.xrange(stream)]

"""Domain events between services (DESIGN.md section 5): envelopes, the
producer's outbox and relay, consumers with decide-once helpers, trimming."""

from crm_kit.events.bus import DEAD_LETTER_STREAM, EventsSettings, connect, stream_for
from crm_kit.events.consumer import EventConsumer
from crm_kit.events.envelope import TYPES, Envelope, EventError, decode, encode, new_event, payload_of
from crm_kit.events.once import MongoOnce, RedisOnce
from crm_kit.events.outbox import Outbox
from crm_kit.events.trim import trim_stream

__all__ = ["DEAD_LETTER_STREAM", "TYPES", "Envelope", "EventConsumer", "EventError", "EventsSettings", "MongoOnce",
           "Outbox", "RedisOnce", "connect", "decode", "encode", "new_event", "payload_of", "stream_for",
           "trim_stream"]

import datetime

from crm.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InteractionChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERACTION_CHANNEL_UNSPECIFIED: _ClassVar[InteractionChannel]
    INTERACTION_CHANNEL_CALL: _ClassVar[InteractionChannel]
    INTERACTION_CHANNEL_VISIT: _ClassVar[InteractionChannel]
    INTERACTION_CHANNEL_EMAIL: _ClassVar[InteractionChannel]
    INTERACTION_CHANNEL_SMS: _ClassVar[InteractionChannel]
    INTERACTION_CHANNEL_CHAT: _ClassVar[InteractionChannel]
    INTERACTION_CHANNEL_MEETING: _ClassVar[InteractionChannel]
    INTERACTION_CHANNEL_QUOTE: _ClassVar[InteractionChannel]

class InteractionDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERACTION_DIRECTION_UNSPECIFIED: _ClassVar[InteractionDirection]
    INTERACTION_DIRECTION_INBOUND: _ClassVar[InteractionDirection]
    INTERACTION_DIRECTION_OUTBOUND: _ClassVar[InteractionDirection]
INTERACTION_CHANNEL_UNSPECIFIED: InteractionChannel
INTERACTION_CHANNEL_CALL: InteractionChannel
INTERACTION_CHANNEL_VISIT: InteractionChannel
INTERACTION_CHANNEL_EMAIL: InteractionChannel
INTERACTION_CHANNEL_SMS: InteractionChannel
INTERACTION_CHANNEL_CHAT: InteractionChannel
INTERACTION_CHANNEL_MEETING: InteractionChannel
INTERACTION_CHANNEL_QUOTE: InteractionChannel
INTERACTION_DIRECTION_UNSPECIFIED: InteractionDirection
INTERACTION_DIRECTION_INBOUND: InteractionDirection
INTERACTION_DIRECTION_OUTBOUND: InteractionDirection

class QuoteLine(_message.Message):
    __slots__ = ("item", "quantity", "unit_price")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    item: str
    quantity: int
    unit_price: _common_pb2.Money
    def __init__(self, item: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class Interaction(_message.Message):
    __slots__ = ("customer_id", "sequence", "channel", "direction", "rep_id", "occur_time", "summary", "quote_lines", "quote_total", "commitments", "next_follow_up_date", "record_time", "recorded_by")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    QUOTE_LINES_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    COMMITMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_FOLLOW_UP_DATE_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    sequence: int
    channel: InteractionChannel
    direction: InteractionDirection
    rep_id: str
    occur_time: _timestamp_pb2.Timestamp
    summary: str
    quote_lines: _containers.RepeatedCompositeFieldContainer[QuoteLine]
    quote_total: _common_pb2.Money
    commitments: _containers.RepeatedScalarFieldContainer[str]
    next_follow_up_date: _common_pb2.Date
    record_time: _timestamp_pb2.Timestamp
    recorded_by: str
    def __init__(self, customer_id: _Optional[str] = ..., sequence: _Optional[int] = ..., channel: _Optional[_Union[InteractionChannel, str]] = ..., direction: _Optional[_Union[InteractionDirection, str]] = ..., rep_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., summary: _Optional[str] = ..., quote_lines: _Optional[_Iterable[_Union[QuoteLine, _Mapping]]] = ..., quote_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., commitments: _Optional[_Iterable[str]] = ..., next_follow_up_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_by: _Optional[str] = ...) -> None: ...

class RecordInteractionRequest(_message.Message):
    __slots__ = ("customer_id", "interaction", "request_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    interaction: Interaction
    request_id: str
    def __init__(self, customer_id: _Optional[str] = ..., interaction: _Optional[_Union[Interaction, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListInteractionsRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListInteractionsResponse(_message.Message):
    __slots__ = ("interactions", "next_page_token")
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    interactions: _containers.RepeatedCompositeFieldContainer[Interaction]
    next_page_token: str
    def __init__(self, interactions: _Optional[_Iterable[_Union[Interaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetInteractionSummaryRequest(_message.Message):
    __slots__ = ("customer_id", "recent")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RECENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    recent: int
    def __init__(self, customer_id: _Optional[str] = ..., recent: _Optional[int] = ...) -> None: ...

class InteractionSummary(_message.Message):
    __slots__ = ("customer_id", "last_quote", "last_commitment", "last_follow_up", "last_contact_time", "recent")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_QUOTE_FIELD_NUMBER: _ClassVar[int]
    LAST_COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    LAST_FOLLOW_UP_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    RECENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    last_quote: Interaction
    last_commitment: Interaction
    last_follow_up: Interaction
    last_contact_time: _timestamp_pb2.Timestamp
    recent: _containers.RepeatedCompositeFieldContainer[Interaction]
    def __init__(self, customer_id: _Optional[str] = ..., last_quote: _Optional[_Union[Interaction, _Mapping]] = ..., last_commitment: _Optional[_Union[Interaction, _Mapping]] = ..., last_follow_up: _Optional[_Union[Interaction, _Mapping]] = ..., last_contact_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recent: _Optional[_Iterable[_Union[Interaction, _Mapping]]] = ...) -> None: ...

import datetime

from crm.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GreetingTemplate(_message.Message):
    __slots__ = ("occasion", "language", "subject", "body", "built_in", "update_time")
    OCCASION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    BUILT_IN_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    occasion: str
    language: str
    subject: str
    body: str
    built_in: bool
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, occasion: _Optional[str] = ..., language: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., built_in: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListGreetingTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListGreetingTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[GreetingTemplate]
    def __init__(self, templates: _Optional[_Iterable[_Union[GreetingTemplate, _Mapping]]] = ...) -> None: ...

class UpdateGreetingTemplateRequest(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: GreetingTemplate
    def __init__(self, template: _Optional[_Union[GreetingTemplate, _Mapping]] = ...) -> None: ...

class ResetGreetingTemplateRequest(_message.Message):
    __slots__ = ("occasion", "language")
    OCCASION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    occasion: str
    language: str
    def __init__(self, occasion: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class RunGreetingsRequest(_message.Message):
    __slots__ = ("on_date",)
    ON_DATE_FIELD_NUMBER: _ClassVar[int]
    on_date: _common_pb2.Date
    def __init__(self, on_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class RunGreetingsResponse(_message.Message):
    __slots__ = ("on_date", "customers", "sent", "failed", "skipped", "already_done", "run_id", "started_at", "finished_at", "updated_at", "started_by", "errors", "stopped_reason")
    ON_DATE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_DONE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_BY_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    STOPPED_REASON_FIELD_NUMBER: _ClassVar[int]
    on_date: _common_pb2.Date
    customers: int
    sent: int
    failed: int
    skipped: int
    already_done: int
    run_id: str
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    started_by: str
    errors: int
    stopped_reason: str
    def __init__(self, on_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., customers: _Optional[int] = ..., sent: _Optional[int] = ..., failed: _Optional[int] = ..., skipped: _Optional[int] = ..., already_done: _Optional[int] = ..., run_id: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_by: _Optional[str] = ..., errors: _Optional[int] = ..., stopped_reason: _Optional[str] = ...) -> None: ...

class GetGreetingRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ListGreetingDeliveriesRequest(_message.Message):
    __slots__ = ("customer_id", "page_size")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class GreetingDelivery(_message.Message):
    __slots__ = ("occasion", "year", "channel", "outcome", "reason", "message_id", "time")
    OCCASION_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    occasion: str
    year: int
    channel: str
    outcome: str
    reason: str
    message_id: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, occasion: _Optional[str] = ..., year: _Optional[int] = ..., channel: _Optional[str] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ..., message_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListGreetingDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[GreetingDelivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[GreetingDelivery, _Mapping]]] = ...) -> None: ...

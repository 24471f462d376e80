import datetime

from crm.customer.v1 import interaction_service_pb2 as _interaction_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VisitState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIT_STATE_UNSPECIFIED: _ClassVar[VisitState]
    VISIT_STATE_SCHEDULED: _ClassVar[VisitState]
    VISIT_STATE_COMPLETED: _ClassVar[VisitState]
    VISIT_STATE_CANCELLED: _ClassVar[VisitState]
VISIT_STATE_UNSPECIFIED: VisitState
VISIT_STATE_SCHEDULED: VisitState
VISIT_STATE_COMPLETED: VisitState
VISIT_STATE_CANCELLED: VisitState

class Visit(_message.Message):
    __slots__ = ("id", "customer_id", "rep_id", "schedule_time", "purpose", "recurrence_days", "state", "overdue", "create_time", "created_by", "close_time", "interaction_sequence", "next_visit_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_TIME_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_DAYS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NEXT_VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    rep_id: str
    schedule_time: _timestamp_pb2.Timestamp
    purpose: str
    recurrence_days: int
    state: VisitState
    overdue: bool
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    close_time: _timestamp_pb2.Timestamp
    interaction_sequence: int
    next_visit_id: str
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., schedule_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., purpose: _Optional[str] = ..., recurrence_days: _Optional[int] = ..., state: _Optional[_Union[VisitState, str]] = ..., overdue: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., interaction_sequence: _Optional[int] = ..., next_visit_id: _Optional[str] = ...) -> None: ...

class ScheduleVisitRequest(_message.Message):
    __slots__ = ("visit", "request_id")
    VISIT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    visit: Visit
    request_id: str
    def __init__(self, visit: _Optional[_Union[Visit, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetVisitRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListVisitsRequest(_message.Message):
    __slots__ = ("rep_id", "due_before", "page_size", "page_token", "customer_id")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    due_before: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    customer_id: str
    def __init__(self, rep_id: _Optional[str] = ..., due_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListVisitsResponse(_message.Message):
    __slots__ = ("visits", "next_page_token")
    VISITS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    visits: _containers.RepeatedCompositeFieldContainer[Visit]
    next_page_token: str
    def __init__(self, visits: _Optional[_Iterable[_Union[Visit, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CompleteVisitRequest(_message.Message):
    __slots__ = ("id", "interaction")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    interaction: _interaction_service_pb2.Interaction
    def __init__(self, id: _Optional[str] = ..., interaction: _Optional[_Union[_interaction_service_pb2.Interaction, _Mapping]] = ...) -> None: ...

class CompleteVisitResponse(_message.Message):
    __slots__ = ("visit", "interaction", "next_visit")
    VISIT_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    NEXT_VISIT_FIELD_NUMBER: _ClassVar[int]
    visit: Visit
    interaction: _interaction_service_pb2.Interaction
    next_visit: Visit
    def __init__(self, visit: _Optional[_Union[Visit, _Mapping]] = ..., interaction: _Optional[_Union[_interaction_service_pb2.Interaction, _Mapping]] = ..., next_visit: _Optional[_Union[Visit, _Mapping]] = ...) -> None: ...

class CancelVisitRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

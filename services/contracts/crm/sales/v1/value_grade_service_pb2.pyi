import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCustomerValueGradeRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class CustomerValueGrade(_message.Message):
    __slots__ = ("customer_id", "grade", "graded_year", "history")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    GRADED_YEAR_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    grade: str
    graded_year: int
    history: _containers.RepeatedCompositeFieldContainer[ValueGradeChange]
    def __init__(self, customer_id: _Optional[str] = ..., grade: _Optional[str] = ..., graded_year: _Optional[int] = ..., history: _Optional[_Iterable[_Union[ValueGradeChange, _Mapping]]] = ...) -> None: ...

class ValueGradeChange(_message.Message):
    __slots__ = ("grade", "graded_year", "run_id", "graded_at")
    GRADE_FIELD_NUMBER: _ClassVar[int]
    GRADED_YEAR_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    GRADED_AT_FIELD_NUMBER: _ClassVar[int]
    grade: str
    graded_year: int
    run_id: str
    graded_at: _timestamp_pb2.Timestamp
    def __init__(self, grade: _Optional[str] = ..., graded_year: _Optional[int] = ..., run_id: _Optional[str] = ..., graded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RunValueGradingRequest(_message.Message):
    __slots__ = ("year",)
    YEAR_FIELD_NUMBER: _ClassVar[int]
    year: int
    def __init__(self, year: _Optional[int] = ...) -> None: ...

class GetValueGradingRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ValueGradingRun(_message.Message):
    __slots__ = ("run_id", "graded_year", "graded", "changed", "counts", "started_at", "finished_at", "started_by")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    GRADED_YEAR_FIELD_NUMBER: _ClassVar[int]
    GRADED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_BY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    graded_year: int
    graded: int
    changed: int
    counts: _containers.RepeatedCompositeFieldContainer[ValueGradeCount]
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    started_by: str
    def __init__(self, run_id: _Optional[str] = ..., graded_year: _Optional[int] = ..., graded: _Optional[int] = ..., changed: _Optional[int] = ..., counts: _Optional[_Iterable[_Union[ValueGradeCount, _Mapping]]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_by: _Optional[str] = ...) -> None: ...

class ValueGradeCount(_message.Message):
    __slots__ = ("grade", "customers")
    GRADE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    grade: str
    customers: int
    def __init__(self, grade: _Optional[str] = ..., customers: _Optional[int] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Target(_message.Message):
    __slots__ = ("scope", "subject_id", "team_id", "month", "currency_code", "revenue_minor_units", "margin_minor_units", "cash_minor_units", "margin_hidden", "revision", "updated_at", "updated_by")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    REVENUE_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    MARGIN_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    CASH_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    MARGIN_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    scope: str
    subject_id: str
    team_id: str
    month: str
    currency_code: str
    revenue_minor_units: int
    margin_minor_units: int
    cash_minor_units: int
    margin_hidden: bool
    revision: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, scope: _Optional[str] = ..., subject_id: _Optional[str] = ..., team_id: _Optional[str] = ..., month: _Optional[str] = ..., currency_code: _Optional[str] = ..., revenue_minor_units: _Optional[int] = ..., margin_minor_units: _Optional[int] = ..., cash_minor_units: _Optional[int] = ..., margin_hidden: _Optional[bool] = ..., revision: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class SetTargetRequest(_message.Message):
    __slots__ = ("scope", "subject_id", "team_id", "month", "currency_code", "revenue_minor_units", "margin_minor_units", "cash_minor_units")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    REVENUE_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    MARGIN_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    CASH_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    scope: str
    subject_id: str
    team_id: str
    month: str
    currency_code: str
    revenue_minor_units: int
    margin_minor_units: int
    cash_minor_units: int
    def __init__(self, scope: _Optional[str] = ..., subject_id: _Optional[str] = ..., team_id: _Optional[str] = ..., month: _Optional[str] = ..., currency_code: _Optional[str] = ..., revenue_minor_units: _Optional[int] = ..., margin_minor_units: _Optional[int] = ..., cash_minor_units: _Optional[int] = ...) -> None: ...

class ListTargetsRequest(_message.Message):
    __slots__ = ("scope", "subject_id", "start_month", "end_month", "currency_code")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    START_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    scope: str
    subject_id: str
    start_month: str
    end_month: str
    currency_code: str
    def __init__(self, scope: _Optional[str] = ..., subject_id: _Optional[str] = ..., start_month: _Optional[str] = ..., end_month: _Optional[str] = ..., currency_code: _Optional[str] = ...) -> None: ...

class ListTargetsResponse(_message.Message):
    __slots__ = ("targets",)
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedCompositeFieldContainer[Target]
    def __init__(self, targets: _Optional[_Iterable[_Union[Target, _Mapping]]] = ...) -> None: ...

class GetAttainmentRequest(_message.Message):
    __slots__ = ("scope", "subject_id", "start_month", "end_month", "currency_code")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    START_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    scope: str
    subject_id: str
    start_month: str
    end_month: str
    currency_code: str
    def __init__(self, scope: _Optional[str] = ..., subject_id: _Optional[str] = ..., start_month: _Optional[str] = ..., end_month: _Optional[str] = ..., currency_code: _Optional[str] = ...) -> None: ...

class MonthAttainment(_message.Message):
    __slots__ = ("month", "target_revenue_minor_units", "target_margin_minor_units", "target_cash_minor_units", "actual_revenue_minor_units", "actual_margin_minor_units", "actual_cash_minor_units", "revenue_attainment_bp", "margin_attainment_bp", "cash_attainment_bp")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TARGET_REVENUE_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    TARGET_MARGIN_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    TARGET_CASH_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_REVENUE_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_MARGIN_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_CASH_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_ATTAINMENT_BP_FIELD_NUMBER: _ClassVar[int]
    MARGIN_ATTAINMENT_BP_FIELD_NUMBER: _ClassVar[int]
    CASH_ATTAINMENT_BP_FIELD_NUMBER: _ClassVar[int]
    month: str
    target_revenue_minor_units: int
    target_margin_minor_units: int
    target_cash_minor_units: int
    actual_revenue_minor_units: int
    actual_margin_minor_units: int
    actual_cash_minor_units: int
    revenue_attainment_bp: int
    margin_attainment_bp: int
    cash_attainment_bp: int
    def __init__(self, month: _Optional[str] = ..., target_revenue_minor_units: _Optional[int] = ..., target_margin_minor_units: _Optional[int] = ..., target_cash_minor_units: _Optional[int] = ..., actual_revenue_minor_units: _Optional[int] = ..., actual_margin_minor_units: _Optional[int] = ..., actual_cash_minor_units: _Optional[int] = ..., revenue_attainment_bp: _Optional[int] = ..., margin_attainment_bp: _Optional[int] = ..., cash_attainment_bp: _Optional[int] = ...) -> None: ...

class Attainment(_message.Message):
    __slots__ = ("scope", "subject_id", "currency_code", "months", "total", "margin_hidden")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    MONTHS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MARGIN_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    scope: str
    subject_id: str
    currency_code: str
    months: _containers.RepeatedCompositeFieldContainer[MonthAttainment]
    total: MonthAttainment
    margin_hidden: bool
    def __init__(self, scope: _Optional[str] = ..., subject_id: _Optional[str] = ..., currency_code: _Optional[str] = ..., months: _Optional[_Iterable[_Union[MonthAttainment, _Mapping]]] = ..., total: _Optional[_Union[MonthAttainment, _Mapping]] = ..., margin_hidden: _Optional[bool] = ...) -> None: ...

class RankRepsRequest(_message.Message):
    __slots__ = ("metric", "start_month", "end_month", "currency_code", "team_id", "limit")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    START_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    metric: str
    start_month: str
    end_month: str
    currency_code: str
    team_id: str
    limit: int
    def __init__(self, metric: _Optional[str] = ..., start_month: _Optional[str] = ..., end_month: _Optional[str] = ..., currency_code: _Optional[str] = ..., team_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class RankEntry(_message.Message):
    __slots__ = ("rank", "rep_id", "team_id", "value", "value_hidden")
    RANK_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VALUE_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    rank: int
    rep_id: str
    team_id: str
    value: int
    value_hidden: bool
    def __init__(self, rank: _Optional[int] = ..., rep_id: _Optional[str] = ..., team_id: _Optional[str] = ..., value: _Optional[int] = ..., value_hidden: _Optional[bool] = ...) -> None: ...

class RankRepsResponse(_message.Message):
    __slots__ = ("metric", "entries", "own", "ranked")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    OWN_FIELD_NUMBER: _ClassVar[int]
    RANKED_FIELD_NUMBER: _ClassVar[int]
    metric: str
    entries: _containers.RepeatedCompositeFieldContainer[RankEntry]
    own: RankEntry
    ranked: int
    def __init__(self, metric: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[RankEntry, _Mapping]]] = ..., own: _Optional[_Union[RankEntry, _Mapping]] = ..., ranked: _Optional[int] = ...) -> None: ...

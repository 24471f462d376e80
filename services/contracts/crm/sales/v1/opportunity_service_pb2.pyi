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

class ForecastGrouping(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FORECAST_GROUPING_UNSPECIFIED: _ClassVar[ForecastGrouping]
    FORECAST_GROUPING_OWNER: _ClassVar[ForecastGrouping]
    FORECAST_GROUPING_TEAM: _ClassVar[ForecastGrouping]
FORECAST_GROUPING_UNSPECIFIED: ForecastGrouping
FORECAST_GROUPING_OWNER: ForecastGrouping
FORECAST_GROUPING_TEAM: ForecastGrouping

class StageChange(_message.Message):
    __slots__ = ("stage", "enter_time", "changed_by", "reason")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ENTER_TIME_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    stage: str
    enter_time: _timestamp_pb2.Timestamp
    changed_by: str
    reason: str
    def __init__(self, stage: _Optional[str] = ..., enter_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., changed_by: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Opportunity(_message.Message):
    __slots__ = ("id", "customer_id", "owner_id", "team_id", "title", "amount", "expected_close", "stage", "probability_pct", "weighted_amount", "stage_history", "closed", "close_reason", "create_time", "created_by", "update_time", "revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CLOSE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_PCT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STAGE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    CLOSE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    owner_id: str
    team_id: str
    title: str
    amount: _common_pb2.Money
    expected_close: _common_pb2.Date
    stage: str
    probability_pct: int
    weighted_amount: _common_pb2.Money
    stage_history: _containers.RepeatedCompositeFieldContainer[StageChange]
    closed: bool
    close_reason: str
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    update_time: _timestamp_pb2.Timestamp
    revision: int
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., title: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., expected_close: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., stage: _Optional[str] = ..., probability_pct: _Optional[int] = ..., weighted_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., stage_history: _Optional[_Iterable[_Union[StageChange, _Mapping]]] = ..., closed: _Optional[bool] = ..., close_reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class CreateOpportunityRequest(_message.Message):
    __slots__ = ("opportunity",)
    OPPORTUNITY_FIELD_NUMBER: _ClassVar[int]
    opportunity: Opportunity
    def __init__(self, opportunity: _Optional[_Union[Opportunity, _Mapping]] = ...) -> None: ...

class GetOpportunityRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListOpportunitiesRequest(_message.Message):
    __slots__ = ("customer_id", "owner_id", "team_id", "open_only", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    owner_id: str
    team_id: str
    open_only: bool
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., open_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOpportunitiesResponse(_message.Message):
    __slots__ = ("opportunities", "next_page_token")
    OPPORTUNITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    opportunities: _containers.RepeatedCompositeFieldContainer[Opportunity]
    next_page_token: str
    def __init__(self, opportunities: _Optional[_Iterable[_Union[Opportunity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateOpportunityRequest(_message.Message):
    __slots__ = ("id", "title", "amount", "expected_close", "owner_id", "expected_revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CLOSE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    amount: _common_pb2.Money
    expected_close: _common_pb2.Date
    owner_id: str
    expected_revision: int
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., expected_close: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., owner_id: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class MoveOpportunityStageRequest(_message.Message):
    __slots__ = ("id", "stage", "reason", "expected_revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    stage: str
    reason: str
    expected_revision: int
    def __init__(self, id: _Optional[str] = ..., stage: _Optional[str] = ..., reason: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ListStagesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Stage(_message.Message):
    __slots__ = ("name", "probability_pct")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_PCT_FIELD_NUMBER: _ClassVar[int]
    name: str
    probability_pct: int
    def __init__(self, name: _Optional[str] = ..., probability_pct: _Optional[int] = ...) -> None: ...

class ListStagesResponse(_message.Message):
    __slots__ = ("stages",)
    STAGES_FIELD_NUMBER: _ClassVar[int]
    stages: _containers.RepeatedCompositeFieldContainer[Stage]
    def __init__(self, stages: _Optional[_Iterable[_Union[Stage, _Mapping]]] = ...) -> None: ...

class GetForecastRequest(_message.Message):
    __slots__ = ("group_by", "owner_id", "team_id", "from_month", "to_month")
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_MONTH_FIELD_NUMBER: _ClassVar[int]
    TO_MONTH_FIELD_NUMBER: _ClassVar[int]
    group_by: ForecastGrouping
    owner_id: str
    team_id: str
    from_month: str
    to_month: str
    def __init__(self, group_by: _Optional[_Union[ForecastGrouping, str]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., from_month: _Optional[str] = ..., to_month: _Optional[str] = ...) -> None: ...

class ForecastRow(_message.Message):
    __slots__ = ("month", "group_id", "count", "amount", "weighted_amount", "won_amount")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    WON_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    month: str
    group_id: str
    count: int
    amount: _common_pb2.Money
    weighted_amount: _common_pb2.Money
    won_amount: _common_pb2.Money
    def __init__(self, month: _Optional[str] = ..., group_id: _Optional[str] = ..., count: _Optional[int] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., weighted_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., won_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class GetForecastResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[ForecastRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[ForecastRow, _Mapping]]] = ...) -> None: ...

class GetFunnelRequest(_message.Message):
    __slots__ = ("owner_id", "team_id")
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    team_id: str
    def __init__(self, owner_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class FunnelStage(_message.Message):
    __slots__ = ("stage", "probability_pct", "count", "amounts", "reached", "conversion_bp")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_PCT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    REACHED_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_BP_FIELD_NUMBER: _ClassVar[int]
    stage: str
    probability_pct: int
    count: int
    amounts: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    reached: int
    conversion_bp: int
    def __init__(self, stage: _Optional[str] = ..., probability_pct: _Optional[int] = ..., count: _Optional[int] = ..., amounts: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., reached: _Optional[int] = ..., conversion_bp: _Optional[int] = ...) -> None: ...

class GetFunnelResponse(_message.Message):
    __slots__ = ("stages",)
    STAGES_FIELD_NUMBER: _ClassVar[int]
    stages: _containers.RepeatedCompositeFieldContainer[FunnelStage]
    def __init__(self, stages: _Optional[_Iterable[_Union[FunnelStage, _Mapping]]] = ...) -> None: ...

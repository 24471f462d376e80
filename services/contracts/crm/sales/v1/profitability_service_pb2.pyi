from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContributionDimension(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRIBUTION_DIMENSION_UNSPECIFIED: _ClassVar[ContributionDimension]
    CONTRIBUTION_DIMENSION_CUSTOMER: _ClassVar[ContributionDimension]
    CONTRIBUTION_DIMENSION_PRODUCT: _ClassVar[ContributionDimension]
    CONTRIBUTION_DIMENSION_REP: _ClassVar[ContributionDimension]
CONTRIBUTION_DIMENSION_UNSPECIFIED: ContributionDimension
CONTRIBUTION_DIMENSION_CUSTOMER: ContributionDimension
CONTRIBUTION_DIMENSION_PRODUCT: ContributionDimension
CONTRIBUTION_DIMENSION_REP: ContributionDimension

class ContributionFigures(_message.Message):
    __slots__ = ("revenue_minor_units", "cost_minor_units", "margin_minor_units", "expenses_minor_units", "net_minor_units", "order_count", "cash_minor_units")
    REVENUE_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    COST_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    MARGIN_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    EXPENSES_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    NET_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    CASH_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    revenue_minor_units: int
    cost_minor_units: int
    margin_minor_units: int
    expenses_minor_units: int
    net_minor_units: int
    order_count: int
    cash_minor_units: int
    def __init__(self, revenue_minor_units: _Optional[int] = ..., cost_minor_units: _Optional[int] = ..., margin_minor_units: _Optional[int] = ..., expenses_minor_units: _Optional[int] = ..., net_minor_units: _Optional[int] = ..., order_count: _Optional[int] = ..., cash_minor_units: _Optional[int] = ...) -> None: ...

class GetContributionReportRequest(_message.Message):
    __slots__ = ("dimension", "start_month", "end_month", "currency_code", "team_id", "rep_id", "region", "value_grade", "page_size", "page_token")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    START_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    VALUE_GRADE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dimension: ContributionDimension
    start_month: str
    end_month: str
    currency_code: str
    team_id: str
    rep_id: str
    region: str
    value_grade: str
    page_size: int
    page_token: str
    def __init__(self, dimension: _Optional[_Union[ContributionDimension, str]] = ..., start_month: _Optional[str] = ..., end_month: _Optional[str] = ..., currency_code: _Optional[str] = ..., team_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., value_grade: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ContributionRow(_message.Message):
    __slots__ = ("id", "rank", "figures", "contribution_rate_ppm", "contribution_rate", "owner_id", "team_id", "region", "margin_grade", "value_grade")
    ID_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_RATE_PPM_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_RATE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    MARGIN_GRADE_FIELD_NUMBER: _ClassVar[int]
    VALUE_GRADE_FIELD_NUMBER: _ClassVar[int]
    id: str
    rank: int
    figures: ContributionFigures
    contribution_rate_ppm: int
    contribution_rate: str
    owner_id: str
    team_id: str
    region: str
    margin_grade: str
    value_grade: str
    def __init__(self, id: _Optional[str] = ..., rank: _Optional[int] = ..., figures: _Optional[_Union[ContributionFigures, _Mapping]] = ..., contribution_rate_ppm: _Optional[int] = ..., contribution_rate: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., region: _Optional[str] = ..., margin_grade: _Optional[str] = ..., value_grade: _Optional[str] = ...) -> None: ...

class ContributionReport(_message.Message):
    __slots__ = ("dimension", "start_month", "end_month", "currency_code", "total", "member_count", "rows", "next_page_token")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    START_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dimension: ContributionDimension
    start_month: str
    end_month: str
    currency_code: str
    total: ContributionFigures
    member_count: int
    rows: _containers.RepeatedCompositeFieldContainer[ContributionRow]
    next_page_token: str
    def __init__(self, dimension: _Optional[_Union[ContributionDimension, str]] = ..., start_month: _Optional[str] = ..., end_month: _Optional[str] = ..., currency_code: _Optional[str] = ..., total: _Optional[_Union[ContributionFigures, _Mapping]] = ..., member_count: _Optional[int] = ..., rows: _Optional[_Iterable[_Union[ContributionRow, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetContributionSeriesRequest(_message.Message):
    __slots__ = ("dimension", "id", "start_month", "end_month", "currency_code")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    START_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    dimension: ContributionDimension
    id: str
    start_month: str
    end_month: str
    currency_code: str
    def __init__(self, dimension: _Optional[_Union[ContributionDimension, str]] = ..., id: _Optional[str] = ..., start_month: _Optional[str] = ..., end_month: _Optional[str] = ..., currency_code: _Optional[str] = ...) -> None: ...

class SeriesMonth(_message.Message):
    __slots__ = ("month", "figures", "year_earlier", "change", "margin_change_ppm", "margin_change_rate")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    YEAR_EARLIER_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    MARGIN_CHANGE_PPM_FIELD_NUMBER: _ClassVar[int]
    MARGIN_CHANGE_RATE_FIELD_NUMBER: _ClassVar[int]
    month: str
    figures: ContributionFigures
    year_earlier: ContributionFigures
    change: ContributionFigures
    margin_change_ppm: int
    margin_change_rate: str
    def __init__(self, month: _Optional[str] = ..., figures: _Optional[_Union[ContributionFigures, _Mapping]] = ..., year_earlier: _Optional[_Union[ContributionFigures, _Mapping]] = ..., change: _Optional[_Union[ContributionFigures, _Mapping]] = ..., margin_change_ppm: _Optional[int] = ..., margin_change_rate: _Optional[str] = ...) -> None: ...

class ContributionSeries(_message.Message):
    __slots__ = ("dimension", "id", "currency_code", "months", "total", "total_year_earlier")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    MONTHS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_YEAR_EARLIER_FIELD_NUMBER: _ClassVar[int]
    dimension: ContributionDimension
    id: str
    currency_code: str
    months: _containers.RepeatedCompositeFieldContainer[SeriesMonth]
    total: ContributionFigures
    total_year_earlier: ContributionFigures
    def __init__(self, dimension: _Optional[_Union[ContributionDimension, str]] = ..., id: _Optional[str] = ..., currency_code: _Optional[str] = ..., months: _Optional[_Iterable[_Union[SeriesMonth, _Mapping]]] = ..., total: _Optional[_Union[ContributionFigures, _Mapping]] = ..., total_year_earlier: _Optional[_Union[ContributionFigures, _Mapping]] = ...) -> None: ...

class RebuildRollupsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RebuildRollupsResponse(_message.Message):
    __slots__ = ("documents", "rewritten")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    REWRITTEN_FIELD_NUMBER: _ClassVar[int]
    documents: int
    rewritten: int
    def __init__(self, documents: _Optional[int] = ..., rewritten: _Optional[int] = ...) -> None: ...

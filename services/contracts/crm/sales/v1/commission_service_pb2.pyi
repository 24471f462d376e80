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

class CommissionBase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMISSION_BASE_UNSPECIFIED: _ClassVar[CommissionBase]
    COMMISSION_BASE_MARGIN: _ClassVar[CommissionBase]
    COMMISSION_BASE_REVENUE: _ClassVar[CommissionBase]
COMMISSION_BASE_UNSPECIFIED: CommissionBase
COMMISSION_BASE_MARGIN: CommissionBase
COMMISSION_BASE_REVENUE: CommissionBase

class GradeRate(_message.Message):
    __slots__ = ("grade", "rate_bp")
    GRADE_FIELD_NUMBER: _ClassVar[int]
    RATE_BP_FIELD_NUMBER: _ClassVar[int]
    grade: str
    rate_bp: int
    def __init__(self, grade: _Optional[str] = ..., rate_bp: _Optional[int] = ...) -> None: ...

class CommissionBand(_message.Message):
    __slots__ = ("above_minor_units", "extra_bp")
    ABOVE_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_BP_FIELD_NUMBER: _ClassVar[int]
    above_minor_units: int
    extra_bp: int
    def __init__(self, above_minor_units: _Optional[int] = ..., extra_bp: _Optional[int] = ...) -> None: ...

class CommissionPlan(_message.Message):
    __slots__ = ("id", "name", "base", "currency_code", "rates", "bands")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    RATES_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    base: CommissionBase
    currency_code: str
    rates: _containers.RepeatedCompositeFieldContainer[GradeRate]
    bands: _containers.RepeatedCompositeFieldContainer[CommissionBand]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., base: _Optional[_Union[CommissionBase, str]] = ..., currency_code: _Optional[str] = ..., rates: _Optional[_Iterable[_Union[GradeRate, _Mapping]]] = ..., bands: _Optional[_Iterable[_Union[CommissionBand, _Mapping]]] = ...) -> None: ...

class CommissionAssignment(_message.Message):
    __slots__ = ("scope", "plan_id", "from_month")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_MONTH_FIELD_NUMBER: _ClassVar[int]
    scope: str
    plan_id: str
    from_month: str
    def __init__(self, scope: _Optional[str] = ..., plan_id: _Optional[str] = ..., from_month: _Optional[str] = ...) -> None: ...

class CommissionSetup(_message.Message):
    __slots__ = ("plans", "assignments", "revision")
    PLANS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[CommissionPlan]
    assignments: _containers.RepeatedCompositeFieldContainer[CommissionAssignment]
    revision: int
    def __init__(self, plans: _Optional[_Iterable[_Union[CommissionPlan, _Mapping]]] = ..., assignments: _Optional[_Iterable[_Union[CommissionAssignment, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class GetCommissionSetupRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PutCommissionPlanRequest(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: CommissionPlan
    def __init__(self, plan: _Optional[_Union[CommissionPlan, _Mapping]] = ...) -> None: ...

class AssignCommissionPlanRequest(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: CommissionAssignment
    def __init__(self, assignment: _Optional[_Union[CommissionAssignment, _Mapping]] = ...) -> None: ...

class GetCommissionStatementRequest(_message.Message):
    __slots__ = ("rep_id", "month")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    month: str
    def __init__(self, rep_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class CommissionLine(_message.Message):
    __slots__ = ("kind", "order_id", "line_id", "product_id", "receipt_id", "refund_id", "margin_grade", "base", "rate_bp", "amount", "counts_in", "event_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    MARGIN_GRADE_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    RATE_BP_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    COUNTS_IN_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    order_id: str
    line_id: str
    product_id: str
    receipt_id: str
    refund_id: str
    margin_grade: str
    base: _common_pb2.Money
    rate_bp: int
    amount: _common_pb2.Money
    counts_in: str
    event_id: str
    def __init__(self, kind: _Optional[str] = ..., order_id: _Optional[str] = ..., line_id: _Optional[str] = ..., product_id: _Optional[str] = ..., receipt_id: _Optional[str] = ..., refund_id: _Optional[str] = ..., margin_grade: _Optional[str] = ..., base: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., rate_bp: _Optional[int] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., counts_in: _Optional[str] = ..., event_id: _Optional[str] = ...) -> None: ...

class CommissionStatement(_message.Message):
    __slots__ = ("rep_id", "month", "team_id", "plan_id", "closed", "lines", "bonus", "totals")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    month: str
    team_id: str
    plan_id: str
    closed: bool
    lines: _containers.RepeatedCompositeFieldContainer[CommissionLine]
    bonus: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    totals: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    def __init__(self, rep_id: _Optional[str] = ..., month: _Optional[str] = ..., team_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., closed: _Optional[bool] = ..., lines: _Optional[_Iterable[_Union[CommissionLine, _Mapping]]] = ..., bonus: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., totals: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ...) -> None: ...

class GetTeamCommissionRequest(_message.Message):
    __slots__ = ("team_id", "month")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    month: str
    def __init__(self, team_id: _Optional[str] = ..., month: _Optional[str] = ...) -> None: ...

class RepCommission(_message.Message):
    __slots__ = ("rep_id", "totals", "closed")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    totals: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    closed: bool
    def __init__(self, rep_id: _Optional[str] = ..., totals: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., closed: _Optional[bool] = ...) -> None: ...

class TeamCommission(_message.Message):
    __slots__ = ("team_id", "month", "reps", "totals")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    month: str
    reps: _containers.RepeatedCompositeFieldContainer[RepCommission]
    totals: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    def __init__(self, team_id: _Optional[str] = ..., month: _Optional[str] = ..., reps: _Optional[_Iterable[_Union[RepCommission, _Mapping]]] = ..., totals: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ...) -> None: ...

class CloseCommissionMonthRequest(_message.Message):
    __slots__ = ("month",)
    MONTH_FIELD_NUMBER: _ClassVar[int]
    month: str
    def __init__(self, month: _Optional[str] = ...) -> None: ...

class CloseCommissionMonthResponse(_message.Message):
    __slots__ = ("month", "statements_closed", "closed_by", "closed_at")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    STATEMENTS_CLOSED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    month: str
    statements_closed: int
    closed_by: str
    closed_at: _timestamp_pb2.Timestamp
    def __init__(self, month: _Optional[str] = ..., statements_closed: _Optional[int] = ..., closed_by: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

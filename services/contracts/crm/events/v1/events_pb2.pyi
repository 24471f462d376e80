import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from crm.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("event_id", "type", "occurred_at", "producer", "subject_id", "request_id", "payload")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    occurred_at: _timestamp_pb2.Timestamp
    producer: str
    subject_id: str
    request_id: str
    payload: _any_pb2.Any
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., producer: _Optional[str] = ..., subject_id: _Optional[str] = ..., request_id: _Optional[str] = ..., payload: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...

class CustomerCreated(_message.Message):
    __slots__ = ("customer_id", "owner_id", "team_id", "kind", "type", "stage", "referred_by")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    REFERRED_BY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    owner_id: str
    team_id: str
    kind: str
    type: str
    stage: str
    referred_by: str
    def __init__(self, customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., kind: _Optional[str] = ..., type: _Optional[str] = ..., stage: _Optional[str] = ..., referred_by: _Optional[str] = ...) -> None: ...

class CustomerUpdated(_message.Message):
    __slots__ = ("customer_id", "version", "changed_fields")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class CustomerOwnerChanged(_message.Message):
    __slots__ = ("customer_id", "from_owner_id", "to_owner_id", "to_team_id", "action", "changed_by")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    from_owner_id: str
    to_owner_id: str
    to_team_id: str
    action: str
    changed_by: str
    def __init__(self, customer_id: _Optional[str] = ..., from_owner_id: _Optional[str] = ..., to_owner_id: _Optional[str] = ..., to_team_id: _Optional[str] = ..., action: _Optional[str] = ..., changed_by: _Optional[str] = ...) -> None: ...

class CustomerConsentChanged(_message.Message):
    __slots__ = ("customer_id", "channel", "state")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    channel: str
    state: str
    def __init__(self, customer_id: _Optional[str] = ..., channel: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class CustomerErased(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class InteractionRecorded(_message.Message):
    __slots__ = ("customer_id", "interaction_id", "channel", "direction", "occurred_at", "has_quote", "recorded_by", "rep_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    HAS_QUOTE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    interaction_id: str
    channel: str
    direction: str
    occurred_at: _timestamp_pb2.Timestamp
    has_quote: bool
    recorded_by: str
    rep_id: str
    def __init__(self, customer_id: _Optional[str] = ..., interaction_id: _Optional[str] = ..., channel: _Optional[str] = ..., direction: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., has_quote: _Optional[bool] = ..., recorded_by: _Optional[str] = ..., rep_id: _Optional[str] = ...) -> None: ...

class ReferralLinked(_message.Message):
    __slots__ = ("referrer_id", "referred_id")
    REFERRER_ID_FIELD_NUMBER: _ClassVar[int]
    REFERRED_ID_FIELD_NUMBER: _ClassVar[int]
    referrer_id: str
    referred_id: str
    def __init__(self, referrer_id: _Optional[str] = ..., referred_id: _Optional[str] = ...) -> None: ...

class OrderConfirmed(_message.Message):
    __slots__ = ("order_id", "order_number", "customer_id", "owner_id", "team_id", "total", "cost_total", "confirmed_at", "lines", "region")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    COST_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_AT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    order_number: str
    customer_id: str
    owner_id: str
    team_id: str
    total: _common_pb2.Money
    cost_total: _common_pb2.Money
    confirmed_at: _timestamp_pb2.Timestamp
    lines: _containers.RepeatedCompositeFieldContainer[LineFigures]
    region: str
    def __init__(self, order_id: _Optional[str] = ..., order_number: _Optional[str] = ..., customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., cost_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., confirmed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[LineFigures, _Mapping]]] = ..., region: _Optional[str] = ...) -> None: ...

class LineFigures(_message.Message):
    __slots__ = ("line_id", "product_id", "margin_grade", "quantity", "revenue_minor_units", "cost_minor_units")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    MARGIN_GRADE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REVENUE_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    COST_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    product_id: str
    margin_grade: str
    quantity: int
    revenue_minor_units: int
    cost_minor_units: int
    def __init__(self, line_id: _Optional[str] = ..., product_id: _Optional[str] = ..., margin_grade: _Optional[str] = ..., quantity: _Optional[int] = ..., revenue_minor_units: _Optional[int] = ..., cost_minor_units: _Optional[int] = ...) -> None: ...

class OrderAmended(_message.Message):
    __slots__ = ("order_id", "customer_id", "amendment", "total", "previous_total", "cost_total", "owner_id", "team_id", "previous_lines", "lines", "confirmed_at", "previous_cost_total", "region")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    COST_TOTAL_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_LINES_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_AT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_COST_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    amendment: int
    total: _common_pb2.Money
    previous_total: _common_pb2.Money
    cost_total: _common_pb2.Money
    owner_id: str
    team_id: str
    previous_lines: _containers.RepeatedCompositeFieldContainer[LineFigures]
    lines: _containers.RepeatedCompositeFieldContainer[LineFigures]
    confirmed_at: _timestamp_pb2.Timestamp
    previous_cost_total: _common_pb2.Money
    region: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., amendment: _Optional[int] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., previous_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., cost_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., previous_lines: _Optional[_Iterable[_Union[LineFigures, _Mapping]]] = ..., lines: _Optional[_Iterable[_Union[LineFigures, _Mapping]]] = ..., confirmed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., previous_cost_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., region: _Optional[str] = ...) -> None: ...

class OrderDelivered(_message.Message):
    __slots__ = ("order_id", "customer_id", "delivered_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    delivered_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderCancelled(_message.Message):
    __slots__ = ("order_id", "customer_id", "previous_state", "total", "owner_id", "team_id", "lines", "confirmed_at", "cost_total", "region")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_AT_FIELD_NUMBER: _ClassVar[int]
    COST_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    previous_state: str
    total: _common_pb2.Money
    owner_id: str
    team_id: str
    lines: _containers.RepeatedCompositeFieldContainer[LineFigures]
    confirmed_at: _timestamp_pb2.Timestamp
    cost_total: _common_pb2.Money
    region: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., previous_state: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[LineFigures, _Mapping]]] = ..., confirmed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cost_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., region: _Optional[str] = ...) -> None: ...

class PaymentReceived(_message.Message):
    __slots__ = ("receipt_id", "order_id", "contract_id", "customer_id", "amount", "method", "received_at", "owner_id", "team_id")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    order_id: str
    contract_id: str
    customer_id: str
    amount: _common_pb2.Money
    method: str
    received_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    def __init__(self, receipt_id: _Optional[str] = ..., order_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., method: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class PaymentRefunded(_message.Message):
    __slots__ = ("refund_id", "receipt_id", "order_id", "contract_id", "customer_id", "amount", "void", "refunded_at", "owner_id", "team_id")
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    VOID_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    refund_id: str
    receipt_id: str
    order_id: str
    contract_id: str
    customer_id: str
    amount: _common_pb2.Money
    void: bool
    refunded_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    def __init__(self, refund_id: _Optional[str] = ..., receipt_id: _Optional[str] = ..., order_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., void: _Optional[bool] = ..., refunded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class OrderPaid(_message.Message):
    __slots__ = ("order_id", "customer_id", "total", "paid_at", "owner_id", "team_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAID_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    total: _common_pb2.Money
    paid_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...

class ContractExpiring(_message.Message):
    __slots__ = ("contract_id", "customer_id", "owner_id", "end_date", "days_left", "renewal_opportunity_id")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DAYS_LEFT_FIELD_NUMBER: _ClassVar[int]
    RENEWAL_OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    contract_id: str
    customer_id: str
    owner_id: str
    end_date: _common_pb2.Date
    days_left: int
    renewal_opportunity_id: str
    def __init__(self, contract_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., end_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., days_left: _Optional[int] = ..., renewal_opportunity_id: _Optional[str] = ...) -> None: ...

class ReceivablesChanged(_message.Message):
    __slots__ = ("plan_id", "deltas", "plan_counts")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    DELTAS_FIELD_NUMBER: _ClassVar[int]
    PLAN_COUNTS_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    deltas: _containers.RepeatedCompositeFieldContainer[AgeingDelta]
    plan_counts: _containers.RepeatedCompositeFieldContainer[PlanCountDelta]
    def __init__(self, plan_id: _Optional[str] = ..., deltas: _Optional[_Iterable[_Union[AgeingDelta, _Mapping]]] = ..., plan_counts: _Optional[_Iterable[_Union[PlanCountDelta, _Mapping]]] = ...) -> None: ...

class AgeingDelta(_message.Message):
    __slots__ = ("book", "currency_code", "effective_on", "due_on", "delta_minor_units")
    BOOK_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_ON_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    DELTA_MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    book: str
    currency_code: str
    effective_on: _common_pb2.Date
    due_on: _common_pb2.Date
    delta_minor_units: int
    def __init__(self, book: _Optional[str] = ..., currency_code: _Optional[str] = ..., effective_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., due_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., delta_minor_units: _Optional[int] = ...) -> None: ...

class PlanCountDelta(_message.Message):
    __slots__ = ("book", "currency_code", "effective_on", "delta")
    BOOK_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_ON_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    book: str
    currency_code: str
    effective_on: _common_pb2.Date
    delta: int
    def __init__(self, book: _Optional[str] = ..., currency_code: _Optional[str] = ..., effective_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., delta: _Optional[int] = ...) -> None: ...

class CustomerValueGradeChanged(_message.Message):
    __slots__ = ("customer_id", "from_grade", "to_grade", "graded_year", "run_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_GRADE_FIELD_NUMBER: _ClassVar[int]
    TO_GRADE_FIELD_NUMBER: _ClassVar[int]
    GRADED_YEAR_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    from_grade: str
    to_grade: str
    graded_year: int
    run_id: str
    def __init__(self, customer_id: _Optional[str] = ..., from_grade: _Optional[str] = ..., to_grade: _Optional[str] = ..., graded_year: _Optional[int] = ..., run_id: _Optional[str] = ...) -> None: ...

class ExpenseApproved(_message.Message):
    __slots__ = ("expense_id", "owner_id", "team_id", "customer_id", "opportunity_id", "category", "amount", "spent_on")
    EXPENSE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SPENT_ON_FIELD_NUMBER: _ClassVar[int]
    expense_id: str
    owner_id: str
    team_id: str
    customer_id: str
    opportunity_id: str
    category: str
    amount: _common_pb2.Money
    spent_on: _common_pb2.Date
    def __init__(self, expense_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., category: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., spent_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class TierChanged(_message.Message):
    __slots__ = ("customer_id", "from_tier", "to_tier", "reason")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_TIER_FIELD_NUMBER: _ClassVar[int]
    TO_TIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    from_tier: str
    to_tier: str
    reason: str
    def __init__(self, customer_id: _Optional[str] = ..., from_tier: _Optional[str] = ..., to_tier: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

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

class ExpenseState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPENSE_STATE_UNSPECIFIED: _ClassVar[ExpenseState]
    EXPENSE_STATE_PENDING: _ClassVar[ExpenseState]
    EXPENSE_STATE_APPROVED: _ClassVar[ExpenseState]
    EXPENSE_STATE_REJECTED: _ClassVar[ExpenseState]
EXPENSE_STATE_UNSPECIFIED: ExpenseState
EXPENSE_STATE_PENDING: ExpenseState
EXPENSE_STATE_APPROVED: ExpenseState
EXPENSE_STATE_REJECTED: ExpenseState

class ExpenseDetails(_message.Message):
    __slots__ = ("category", "amount", "spent_on", "customer_id", "opportunity_id", "receipt_reference", "description")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SPENT_ON_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    category: str
    amount: _common_pb2.Money
    spent_on: _common_pb2.Date
    customer_id: str
    opportunity_id: str
    receipt_reference: str
    description: str
    def __init__(self, category: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., spent_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., customer_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., receipt_reference: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Expense(_message.Message):
    __slots__ = ("id", "owner_id", "team_id", "category", "amount", "spent_on", "customer_id", "opportunity_id", "receipt_reference", "description", "state", "decided_by", "decided_at", "reason", "created_at", "updated_at", "revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SPENT_ON_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    team_id: str
    category: str
    amount: _common_pb2.Money
    spent_on: _common_pb2.Date
    customer_id: str
    opportunity_id: str
    receipt_reference: str
    description: str
    state: ExpenseState
    decided_by: str
    decided_at: _timestamp_pb2.Timestamp
    reason: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    revision: int
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., category: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., spent_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., customer_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., receipt_reference: _Optional[str] = ..., description: _Optional[str] = ..., state: _Optional[_Union[ExpenseState, str]] = ..., decided_by: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class RecordExpenseRequest(_message.Message):
    __slots__ = ("expense",)
    EXPENSE_FIELD_NUMBER: _ClassVar[int]
    expense: ExpenseDetails
    def __init__(self, expense: _Optional[_Union[ExpenseDetails, _Mapping]] = ...) -> None: ...

class GetExpenseRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class UpdateExpenseRequest(_message.Message):
    __slots__ = ("id", "expense", "revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    EXPENSE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    expense: ExpenseDetails
    revision: int
    def __init__(self, id: _Optional[str] = ..., expense: _Optional[_Union[ExpenseDetails, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class ApproveExpenseRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectExpenseRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListExpensesRequest(_message.Message):
    __slots__ = ("rep_id", "team_id", "state", "page_size", "page_token")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    team_id: str
    state: ExpenseState
    page_size: int
    page_token: str
    def __init__(self, rep_id: _Optional[str] = ..., team_id: _Optional[str] = ..., state: _Optional[_Union[ExpenseState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListExpensesResponse(_message.Message):
    __slots__ = ("expenses", "next_page_token")
    EXPENSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    expenses: _containers.RepeatedCompositeFieldContainer[Expense]
    next_page_token: str
    def __init__(self, expenses: _Optional[_Iterable[_Union[Expense, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

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

class PaymentMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_METHOD_UNSPECIFIED: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_BANK_TRANSFER: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_CASH: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_ALIPAY: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_WECHAT_PAY: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_CHEQUE: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_CARD: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_OTHER: _ClassVar[PaymentMethod]
PAYMENT_METHOD_UNSPECIFIED: PaymentMethod
PAYMENT_METHOD_BANK_TRANSFER: PaymentMethod
PAYMENT_METHOD_CASH: PaymentMethod
PAYMENT_METHOD_ALIPAY: PaymentMethod
PAYMENT_METHOD_WECHAT_PAY: PaymentMethod
PAYMENT_METHOD_CHEQUE: PaymentMethod
PAYMENT_METHOD_CARD: PaymentMethod
PAYMENT_METHOD_OTHER: PaymentMethod

class Instalment(_message.Message):
    __slots__ = ("number", "due_date", "amount", "paid", "unpaid")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    UNPAID_FIELD_NUMBER: _ClassVar[int]
    number: int
    due_date: _common_pb2.Date
    amount: _common_pb2.Money
    paid: _common_pb2.Money
    unpaid: _common_pb2.Money
    def __init__(self, number: _Optional[int] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., unpaid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class Allocation(_message.Message):
    __slots__ = ("instalment", "amount", "effective_date")
    INSTALMENT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    instalment: int
    amount: _common_pb2.Money
    effective_date: _common_pb2.Date
    def __init__(self, instalment: _Optional[int] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., effective_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class AllocationRequest(_message.Message):
    __slots__ = ("instalment", "minor_units")
    INSTALMENT_FIELD_NUMBER: _ClassVar[int]
    MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    instalment: int
    minor_units: int
    def __init__(self, instalment: _Optional[int] = ..., minor_units: _Optional[int] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("id", "amount", "refund_date", "void", "reason", "recorded_by", "record_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUND_DATE_FIELD_NUMBER: _ClassVar[int]
    VOID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    amount: _common_pb2.Money
    refund_date: _common_pb2.Date
    void: bool
    reason: str
    recorded_by: str
    record_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refund_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., void: _Optional[bool] = ..., reason: _Optional[str] = ..., recorded_by: _Optional[str] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("id", "method", "amount", "received_date", "reference", "recorded_by", "record_time", "allocations", "refunds", "net", "unallocated")
    ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_DATE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    UNALLOCATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    method: PaymentMethod
    amount: _common_pb2.Money
    received_date: _common_pb2.Date
    reference: str
    recorded_by: str
    record_time: _timestamp_pb2.Timestamp
    allocations: _containers.RepeatedCompositeFieldContainer[Allocation]
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    net: _common_pb2.Money
    unallocated: _common_pb2.Money
    def __init__(self, id: _Optional[str] = ..., method: _Optional[_Union[PaymentMethod, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., received_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., reference: _Optional[str] = ..., recorded_by: _Optional[str] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., allocations: _Optional[_Iterable[_Union[Allocation, _Mapping]]] = ..., refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ..., net: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., unallocated: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class PaymentPlan(_message.Message):
    __slots__ = ("order_id", "contract_id", "customer_id", "owner_id", "team_id", "total", "start_date", "instalments", "receipts", "collected", "balance", "credit", "cancelled", "paid", "revision")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    INSTALMENTS_FIELD_NUMBER: _ClassVar[int]
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    contract_id: str
    customer_id: str
    owner_id: str
    team_id: str
    total: _common_pb2.Money
    start_date: _common_pb2.Date
    instalments: _containers.RepeatedCompositeFieldContainer[Instalment]
    receipts: _containers.RepeatedCompositeFieldContainer[Receipt]
    collected: _common_pb2.Money
    balance: _common_pb2.Money
    credit: _common_pb2.Money
    cancelled: bool
    paid: bool
    revision: int
    def __init__(self, order_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., start_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., instalments: _Optional[_Iterable[_Union[Instalment, _Mapping]]] = ..., receipts: _Optional[_Iterable[_Union[Receipt, _Mapping]]] = ..., collected: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., credit: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., cancelled: _Optional[bool] = ..., paid: _Optional[bool] = ..., revision: _Optional[int] = ...) -> None: ...

class GetPaymentPlanRequest(_message.Message):
    __slots__ = ("order_id", "contract_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    contract_id: str
    def __init__(self, order_id: _Optional[str] = ..., contract_id: _Optional[str] = ...) -> None: ...

class ReplaceInstalmentsRequest(_message.Message):
    __slots__ = ("order_id", "contract_id", "instalments")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTALMENTS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    contract_id: str
    instalments: _containers.RepeatedCompositeFieldContainer[Instalment]
    def __init__(self, order_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., instalments: _Optional[_Iterable[_Union[Instalment, _Mapping]]] = ...) -> None: ...

class RecordReceiptRequest(_message.Message):
    __slots__ = ("order_id", "contract_id", "method", "amount", "received_date", "reference", "allocations", "request_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_DATE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    contract_id: str
    method: PaymentMethod
    amount: _common_pb2.Money
    received_date: _common_pb2.Date
    reference: str
    allocations: _containers.RepeatedCompositeFieldContainer[AllocationRequest]
    request_id: str
    def __init__(self, order_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., method: _Optional[_Union[PaymentMethod, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., received_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., reference: _Optional[str] = ..., allocations: _Optional[_Iterable[_Union[AllocationRequest, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RecordReceiptResponse(_message.Message):
    __slots__ = ("receipt", "plan")
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    receipt: Receipt
    plan: PaymentPlan
    def __init__(self, receipt: _Optional[_Union[Receipt, _Mapping]] = ..., plan: _Optional[_Union[PaymentPlan, _Mapping]] = ...) -> None: ...

class AllocateReceiptRequest(_message.Message):
    __slots__ = ("receipt_id", "allocations")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    allocations: _containers.RepeatedCompositeFieldContainer[AllocationRequest]
    def __init__(self, receipt_id: _Optional[str] = ..., allocations: _Optional[_Iterable[_Union[AllocationRequest, _Mapping]]] = ...) -> None: ...

class RefundReceiptRequest(_message.Message):
    __slots__ = ("receipt_id", "amount", "refund_date", "reason", "request_id")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUND_DATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    amount: _common_pb2.Money
    refund_date: _common_pb2.Date
    reason: str
    request_id: str
    def __init__(self, receipt_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refund_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class VoidReceiptRequest(_message.Message):
    __slots__ = ("receipt_id", "reason", "request_id")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    reason: str
    request_id: str
    def __init__(self, receipt_id: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RefundReceiptResponse(_message.Message):
    __slots__ = ("refund", "receipt", "plan")
    REFUND_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    refund: Refund
    receipt: Receipt
    plan: PaymentPlan
    def __init__(self, refund: _Optional[_Union[Refund, _Mapping]] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ..., plan: _Optional[_Union[PaymentPlan, _Mapping]] = ...) -> None: ...

class GetAgeingRequest(_message.Message):
    __slots__ = ("rep_id", "team_id", "customer_id", "as_of")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    team_id: str
    customer_id: str
    as_of: _common_pb2.Date
    def __init__(self, rep_id: _Optional[str] = ..., team_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class CurrencyAgeing(_message.Message):
    __slots__ = ("currency_code", "outstanding", "overdue", "not_yet_due", "days_1_30", "days_31_60", "days_61_90", "over_90", "plans")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    NOT_YET_DUE_FIELD_NUMBER: _ClassVar[int]
    DAYS_1_30_FIELD_NUMBER: _ClassVar[int]
    DAYS_31_60_FIELD_NUMBER: _ClassVar[int]
    DAYS_61_90_FIELD_NUMBER: _ClassVar[int]
    OVER_90_FIELD_NUMBER: _ClassVar[int]
    PLANS_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    outstanding: _common_pb2.Money
    overdue: _common_pb2.Money
    not_yet_due: _common_pb2.Money
    days_1_30: _common_pb2.Money
    days_31_60: _common_pb2.Money
    days_61_90: _common_pb2.Money
    over_90: _common_pb2.Money
    plans: int
    def __init__(self, currency_code: _Optional[str] = ..., outstanding: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., overdue: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., not_yet_due: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., days_1_30: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., days_31_60: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., days_61_90: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., over_90: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., plans: _Optional[int] = ...) -> None: ...

class AgeingReport(_message.Message):
    __slots__ = ("as_of", "currencies")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CURRENCIES_FIELD_NUMBER: _ClassVar[int]
    as_of: _common_pb2.Date
    currencies: _containers.RepeatedCompositeFieldContainer[CurrencyAgeing]
    def __init__(self, as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., currencies: _Optional[_Iterable[_Union[CurrencyAgeing, _Mapping]]] = ...) -> None: ...

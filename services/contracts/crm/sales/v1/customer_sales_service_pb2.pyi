from crm.sales.v1 import contract_service_pb2 as _contract_service_pb2
from crm.sales.v1 import order_service_pb2 as _order_service_pb2
from crm.sales.v1 import payment_service_pb2 as _payment_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCustomerSalesRequest(_message.Message):
    __slots__ = ("customer_id", "contracts_within_days")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACTS_WITHIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    contracts_within_days: int
    def __init__(self, customer_id: _Optional[str] = ..., contracts_within_days: _Optional[int] = ...) -> None: ...

class CustomerSales(_message.Message):
    __slots__ = ("customer_id", "open_orders", "more_open_orders", "last_order", "receivables", "ending_contracts")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    MORE_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    LAST_ORDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVABLES_FIELD_NUMBER: _ClassVar[int]
    ENDING_CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    open_orders: _containers.RepeatedCompositeFieldContainer[_order_service_pb2.Order]
    more_open_orders: bool
    last_order: _order_service_pb2.Order
    receivables: _containers.RepeatedCompositeFieldContainer[_payment_service_pb2.CurrencyAgeing]
    ending_contracts: _containers.RepeatedCompositeFieldContainer[_contract_service_pb2.Contract]
    def __init__(self, customer_id: _Optional[str] = ..., open_orders: _Optional[_Iterable[_Union[_order_service_pb2.Order, _Mapping]]] = ..., more_open_orders: _Optional[bool] = ..., last_order: _Optional[_Union[_order_service_pb2.Order, _Mapping]] = ..., receivables: _Optional[_Iterable[_Union[_payment_service_pb2.CurrencyAgeing, _Mapping]]] = ..., ending_contracts: _Optional[_Iterable[_Union[_contract_service_pb2.Contract, _Mapping]]] = ...) -> None: ...

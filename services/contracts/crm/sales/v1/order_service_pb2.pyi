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

class OrderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATE_UNSPECIFIED: _ClassVar[OrderState]
    ORDER_STATE_DRAFT: _ClassVar[OrderState]
    ORDER_STATE_CONFIRMED: _ClassVar[OrderState]
    ORDER_STATE_PARTIALLY_DELIVERED: _ClassVar[OrderState]
    ORDER_STATE_DELIVERED: _ClassVar[OrderState]
    ORDER_STATE_CLOSED: _ClassVar[OrderState]
    ORDER_STATE_CANCELLED: _ClassVar[OrderState]
ORDER_STATE_UNSPECIFIED: OrderState
ORDER_STATE_DRAFT: OrderState
ORDER_STATE_CONFIRMED: OrderState
ORDER_STATE_PARTIALLY_DELIVERED: OrderState
ORDER_STATE_DELIVERED: OrderState
ORDER_STATE_CLOSED: OrderState
ORDER_STATE_CANCELLED: OrderState

class OrderLineInput(_message.Message):
    __slots__ = ("line_id", "product", "quantity", "unit_price", "discount")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    product: str
    quantity: int
    unit_price: _common_pb2.Money
    discount: _common_pb2.Money
    def __init__(self, line_id: _Optional[str] = ..., product: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class DeliveryDetails(_message.Message):
    __slots__ = ("contact_name", "contact_phone", "address")
    CONTACT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    contact_name: str
    contact_phone: str
    address: str
    def __init__(self, contact_name: _Optional[str] = ..., contact_phone: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("line_id", "product_id", "sku", "product_name", "unit", "quantity", "unit_price", "discount", "line_total", "unit_cost", "shipped_quantity", "carrier", "tracking_number", "ship_time", "deliver_time")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    LINE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_FIELD_NUMBER: _ClassVar[int]
    SHIPPED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SHIP_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVER_TIME_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: int
    unit_price: _common_pb2.Money
    discount: _common_pb2.Money
    line_total: _common_pb2.Money
    unit_cost: _common_pb2.Money
    shipped_quantity: int
    carrier: str
    tracking_number: str
    ship_time: _timestamp_pb2.Timestamp
    deliver_time: _timestamp_pb2.Timestamp
    def __init__(self, line_id: _Optional[str] = ..., product_id: _Optional[str] = ..., sku: _Optional[str] = ..., product_name: _Optional[str] = ..., unit: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., line_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., unit_cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., shipped_quantity: _Optional[int] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., ship_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deliver_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LineChange(_message.Message):
    __slots__ = ("line_id", "product_id", "kind", "previous_quantity", "quantity", "previous_line_total", "line_total")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_LINE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    LINE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    product_id: str
    kind: str
    previous_quantity: int
    quantity: int
    previous_line_total: _common_pb2.Money
    line_total: _common_pb2.Money
    def __init__(self, line_id: _Optional[str] = ..., product_id: _Optional[str] = ..., kind: _Optional[str] = ..., previous_quantity: _Optional[int] = ..., quantity: _Optional[int] = ..., previous_line_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., line_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class Amendment(_message.Message):
    __slots__ = ("number", "amended_by", "amend_time", "reason", "changes", "previous_total", "total")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    AMENDED_BY_FIELD_NUMBER: _ClassVar[int]
    AMEND_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    number: int
    amended_by: str
    amend_time: _timestamp_pb2.Timestamp
    reason: str
    changes: _containers.RepeatedCompositeFieldContainer[LineChange]
    previous_total: _common_pb2.Money
    total: _common_pb2.Money
    def __init__(self, number: _Optional[int] = ..., amended_by: _Optional[str] = ..., amend_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[LineChange, _Mapping]]] = ..., previous_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "number", "customer_id", "owner_id", "team_id", "state", "currency_code", "lines", "total", "discount_total", "cost_total", "delivery", "amendments", "revision", "created_by", "create_time", "update_time", "confirm_time", "deliver_time", "close_time", "cancel_time", "cancel_reason", "personal_data_erased")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    COST_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    AMENDMENTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVER_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_DATA_ERASED_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    customer_id: str
    owner_id: str
    team_id: str
    state: OrderState
    currency_code: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    total: _common_pb2.Money
    discount_total: _common_pb2.Money
    cost_total: _common_pb2.Money
    delivery: DeliveryDetails
    amendments: _containers.RepeatedCompositeFieldContainer[Amendment]
    revision: int
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    confirm_time: _timestamp_pb2.Timestamp
    deliver_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    cancel_time: _timestamp_pb2.Timestamp
    cancel_reason: str
    personal_data_erased: bool
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., state: _Optional[_Union[OrderState, str]] = ..., currency_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discount_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., cost_total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., delivery: _Optional[_Union[DeliveryDetails, _Mapping]] = ..., amendments: _Optional[_Iterable[_Union[Amendment, _Mapping]]] = ..., revision: _Optional[int] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., confirm_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deliver_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_reason: _Optional[str] = ..., personal_data_erased: _Optional[bool] = ...) -> None: ...

class CreateOrderRequest(_message.Message):
    __slots__ = ("customer_id", "lines", "delivery", "request_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLineInput]
    delivery: DeliveryDetails
    request_id: str
    def __init__(self, customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLineInput, _Mapping]]] = ..., delivery: _Optional[_Union[DeliveryDetails, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListCustomerOrdersRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCustomerOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateDraftRequest(_message.Message):
    __slots__ = ("id", "lines", "delivery", "expected_revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLineInput]
    delivery: DeliveryDetails
    expected_revision: int
    def __init__(self, id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLineInput, _Mapping]]] = ..., delivery: _Optional[_Union[DeliveryDetails, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ConfirmOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class AmendOrderRequest(_message.Message):
    __slots__ = ("id", "lines", "reason", "expected_revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLineInput]
    reason: str
    expected_revision: int
    def __init__(self, id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLineInput, _Mapping]]] = ..., reason: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class LineShipment(_message.Message):
    __slots__ = ("line_id", "quantity", "carrier", "tracking_number")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    quantity: int
    carrier: str
    tracking_number: str
    def __init__(self, line_id: _Optional[str] = ..., quantity: _Optional[int] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ...) -> None: ...

class ShipLinesRequest(_message.Message):
    __slots__ = ("id", "shipments", "ship_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    SHIP_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    shipments: _containers.RepeatedCompositeFieldContainer[LineShipment]
    ship_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., shipments: _Optional[_Iterable[_Union[LineShipment, _Mapping]]] = ..., ship_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DeliverLinesRequest(_message.Message):
    __slots__ = ("id", "line_ids", "deliver_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    LINE_IDS_FIELD_NUMBER: _ClassVar[int]
    DELIVER_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    line_ids: _containers.RepeatedScalarFieldContainer[str]
    deliver_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., line_ids: _Optional[_Iterable[str]] = ..., deliver_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CloseOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ImportOrderItem(_message.Message):
    __slots__ = ("request_id", "customer_id", "lines", "delivery", "ordered_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    ORDERED_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLineInput]
    delivery: DeliveryDetails
    ordered_at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLineInput, _Mapping]]] = ..., delivery: _Optional[_Union[DeliveryDetails, _Mapping]] = ..., ordered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ImportOrdersRequest(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[ImportOrderItem]
    def __init__(self, orders: _Optional[_Iterable[_Union[ImportOrderItem, _Mapping]]] = ...) -> None: ...

class ImportOrderResult(_message.Message):
    __slots__ = ("order_id", "number", "error_code", "error_message", "already_imported", "total")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ALREADY_IMPORTED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    number: str
    error_code: str
    error_message: str
    already_imported: bool
    total: _common_pb2.Money
    def __init__(self, order_id: _Optional[str] = ..., number: _Optional[str] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., already_imported: _Optional[bool] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class ImportOrdersResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ImportOrderResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ImportOrderResult, _Mapping]]] = ...) -> None: ...

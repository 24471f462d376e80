from crm.customer.v1 import customer_service_pb2 as _customer_service_pb2
from crm.customer.v1 import interaction_service_pb2 as _interaction_service_pb2
from crm.customer.v1 import visit_service_pb2 as _visit_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCustomerOverviewRequest(_message.Message):
    __slots__ = ("id", "phone", "email", "interactions", "recent_interactions", "open_visits", "open_visits_limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    RECENT_INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_VISITS_FIELD_NUMBER: _ClassVar[int]
    OPEN_VISITS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    phone: str
    email: str
    interactions: bool
    recent_interactions: int
    open_visits: bool
    open_visits_limit: int
    def __init__(self, id: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., interactions: _Optional[bool] = ..., recent_interactions: _Optional[int] = ..., open_visits: _Optional[bool] = ..., open_visits_limit: _Optional[int] = ...) -> None: ...

class CustomerOverview(_message.Message):
    __slots__ = ("customer", "interactions", "open_visits", "more_open_visits", "not_permitted", "failed", "grant")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    OPEN_VISITS_FIELD_NUMBER: _ClassVar[int]
    MORE_OPEN_VISITS_FIELD_NUMBER: _ClassVar[int]
    NOT_PERMITTED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    customer: _customer_service_pb2.Customer
    interactions: _interaction_service_pb2.InteractionSummary
    open_visits: _containers.RepeatedCompositeFieldContainer[_visit_service_pb2.Visit]
    more_open_visits: bool
    not_permitted: _containers.RepeatedScalarFieldContainer[str]
    failed: _containers.RepeatedScalarFieldContainer[str]
    grant: str
    def __init__(self, customer: _Optional[_Union[_customer_service_pb2.Customer, _Mapping]] = ..., interactions: _Optional[_Union[_interaction_service_pb2.InteractionSummary, _Mapping]] = ..., open_visits: _Optional[_Iterable[_Union[_visit_service_pb2.Visit, _Mapping]]] = ..., more_open_visits: _Optional[bool] = ..., not_permitted: _Optional[_Iterable[str]] = ..., failed: _Optional[_Iterable[str]] = ..., grant: _Optional[str] = ...) -> None: ...

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

class ContractState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRACT_STATE_UNSPECIFIED: _ClassVar[ContractState]
    CONTRACT_STATE_DRAFT: _ClassVar[ContractState]
    CONTRACT_STATE_SIGNED: _ClassVar[ContractState]
    CONTRACT_STATE_ENDED: _ClassVar[ContractState]
    CONTRACT_STATE_TERMINATED: _ClassVar[ContractState]
CONTRACT_STATE_UNSPECIFIED: ContractState
CONTRACT_STATE_DRAFT: ContractState
CONTRACT_STATE_SIGNED: ContractState
CONTRACT_STATE_ENDED: ContractState
CONTRACT_STATE_TERMINATED: ContractState

class RenewalTerms(_message.Message):
    __slots__ = ("auto_renew", "renewal_months", "notice_days")
    AUTO_RENEW_FIELD_NUMBER: _ClassVar[int]
    RENEWAL_MONTHS_FIELD_NUMBER: _ClassVar[int]
    NOTICE_DAYS_FIELD_NUMBER: _ClassVar[int]
    auto_renew: bool
    renewal_months: int
    notice_days: int
    def __init__(self, auto_renew: _Optional[bool] = ..., renewal_months: _Optional[int] = ..., notice_days: _Optional[int] = ...) -> None: ...

class Contract(_message.Message):
    __slots__ = ("id", "customer_id", "owner_id", "team_id", "title", "start_date", "end_date", "value", "order_ids", "state", "renewal", "create_time", "created_by", "sign_time", "signed_by", "terminate_time", "termination_reason", "reminded_end_date", "renewal_opportunity_id", "renewal_count", "revision", "personal_data_erased")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RENEWAL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    SIGN_TIME_FIELD_NUMBER: _ClassVar[int]
    SIGNED_BY_FIELD_NUMBER: _ClassVar[int]
    TERMINATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_REASON_FIELD_NUMBER: _ClassVar[int]
    REMINDED_END_DATE_FIELD_NUMBER: _ClassVar[int]
    RENEWAL_OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    RENEWAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_DATA_ERASED_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    owner_id: str
    team_id: str
    title: str
    start_date: _common_pb2.Date
    end_date: _common_pb2.Date
    value: _common_pb2.Money
    order_ids: _containers.RepeatedScalarFieldContainer[str]
    state: ContractState
    renewal: RenewalTerms
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    sign_time: _timestamp_pb2.Timestamp
    signed_by: str
    terminate_time: _timestamp_pb2.Timestamp
    termination_reason: str
    reminded_end_date: _common_pb2.Date
    renewal_opportunity_id: str
    renewal_count: int
    revision: int
    personal_data_erased: bool
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., title: _Optional[str] = ..., start_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., value: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., order_ids: _Optional[_Iterable[str]] = ..., state: _Optional[_Union[ContractState, str]] = ..., renewal: _Optional[_Union[RenewalTerms, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., sign_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signed_by: _Optional[str] = ..., terminate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., termination_reason: _Optional[str] = ..., reminded_end_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., renewal_opportunity_id: _Optional[str] = ..., renewal_count: _Optional[int] = ..., revision: _Optional[int] = ..., personal_data_erased: _Optional[bool] = ...) -> None: ...

class CreateContractRequest(_message.Message):
    __slots__ = ("contract",)
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    contract: Contract
    def __init__(self, contract: _Optional[_Union[Contract, _Mapping]] = ...) -> None: ...

class GetContractRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class SignContractRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class TerminateContractRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListCustomerContractsRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCustomerContractsResponse(_message.Message):
    __slots__ = ("contracts", "next_page_token")
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    contracts: _containers.RepeatedCompositeFieldContainer[Contract]
    next_page_token: str
    def __init__(self, contracts: _Optional[_Iterable[_Union[Contract, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListExpiringContractsRequest(_message.Message):
    __slots__ = ("within_days", "owner_id")
    WITHIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    within_days: int
    owner_id: str
    def __init__(self, within_days: _Optional[int] = ..., owner_id: _Optional[str] = ...) -> None: ...

class ExpiringContract(_message.Message):
    __slots__ = ("contract", "days_left", "notice_deadline")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    DAYS_LEFT_FIELD_NUMBER: _ClassVar[int]
    NOTICE_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    contract: Contract
    days_left: int
    notice_deadline: _common_pb2.Date
    def __init__(self, contract: _Optional[_Union[Contract, _Mapping]] = ..., days_left: _Optional[int] = ..., notice_deadline: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class ListExpiringContractsResponse(_message.Message):
    __slots__ = ("contracts", "within_days", "truncated")
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    WITHIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    contracts: _containers.RepeatedCompositeFieldContainer[ExpiringContract]
    within_days: int
    truncated: bool
    def __init__(self, contracts: _Optional[_Iterable[_Union[ExpiringContract, _Mapping]]] = ..., within_days: _Optional[int] = ..., truncated: _Optional[bool] = ...) -> None: ...

class RunExpiryCheckRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunExpiryCheckResponse(_message.Message):
    __slots__ = ("reminded_count", "renewed_count")
    REMINDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    RENEWED_COUNT_FIELD_NUMBER: _ClassVar[int]
    reminded_count: int
    renewed_count: int
    def __init__(self, reminded_count: _Optional[int] = ..., renewed_count: _Optional[int] = ...) -> None: ...

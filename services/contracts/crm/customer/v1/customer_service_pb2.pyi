import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOMER_KIND_UNSPECIFIED: _ClassVar[CustomerKind]
    CUSTOMER_KIND_PERSON: _ClassVar[CustomerKind]
    CUSTOMER_KIND_COMPANY: _ClassVar[CustomerKind]

class CustomerView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOMER_VIEW_UNSPECIFIED: _ClassVar[CustomerView]
    CUSTOMER_VIEW_FULL: _ClassVar[CustomerView]
    CUSTOMER_VIEW_CONTACT: _ClassVar[CustomerView]
    CUSTOMER_VIEW_POOL: _ClassVar[CustomerView]

class ImportOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_OUTCOME_UNSPECIFIED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_CREATED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_UPDATED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_UNCHANGED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_ERROR: _ClassVar[ImportOutcome]
CUSTOMER_KIND_UNSPECIFIED: CustomerKind
CUSTOMER_KIND_PERSON: CustomerKind
CUSTOMER_KIND_COMPANY: CustomerKind
CUSTOMER_VIEW_UNSPECIFIED: CustomerView
CUSTOMER_VIEW_FULL: CustomerView
CUSTOMER_VIEW_CONTACT: CustomerView
CUSTOMER_VIEW_POOL: CustomerView
IMPORT_OUTCOME_UNSPECIFIED: ImportOutcome
IMPORT_OUTCOME_CREATED: ImportOutcome
IMPORT_OUTCOME_UPDATED: ImportOutcome
IMPORT_OUTCOME_UNCHANGED: ImportOutcome
IMPORT_OUTCOME_ERROR: ImportOutcome

class Region(_message.Message):
    __slots__ = ("province", "city")
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    province: str
    city: str
    def __init__(self, province: _Optional[str] = ..., city: _Optional[str] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("label", "province", "city", "district", "line", "postal_code")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    label: str
    province: str
    city: str
    district: str
    line: str
    postal_code: str
    def __init__(self, label: _Optional[str] = ..., province: _Optional[str] = ..., city: _Optional[str] = ..., district: _Optional[str] = ..., line: _Optional[str] = ..., postal_code: _Optional[str] = ...) -> None: ...

class Preference(_message.Message):
    __slots__ = ("topic", "note")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    topic: str
    note: str
    def __init__(self, topic: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class Anniversary(_message.Message):
    __slots__ = ("label", "calendar", "year", "month", "day", "leap_month")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    LEAP_MONTH_FIELD_NUMBER: _ClassVar[int]
    label: str
    calendar: str
    year: int
    month: int
    day: int
    leap_month: bool
    def __init__(self, label: _Optional[str] = ..., calendar: _Optional[str] = ..., year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ..., leap_month: _Optional[bool] = ...) -> None: ...

class Consent(_message.Message):
    __slots__ = ("state", "change_time")
    STATE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    state: str
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[str] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "display_name", "kind", "phones", "region", "owner_id", "team_id", "create_time", "update_time", "etag", "emails", "addresses", "type", "level", "tags", "source", "stage", "intent_notes", "preferences", "birthday", "anniversaries", "consent_sms", "consent_email", "referred_by", "external_id", "owned_since_time", "last_contact_time", "erase_time", "view", "value_grade", "value_grade_year")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PHONES_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    INTENT_NOTES_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_FIELD_NUMBER: _ClassVar[int]
    ANNIVERSARIES_FIELD_NUMBER: _ClassVar[int]
    CONSENT_SMS_FIELD_NUMBER: _ClassVar[int]
    CONSENT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    REFERRED_BY_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    OWNED_SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    ERASE_TIME_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    VALUE_GRADE_FIELD_NUMBER: _ClassVar[int]
    VALUE_GRADE_YEAR_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    kind: CustomerKind
    phones: _containers.RepeatedScalarFieldContainer[str]
    region: Region
    owner_id: str
    team_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    emails: _containers.RepeatedScalarFieldContainer[str]
    addresses: _containers.RepeatedCompositeFieldContainer[Address]
    type: str
    level: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    source: str
    stage: str
    intent_notes: str
    preferences: _containers.RepeatedCompositeFieldContainer[Preference]
    birthday: Anniversary
    anniversaries: _containers.RepeatedCompositeFieldContainer[Anniversary]
    consent_sms: Consent
    consent_email: Consent
    referred_by: str
    external_id: str
    owned_since_time: _timestamp_pb2.Timestamp
    last_contact_time: _timestamp_pb2.Timestamp
    erase_time: _timestamp_pb2.Timestamp
    view: CustomerView
    value_grade: str
    value_grade_year: int
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., kind: _Optional[_Union[CustomerKind, str]] = ..., phones: _Optional[_Iterable[str]] = ..., region: _Optional[_Union[Region, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., emails: _Optional[_Iterable[str]] = ..., addresses: _Optional[_Iterable[_Union[Address, _Mapping]]] = ..., type: _Optional[str] = ..., level: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ..., stage: _Optional[str] = ..., intent_notes: _Optional[str] = ..., preferences: _Optional[_Iterable[_Union[Preference, _Mapping]]] = ..., birthday: _Optional[_Union[Anniversary, _Mapping]] = ..., anniversaries: _Optional[_Iterable[_Union[Anniversary, _Mapping]]] = ..., consent_sms: _Optional[_Union[Consent, _Mapping]] = ..., consent_email: _Optional[_Union[Consent, _Mapping]] = ..., referred_by: _Optional[str] = ..., external_id: _Optional[str] = ..., owned_since_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_contact_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., erase_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., view: _Optional[_Union[CustomerView, str]] = ..., value_grade: _Optional[str] = ..., value_grade_year: _Optional[int] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("customer", "update_mask", "etag")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamCustomersRequest(_message.Message):
    __slots__ = ("page_size",)
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    def __init__(self, page_size: _Optional[int] = ...) -> None: ...

class StreamCustomersResponse(_message.Message):
    __slots__ = ("customers",)
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "owner_id", "pool", "province", "city", "level", "stage", "tag", "name_prefix", "create_time", "last_contact_time", "order_by")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    owner_id: str
    pool: bool
    province: str
    city: str
    level: str
    stage: str
    tag: str
    name_prefix: str
    create_time: TimeRange
    last_contact_time: TimeRange
    order_by: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner_id: _Optional[str] = ..., pool: _Optional[bool] = ..., province: _Optional[str] = ..., city: _Optional[str] = ..., level: _Optional[str] = ..., stage: _Optional[str] = ..., tag: _Optional[str] = ..., name_prefix: _Optional[str] = ..., create_time: _Optional[_Union[TimeRange, _Mapping]] = ..., last_contact_time: _Optional[_Union[TimeRange, _Mapping]] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LookupCustomerRequest(_message.Message):
    __slots__ = ("phone", "email")
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    phone: str
    email: str
    def __init__(self, phone: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class BatchCreateCustomersRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateCustomerRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateCustomerRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateCustomersResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchCreateCustomersResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchCreateCustomersResult, _Mapping]]] = ...) -> None: ...

class BatchCreateCustomersResult(_message.Message):
    __slots__ = ("customer", "error_code", "error_message")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    error_code: str
    error_message: str
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class ClaimCustomerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ReleaseCustomerRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class TransferCustomerRequest(_message.Message):
    __slots__ = ("id", "to_owner_id", "to_team_id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    TO_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    to_owner_id: str
    to_team_id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., to_owner_id: _Optional[str] = ..., to_team_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class HandOverCustomersRequest(_message.Message):
    __slots__ = ("from_owner_id", "to_owner_ids", "to_team_id", "reason")
    FROM_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_OWNER_IDS_FIELD_NUMBER: _ClassVar[int]
    TO_TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    from_owner_id: str
    to_owner_ids: _containers.RepeatedScalarFieldContainer[str]
    to_team_id: str
    reason: str
    def __init__(self, from_owner_id: _Optional[str] = ..., to_owner_ids: _Optional[_Iterable[str]] = ..., to_team_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class HandOverCustomersResponse(_message.Message):
    __slots__ = ("moved_count", "skipped_ids")
    MOVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_IDS_FIELD_NUMBER: _ClassVar[int]
    moved_count: int
    skipped_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, moved_count: _Optional[int] = ..., skipped_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReleaseInactiveCustomersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReleaseInactiveCustomersResponse(_message.Message):
    __slots__ = ("released_count",)
    RELEASED_COUNT_FIELD_NUMBER: _ClassVar[int]
    released_count: int
    def __init__(self, released_count: _Optional[int] = ...) -> None: ...

class ListOwnershipChangesRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class OwnershipChange(_message.Message):
    __slots__ = ("customer_id", "action", "from_owner_id", "to_owner_id", "changed_by", "change_time", "reason")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FROM_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    action: str
    from_owner_id: str
    to_owner_id: str
    changed_by: str
    change_time: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, customer_id: _Optional[str] = ..., action: _Optional[str] = ..., from_owner_id: _Optional[str] = ..., to_owner_id: _Optional[str] = ..., changed_by: _Optional[str] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListOwnershipChangesResponse(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[OwnershipChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[OwnershipChange, _Mapping]]] = ...) -> None: ...

class ListReferralsRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListReferralsResponse(_message.Message):
    __slots__ = ("referred_by", "referred_ids")
    REFERRED_BY_FIELD_NUMBER: _ClassVar[int]
    REFERRED_IDS_FIELD_NUMBER: _ClassVar[int]
    referred_by: str
    referred_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, referred_by: _Optional[str] = ..., referred_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ExportCustomerDataRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ExportCustomerDataResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _struct_pb2.Struct
    def __init__(self, data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class EraseCustomerRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ImportCustomersRequest(_message.Message):
    __slots__ = ("rows", "match_on", "dry_run")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    MATCH_ON_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[ImportRow]
    match_on: str
    dry_run: bool
    def __init__(self, rows: _Optional[_Iterable[_Union[ImportRow, _Mapping]]] = ..., match_on: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ImportRow(_message.Message):
    __slots__ = ("row_number", "customer", "update_mask", "owner_id")
    ROW_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    row_number: int
    customer: Customer
    update_mask: _field_mask_pb2.FieldMask
    owner_id: str
    def __init__(self, row_number: _Optional[int] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., owner_id: _Optional[str] = ...) -> None: ...

class ImportCustomersResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ImportCustomersResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ImportCustomersResult, _Mapping]]] = ...) -> None: ...

class ImportFieldViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ImportCustomersResult(_message.Message):
    __slots__ = ("row_number", "outcome", "customer_id", "error_code", "error_message", "field_violations", "relation")
    ROW_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    row_number: int
    outcome: ImportOutcome
    customer_id: str
    error_code: str
    error_message: str
    field_violations: _containers.RepeatedCompositeFieldContainer[ImportFieldViolation]
    relation: str
    def __init__(self, row_number: _Optional[int] = ..., outcome: _Optional[_Union[ImportOutcome, str]] = ..., customer_id: _Optional[str] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., field_violations: _Optional[_Iterable[_Union[ImportFieldViolation, _Mapping]]] = ..., relation: _Optional[str] = ...) -> None: ...

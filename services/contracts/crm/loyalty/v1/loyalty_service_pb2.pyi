import datetime

from crm.common.v1 import common_pb2 as _common_pb2
from crm.loyalty.v1 import greeting_service_pb2 as _greeting_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetAccountRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class TierStatus(_message.Message):
    __slots__ = ("code", "name", "basis", "qualifying_currency", "qualifying_value", "next_code", "next_threshold", "to_next", "review_date", "downgrade_warning_to", "multiplier_percent", "birthday_gift_points")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    QUALIFYING_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    QUALIFYING_VALUE_FIELD_NUMBER: _ClassVar[int]
    NEXT_CODE_FIELD_NUMBER: _ClassVar[int]
    NEXT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TO_NEXT_FIELD_NUMBER: _ClassVar[int]
    REVIEW_DATE_FIELD_NUMBER: _ClassVar[int]
    DOWNGRADE_WARNING_TO_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_PERCENT_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_GIFT_POINTS_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    basis: str
    qualifying_currency: str
    qualifying_value: int
    next_code: str
    next_threshold: int
    to_next: int
    review_date: _common_pb2.Date
    downgrade_warning_to: str
    multiplier_percent: int
    birthday_gift_points: int
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., basis: _Optional[str] = ..., qualifying_currency: _Optional[str] = ..., qualifying_value: _Optional[int] = ..., next_code: _Optional[str] = ..., next_threshold: _Optional[int] = ..., to_next: _Optional[int] = ..., review_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., downgrade_warning_to: _Optional[str] = ..., multiplier_percent: _Optional[int] = ..., birthday_gift_points: _Optional[int] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("customer_id", "balance", "expiring_within_30_days", "next_expiry_date", "tier", "earned_total", "redeemed_total", "expired_total", "clawed_back_total", "opened_at", "last_greeting")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    EXPIRING_WITHIN_30_DAYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_EXPIRY_DATE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    EARNED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REDEEMED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CLAWED_BACK_TOTAL_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_GREETING_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    balance: int
    expiring_within_30_days: int
    next_expiry_date: _common_pb2.Date
    tier: TierStatus
    earned_total: int
    redeemed_total: int
    expired_total: int
    clawed_back_total: int
    opened_at: _timestamp_pb2.Timestamp
    last_greeting: _greeting_service_pb2.GreetingDelivery
    def __init__(self, customer_id: _Optional[str] = ..., balance: _Optional[int] = ..., expiring_within_30_days: _Optional[int] = ..., next_expiry_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., tier: _Optional[_Union[TierStatus, _Mapping]] = ..., earned_total: _Optional[int] = ..., redeemed_total: _Optional[int] = ..., expired_total: _Optional[int] = ..., clawed_back_total: _Optional[int] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_greeting: _Optional[_Union[_greeting_service_pb2.GreetingDelivery, _Mapping]] = ...) -> None: ...

class ListLedgerRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("entry_id", "kind", "points", "balance_after", "reference", "reason", "actor", "at", "expires_on")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_ON_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    kind: str
    points: int
    balance_after: int
    reference: str
    reason: str
    actor: str
    at: _timestamp_pb2.Timestamp
    expires_on: _common_pb2.Date
    def __init__(self, entry_id: _Optional[str] = ..., kind: _Optional[str] = ..., points: _Optional[int] = ..., balance_after: _Optional[int] = ..., reference: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class ListLedgerResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AdjustPointsRequest(_message.Message):
    __slots__ = ("customer_id", "points", "reason", "request_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    points: int
    reason: str
    request_id: str
    def __init__(self, customer_id: _Optional[str] = ..., points: _Optional[int] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AdjustPointsResponse(_message.Message):
    __slots__ = ("entry", "account")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    entry: LedgerEntry
    account: Account
    def __init__(self, entry: _Optional[_Union[LedgerEntry, _Mapping]] = ..., account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class Reward(_message.Message):
    __slots__ = ("reward_id", "name", "description", "points_cost", "stock", "per_customer_limit", "valid_from", "valid_until", "active", "created_at", "updated_at")
    REWARD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POINTS_COST_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    PER_CUSTOMER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    reward_id: str
    name: str
    description: str
    points_cost: int
    stock: int
    per_customer_limit: int
    valid_from: _common_pb2.Date
    valid_until: _common_pb2.Date
    active: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, reward_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., points_cost: _Optional[int] = ..., stock: _Optional[int] = ..., per_customer_limit: _Optional[int] = ..., valid_from: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., valid_until: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., active: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateRewardRequest(_message.Message):
    __slots__ = ("reward", "request_id")
    REWARD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    reward: Reward
    request_id: str
    def __init__(self, reward: _Optional[_Union[Reward, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetRewardRequest(_message.Message):
    __slots__ = ("reward_id",)
    REWARD_ID_FIELD_NUMBER: _ClassVar[int]
    reward_id: str
    def __init__(self, reward_id: _Optional[str] = ...) -> None: ...

class ListRewardsRequest(_message.Message):
    __slots__ = ("available_only", "page_size", "page_token")
    AVAILABLE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    available_only: bool
    page_size: int
    page_token: str
    def __init__(self, available_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRewardsResponse(_message.Message):
    __slots__ = ("rewards", "next_page_token")
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    rewards: _containers.RepeatedCompositeFieldContainer[Reward]
    next_page_token: str
    def __init__(self, rewards: _Optional[_Iterable[_Union[Reward, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateRewardRequest(_message.Message):
    __slots__ = ("reward", "update_mask", "add_stock")
    REWARD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ADD_STOCK_FIELD_NUMBER: _ClassVar[int]
    reward: Reward
    update_mask: _containers.RepeatedScalarFieldContainer[str]
    add_stock: int
    def __init__(self, reward: _Optional[_Union[Reward, _Mapping]] = ..., update_mask: _Optional[_Iterable[str]] = ..., add_stock: _Optional[int] = ...) -> None: ...

class DeleteRewardRequest(_message.Message):
    __slots__ = ("reward_id",)
    REWARD_ID_FIELD_NUMBER: _ClassVar[int]
    reward_id: str
    def __init__(self, reward_id: _Optional[str] = ...) -> None: ...

class Redemption(_message.Message):
    __slots__ = ("redemption_id", "customer_id", "reward_id", "points", "state", "redeemed_at", "cancelled_at")
    REDEMPTION_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REDEEMED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    redemption_id: str
    customer_id: str
    reward_id: str
    points: int
    state: str
    redeemed_at: _timestamp_pb2.Timestamp
    cancelled_at: _timestamp_pb2.Timestamp
    def __init__(self, redemption_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., reward_id: _Optional[str] = ..., points: _Optional[int] = ..., state: _Optional[str] = ..., redeemed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RedeemRewardRequest(_message.Message):
    __slots__ = ("customer_id", "reward_id", "request_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    reward_id: str
    request_id: str
    def __init__(self, customer_id: _Optional[str] = ..., reward_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CancelRedemptionRequest(_message.Message):
    __slots__ = ("customer_id", "redemption_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REDEMPTION_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    redemption_id: str
    def __init__(self, customer_id: _Optional[str] = ..., redemption_id: _Optional[str] = ...) -> None: ...

class ListRedemptionsRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRedemptionsResponse(_message.Message):
    __slots__ = ("redemptions", "next_page_token")
    REDEMPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    redemptions: _containers.RepeatedCompositeFieldContainer[Redemption]
    next_page_token: str
    def __init__(self, redemptions: _Optional[_Iterable[_Union[Redemption, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RunExpiryRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunExpiryResponse(_message.Message):
    __slots__ = ("accounts", "points")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    accounts: int
    points: int
    def __init__(self, accounts: _Optional[int] = ..., points: _Optional[int] = ...) -> None: ...

class RunTierReviewRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunTierReviewResponse(_message.Message):
    __slots__ = ("reviewed", "downgraded")
    REVIEWED_FIELD_NUMBER: _ClassVar[int]
    DOWNGRADED_FIELD_NUMBER: _ClassVar[int]
    reviewed: int
    downgraded: int
    def __init__(self, reviewed: _Optional[int] = ..., downgraded: _Optional[int] = ...) -> None: ...

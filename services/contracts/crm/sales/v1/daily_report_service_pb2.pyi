import datetime

from crm.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContactedCustomer(_message.Message):
    __slots__ = ("customer_id", "channels", "interaction_count", "visit_count", "first_contact_time", "last_contact_time")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    VISIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    channels: _containers.RepeatedScalarFieldContainer[str]
    interaction_count: int
    visit_count: int
    first_contact_time: _timestamp_pb2.Timestamp
    last_contact_time: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., channels: _Optional[_Iterable[str]] = ..., interaction_count: _Optional[int] = ..., visit_count: _Optional[int] = ..., first_contact_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_contact_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DailyReport(_message.Message):
    __slots__ = ("rep_id", "team_id", "day", "work_done", "tomorrow_plan", "problems", "contacted", "submitted", "submit_time", "update_time", "late", "deadline", "editable", "revision")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    WORK_DONE_FIELD_NUMBER: _ClassVar[int]
    TOMORROW_PLAN_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    CONTACTED_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    EDITABLE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    team_id: str
    day: _common_pb2.Date
    work_done: str
    tomorrow_plan: str
    problems: str
    contacted: _containers.RepeatedCompositeFieldContainer[ContactedCustomer]
    submitted: bool
    submit_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    late: bool
    deadline: _timestamp_pb2.Timestamp
    editable: bool
    revision: int
    def __init__(self, rep_id: _Optional[str] = ..., team_id: _Optional[str] = ..., day: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., work_done: _Optional[str] = ..., tomorrow_plan: _Optional[str] = ..., problems: _Optional[str] = ..., contacted: _Optional[_Iterable[_Union[ContactedCustomer, _Mapping]]] = ..., submitted: _Optional[bool] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., late: _Optional[bool] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., editable: _Optional[bool] = ..., revision: _Optional[int] = ...) -> None: ...

class GetDailyReportRequest(_message.Message):
    __slots__ = ("rep_id", "day")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    day: _common_pb2.Date
    def __init__(self, rep_id: _Optional[str] = ..., day: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class SubmitDailyReportRequest(_message.Message):
    __slots__ = ("rep_id", "day", "work_done", "tomorrow_plan", "problems", "expected_revision")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    WORK_DONE_FIELD_NUMBER: _ClassVar[int]
    TOMORROW_PLAN_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    day: _common_pb2.Date
    work_done: str
    tomorrow_plan: str
    problems: str
    expected_revision: int
    def __init__(self, rep_id: _Optional[str] = ..., day: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., work_done: _Optional[str] = ..., tomorrow_plan: _Optional[str] = ..., problems: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ListTeamDailyReportsRequest(_message.Message):
    __slots__ = ("team_id", "day")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    day: _common_pb2.Date
    def __init__(self, team_id: _Optional[str] = ..., day: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class TeamDailyReports(_message.Message):
    __slots__ = ("team_id", "day", "deadline", "deadline_passed", "reports", "missing_rep_ids", "roster_source")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_PASSED_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    MISSING_REP_IDS_FIELD_NUMBER: _ClassVar[int]
    ROSTER_SOURCE_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    day: _common_pb2.Date
    deadline: _timestamp_pb2.Timestamp
    deadline_passed: bool
    reports: _containers.RepeatedCompositeFieldContainer[DailyReport]
    missing_rep_ids: _containers.RepeatedScalarFieldContainer[str]
    roster_source: str
    def __init__(self, team_id: _Optional[str] = ..., day: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline_passed: _Optional[bool] = ..., reports: _Optional[_Iterable[_Union[DailyReport, _Mapping]]] = ..., missing_rep_ids: _Optional[_Iterable[str]] = ..., roster_source: _Optional[str] = ...) -> None: ...

class GetTeamRosterRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class SetTeamRosterRequest(_message.Message):
    __slots__ = ("team_id", "rep_ids")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REP_IDS_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    rep_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, team_id: _Optional[str] = ..., rep_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class TeamRoster(_message.Message):
    __slots__ = ("team_id", "rep_ids", "source")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REP_IDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    rep_ids: _containers.RepeatedScalarFieldContainer[str]
    source: str
    def __init__(self, team_id: _Optional[str] = ..., rep_ids: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ...) -> None: ...

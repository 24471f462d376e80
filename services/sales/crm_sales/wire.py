"""Message <-> domain conversions every sales servicer shares: money, dates
and times. Transport only; validation of what the values mean (a price may
not be negative, a close date not too far off) stays with each feature."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.money import Money


def money_pb(m: Money) -> common_pb2.Money:
    return common_pb2.Money(minor_units=m.minor_units, currency_code=m.currency_code)


def money_from_pb(m: common_pb2.Money) -> Money:
    """int64 minor units: a fraction of a minor unit cannot be sent at all."""
    return Money(int(m.minor_units), m.currency_code)


def date_pb(d: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def date_from_pb(d: common_pb2.Date, field_name: str) -> dt.date:
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        raise InvalidArgument(FieldViolation(field_name, "is not a valid calendar date")) from None


def timestamp_pb(moment: dt.datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def datetime_from_pb(ts: Timestamp, field_name: str) -> dt.datetime:
    try:
        return ts.ToDatetime(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise InvalidArgument(FieldViolation(field_name, "is not a valid time")) from None

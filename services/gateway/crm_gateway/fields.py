"""Field types the route models share: sizes, formats, and their JSON
Schema (pydantic writes it into /openapi.json from the same annotation)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from crm.common.v1 import common_pb2

from crm_gateway.requests import timestamp


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def text(max_length: int, min_length: int = 0, **kw) -> Any:
    """A string type of bounded length."""
    return Annotated[str, Field(max_length=max_length, min_length=min_length, **kw)]


def optional(**kw) -> Any:
    """The default of a body field that may be left out but not sent as
    null (its schema shows no default)."""
    return Field(default=None, json_schema_extra=_no_default, **kw)


def _query_time(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw
    if not isinstance(raw, str):
        raise ValueError("must be an RFC 3339 date-time")
    return timestamp(raw)


# A query parameter: RFC 3339 with a time zone, converted to UTC.
QueryTime = Annotated[datetime, BeforeValidator(_query_time),
                      WithJsonSchema({"type": "string", "format": "date-time"})]
def _query_bool(raw: Any) -> bool:
    if raw in ("true", "false"):
        return raw == "true"
    if isinstance(raw, bool):
        return raw
    raise ValueError("must be true or false")


QueryBool = Annotated[bool, BeforeValidator(_query_bool)]
# A body field: checked by pattern here, converted (and range-checked) by the mapping.
DateTimeIn = Annotated[str, Field(max_length=40, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$",
                                  description="RFC 3339 with a time zone, e.g. 2026-01-31T08:00:00Z.")]
DateIn = Annotated[str, Field(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$",
                              description="A calendar date, e.g. 2026-02-01.")]
# Answers.
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
NullableTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]
PageSize = Annotated[int, Field(ge=1, le=200)]
PageToken = text(512)
Id = text(64, 1)
NEXT_PAGE = "Pass as page_token for the next page; empty at the end."


class Body(BaseModel):
    """A request body: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query parameters: parsed from text, unknown ones refused."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """An answer's schema; `from_pb` (a staticmethod) maps a message to it directly."""

    model_config = ConfigDict(extra="forbid")


class CustomerPath(BaseModel):
    customer_id: Id


class PagingQuery(Query):
    page_size: PageSize = 50
    page_token: PageToken = ""


# --- dates and money on the wire (crm.common.v1), for every module that sends them ------

def date_pb(value: str) -> common_pb2.Date:
    """A DateIn ("2026-02-01") as crm.common.v1.Date. A well-formed but
    impossible day (2026-02-30) is the service's to refuse, naming the field."""
    year, month, day = (int(part) for part in value.split("-"))
    return common_pb2.Date(year=year, month=month, day=day)


def date_json(d: common_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def money_json(m: common_pb2.Money) -> dict:
    return {"minor_units": m.minor_units, "currency_code": m.currency_code}

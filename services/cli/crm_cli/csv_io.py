r"""Customers as CSV: reading an import file, writing an export. Pure Python, no I/O
beyond the file handed in, no gRPC (crm_cli.transfer sends what this reads).

Import files are UTF-8, with or without a byte-order mark (Excel writes one).
Headers may be English (the field names `crm export` writes, or common
aliases such as "name", "phone", "email") or Chinese (姓名, 手机, 邮箱, 省份, …);
`--mapping file.json` ({"header": "field"}, null to ignore a column) adds to
or overrides the built-in table. A header that maps to nothing is an error
before anything is sent. Several phones, e-mails or tags share one cell,
separated by ";" (tags also by "," "，" "；"). Common Chinese values of kind,
type, stage and source (个人, 潜在客户, 已成交, 转介绍, …) become their codes;
anything else is sent as written and the service judges it.

A row that cannot be read (undecodable bytes, wrong number of columns, a
birthday that is not a date) is reported with its line number and skipped;
the other rows go on.

Two escapes make an export safe to open in Excel and read back exactly:

- **Formulas.** A spreadsheet runs a cell that begins with `=`, `+`, `-`,
  `@`, a tab or a carriage return as a formula (CSV injection). The export
  puts a single quote before such a cell (OWASP's advice; Excel shows the
  text, without the quote), and before a cell that begins with a quote
  followed by one of those characters or by another quote. The import drops
  one leading quote when the next character is one of `= + - @ tab CR '`,
  so `'+86 138…` (a phone typed as text in Excel) reads as `+86 138…`; any
  other leading quote is kept.
- **Separators.** In a list cell (phones, e-mails, tags) a separator or a
  backslash that belongs to a value is written with a backslash before it
  (`a\;b` is the one tag `a;b`; `\\` is a backslash). The import reads
  `\` before `\ ; ； , ，` as that character, and any other backslash as
  itself.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

# The formula escapes are the kit's (the gateway's CSV exports use them too).
from crm_kit.spreadsheet import neutralize_formula, restore_formula  # noqa: F401 - part of this module's API

# The columns an import understands: the profile fields it can set, the owner
# of created customers, and the birthday in one cell.
IMPORT_FIELDS = ("display_name", "kind", "phones", "emails", "province", "city", "type", "level", "tags",
                 "source", "stage", "intent_notes", "external_id", "owner_id", "birthday")
LIST_FIELDS = ("phones", "emails", "tags")
# What `crm export` writes, in this order (English headers = field names).
# The read-only ones (id, created_at, last_contact_at) are ignored on import.
EXPORT_COLUMNS = ("id", "display_name", "kind", "phones", "emails", "province", "city", "type", "level", "tags",
                  "source", "stage", "intent_notes", "external_id", "owner_id", "birthday", "created_at",
                  "last_contact_at")
IGNORED = None  # a mapping target: the column is read and dropped

_ALIASES: dict[str, str | None] = {
    # English (compared case-insensitively, spaces and hyphens as "_")
    "name": "display_name", "customer_name": "display_name", "full_name": "display_name",
    "phone": "phones", "mobile": "phones", "tel": "phones", "telephone": "phones", "phone_number": "phones",
    "email": "emails", "e_mail": "emails", "mail": "emails", "email_address": "emails",
    "tag": "tags", "owner": "owner_id", "rep": "owner_id", "external_ref": "external_id", "ext_id": "external_id",
    "customer_type": "type", "notes": "intent_notes", "note": "intent_notes", "follow_up_stage": "stage",
    "id": IGNORED, "created_at": IGNORED, "updated_at": IGNORED, "last_contact_at": IGNORED, "team_id": IGNORED,
    # Chinese
    "姓名": "display_name", "名称": "display_name", "客户名称": "display_name", "客户姓名": "display_name",
    "名字": "display_name", "客户": "display_name", "公司名称": "display_name",
    "性质": "kind", "客户性质": "kind", "个人/企业": "kind",
    "手机": "phones", "电话": "phones", "手机号": "phones", "手机号码": "phones", "电话号码": "phones",
    "联系电话": "phones", "移动电话": "phones",
    "邮箱": "emails", "电子邮箱": "emails", "邮件": "emails", "电子邮件": "emails", "邮箱地址": "emails",
    "省份": "province", "省": "province", "城市": "city", "市": "city",
    "类型": "type", "客户类型": "type", "级别": "level", "客户级别": "level", "等级": "level",
    "标签": "tags", "客户标签": "tags", "来源": "source", "客户来源": "source",
    "跟进阶段": "stage", "阶段": "stage", "跟进状态": "stage", "意向": "intent_notes", "意向备注": "intent_notes",
    "备注": "intent_notes", "外部编号": "external_id", "外部id": "external_id", "外部系统编号": "external_id",
    "负责人": "owner_id", "所属销售": "owner_id", "归属人": "owner_id", "销售": "owner_id",
    "生日": "birthday", "出生日期": "birthday",
    "客户编号": IGNORED, "创建时间": IGNORED, "最后联系时间": IGNORED,
}

# Common Chinese (and spelled-out English) values -> the codes the service expects.
VALUE_CODES: dict[str, dict[str, str]] = {
    "kind": {"个人": "person", "自然人": "person", "公司": "company", "企业": "company", "单位": "company"},
    "type": {"潜在客户": "prospect", "潜客": "prospect", "客户": "customer", "正式客户": "customer",
             "成交客户": "customer", "合作伙伴": "partner", "伙伴": "partner", "经销商": "distributor",
             "分销商": "distributor", "代理商": "distributor", "其他": "other"},
    "stage": {"新建": "new", "新客户": "new", "新": "new", "已联系": "contacted", "初步接触": "contacted",
              "目标客户": "target", "目标": "target", "强意向": "strong_intent", "意向强烈": "strong_intent",
              "谈判中": "negotiating", "商务谈判": "negotiating", "已成交": "won", "成交": "won", "赢单": "won",
              "流失": "lost", "丢单": "lost", "输单": "lost", "休眠": "dormant", "沉睡": "dormant",
              "strong intent": "strong_intent"},
    "source": {"转介绍": "referral", "推荐": "referral", "老客户介绍": "referral", "到店": "walk_in",
               "上门": "walk_in", "自然到店": "walk_in", "walk in": "walk_in", "电话": "phone", "来电": "phone",
               "网站": "web", "网络": "web", "官网": "web", "展会": "exhibition", "广告": "advertising",
               "合作伙伴": "partner", "渠道": "partner", "导入": "import", "其他": "other"},
}

_SEPARATORS = {"phones": ";；", "emails": ";；", "tags": ";；,，"}
_ESCAPED = "\\;；,，"  # what a backslash escapes in a list cell
_ESCAPE = re.compile(r"([\\;；,，])")
_BIRTHDAY = re.compile(r"^(?:(农历|阴历|lunar)[\s:]*)?(?:(闰|leap)[\s:]*)?(?:(\d{4})\s*[-/.年]\s*)?"
                       r"(闰)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$", re.IGNORECASE)


class HeaderError(ValueError):
    """The file cannot be imported at all (unknown or clashing headers, no header)."""


@dataclass(frozen=True)
class RowProblem:
    """A row skipped before sending: where it is and why."""

    line: int
    message: str


@dataclass(frozen=True)
class CsvRow:
    """A readable row: its line number and the fields of its non-empty cells.

    Values are ready for the message: lists for phones, e-mails and tags,
    a dict (calendar, year, month, day, leap_month) for the birthday, text
    for the rest."""

    line: int
    fields: dict = field(default_factory=dict)


def _header_key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).strip().casefold()
    return re.sub(r"[\s\-]+", "_", text)


def load_mapping(path: str | Path) -> dict[str, str | None]:
    """A `--mapping` file: a JSON object of header -> field (null or "" ignores the column)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise HeaderError(f"cannot read the mapping file {path}: {err}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                             for k, v in data.items()):
        raise HeaderError(f"the mapping file {path} must be a JSON object of header -> field name (or null)")
    out: dict[str, str | None] = {}
    for header, target in data.items():
        if target and target not in IMPORT_FIELDS:
            raise HeaderError(f"the mapping file maps {header!r} to {target!r}, which is not one of: "
                              + ", ".join(IMPORT_FIELDS))
        out[_header_key(header)] = target or IGNORED
    return out


def resolve_headers(headers: list[str], mapping: dict[str, str | None] | None = None) -> list[str | None]:
    """The field each column fills (None: ignored). Raises HeaderError naming
    every header that maps to nothing, or a field two columns both set
    (lists such as phones may come from several columns)."""
    table = {**{f: f for f in IMPORT_FIELDS}, **_ALIASES, **(mapping or {})}
    fields_: list[str | None] = []
    unknown: list[str] = []
    for header in headers:
        key = _header_key(header)
        if key not in table:
            unknown.append(header)
            continue
        fields_.append(table[key])
    if unknown:
        raise HeaderError("unknown column" + ("s " if len(unknown) > 1 else " ") + ", ".join(repr(h) for h in unknown)
                          + "; map it with --mapping file.json ({\"header\": \"field\"}, null to ignore); fields: "
                          + ", ".join(IMPORT_FIELDS))
    taken: dict[str, str] = {}
    for header, target in zip(headers, fields_):
        if target and target not in LIST_FIELDS:
            if target in taken:
                raise HeaderError(f"columns {taken[target]!r} and {header!r} both set {target}")
            taken[target] = header
    if not any(fields_):
        raise HeaderError("no column of the file maps to a customer field")
    return fields_


def parse_birthday(text: str) -> dict:
    """'1990-05-12', '05-12' (year unknown), '1990年5月12日', '农历1990-08-15',
    'lunar 08-15', 'lunar leap 2020-04-12' / '农历2020-闰04-12'."""
    match = _BIRTHDAY.match(text.strip())
    if not match:
        raise ValueError(f"birthday {text!r} is not a date such as 1990-05-12, 05-12 or 农历1990-08-15")
    lunar, leap, year, leap2, month, day = match.groups()
    return {"calendar": "lunar" if lunar else "gregorian", "year": int(year or 0), "month": int(month),
            "day": int(day), "leap_month": bool(leap or leap2)}


def format_birthday(b: dict | None) -> str:
    if not b:
        return ""
    date = (f"{b['year']:04d}-" if b.get("year") else "") + f"{b['month']:02d}-{b['day']:02d}"
    if b.get("calendar") == "lunar":
        return ("lunar leap " if b.get("leap_month") else "lunar ") + date
    return date


def join_list(values) -> str:
    """A list cell: values separated by ";", separators and backslashes in a value escaped."""
    return ";".join(_ESCAPE.sub(r"\\\1", value) for value in values)


def split_list(name: str, text: str) -> list[str]:
    """A list cell's values: split at unescaped separators, escapes undone, blanks dropped."""
    separators, parts, current, i = _SEPARATORS[name], [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPED:
            current.append(text[i + 1])
            i += 2
            continue
        if ch in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _cell_value(name: str, text: str):
    if name in LIST_FIELDS:
        return split_list(name, text)
    if name == "birthday":
        return parse_birthday(text)
    if name == "kind":
        kind = VALUE_CODES["kind"].get(text, text.casefold())
        if kind not in ("person", "company"):
            raise ValueError(f"kind {text!r} is not person or company (个人 or 公司)")
        return kind
    codes = VALUE_CODES.get(name)
    if codes:
        return codes.get(text, codes.get(text.casefold(), text))
    return text


def read_rows(stream: TextIO, mapping: dict[str, str | None] | None = None
              ) -> tuple[list[str], Iterator[CsvRow | RowProblem]]:
    """The header and an iterator of rows (or problems) of an import file.

    `stream` should be opened with `open_import`; HeaderError is raised here,
    before any row is read."""
    reader = csv.reader(stream)
    try:
        headers = next(reader)
    except StopIteration:
        raise HeaderError("the file is empty: the first line must name the columns") from None
    except csv.Error as err:
        raise HeaderError(f"line 1: {err}") from None
    if any(_undecodable(h) for h in headers):
        raise HeaderError("line 1: the header is not UTF-8 text")
    headers = [h.lstrip("\ufeff") for h in headers]
    targets = resolve_headers(headers, mapping)
    return headers, _rows(reader, targets)


def _undecodable(text: str) -> bool:
    # open_import decodes with errors="surrogateescape": bad bytes become lone surrogates.
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _rows(reader, targets: list[str | None]) -> Iterator[CsvRow | RowProblem]:
    line = reader.line_num + 1  # where the next record starts
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield RowProblem(line, f"cannot be read as CSV: {err}")
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue  # a blank line (or one of empty cells, as spreadsheets leave at the end)
        if any(_undecodable(cell) for cell in record):
            yield RowProblem(start, "is not valid UTF-8 text")
            continue
        if len(record) != len(targets):
            yield RowProblem(start, f"has {len(record)} columns, the header has {len(targets)}")
            continue
        fields_: dict = {}
        try:
            for target, cell in zip(targets, record):
                text = restore_formula(cell.strip())
                if target is None or not text:
                    continue
                value = _cell_value(target, text)
                if target in LIST_FIELDS:  # several columns may add to one list
                    before = fields_.get(target, [])
                    fields_[target] = before + [v for v in value if v not in before]
                else:
                    fields_[target] = value
        except ValueError as err:
            yield RowProblem(start, str(err))
            continue
        yield CsvRow(start, fields_)


def open_import(path: str | Path) -> TextIO:
    """An import file opened for `read_rows`: UTF-8 with or without BOM; bad
    bytes are kept (as surrogates) so the row holding them is reported."""
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def count_lines(path: str | Path) -> int:
    """Data lines in a file (for the progress bar's total), fast and approximate."""
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, count + (last != b"\n") - 1)


# --- export ---------------------------------------------------------------------------

def export_row(customer: dict) -> list[str]:
    """A customer (as a dict with the EXPORT_COLUMNS' values) as CSV cells."""
    out = []
    for column in EXPORT_COLUMNS:
        value = customer.get(column)
        if column == "birthday":
            cell = format_birthday(value)
        elif isinstance(value, (list, tuple)):
            cell = join_list(value)
        else:
            cell = "" if value is None else str(value)
        out.append(neutralize_formula(cell))
    return out


def write_export(stream: TextIO, customers, bom: bool = True) -> int:
    """Write a header and one line per customer; returns the number written.
    The BOM makes Excel open UTF-8 (Chinese names) correctly."""
    if bom:
        stream.write("\ufeff")
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for customer in customers:
        writer.writerow(export_row(customer))
        count += 1
    return count

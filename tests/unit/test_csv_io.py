"""Reading import files and writing exports (crm_cli.csv_io), pure: files on
disk, no services."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, strategies as st

from crm_cli import csv_io
from crm_cli.csv_io import CsvRow, HeaderError, RowProblem
from crm_cli.transfer import row_message


def read(tmp_path, data: bytes | str, mapping=None, name="in.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    with csv_io.open_import(path) as stream:
        headers, rows = csv_io.read_rows(stream, mapping)
        return headers, list(rows)


def test_utf8_with_and_without_bom_read_the_same(tmp_path):
    text = "display_name,phones,emails\r\n李雷,13912345678,li.lei@example.com\r\n"
    plain = read(tmp_path, text.encode("utf-8"), name="plain.csv")
    with_bom = read(tmp_path, text.encode("utf-8-sig"), name="bom.csv")
    assert plain == with_bom
    headers, rows = with_bom
    assert headers == ["display_name", "phones", "emails"]
    assert rows == [CsvRow(2, {"display_name": "李雷", "phones": ["13912345678"], "emails": ["li.lei@example.com"]})]


def test_chinese_headers_and_values_map_to_fields_and_codes(tmp_path):
    text = ("姓名,手机,邮箱,省份,城市,类型,级别,标签,来源,跟进阶段,外部编号,负责人,生日,性质\n"
            "韩梅梅,139 1234 5678,han@example.com,浙江,杭州,潜在客户,A,老客户，高潜力;vip,转介绍,谈判中,ERP-7,rep-001,"
            "农历1990-08-15,个人\n")
    _headers, [r] = read(tmp_path, text.encode("utf-8-sig"))
    assert r.fields == {
        "display_name": "韩梅梅", "phones": ["139 1234 5678"], "emails": ["han@example.com"], "province": "浙江",
        "city": "杭州", "type": "prospect", "level": "A", "tags": ["老客户", "高潜力", "vip"], "source": "referral",
        "stage": "negotiating", "external_id": "ERP-7", "owner_id": "rep-001",
        "birthday": {"calendar": "lunar", "year": 1990, "month": 8, "day": 15, "leap_month": False},
        "kind": "person"}


def test_english_aliases_are_case_and_space_insensitive(tmp_path):
    _headers, [r] = read(tmp_path, "Name, Phone ,E-Mail,Owner,External ID\nAmy,13800138000,a@example.com,rep-2,X1\n")
    assert r.fields == {"display_name": "Amy", "phones": ["13800138000"], "emails": ["a@example.com"],
                        "owner_id": "rep-2", "external_id": "X1"}


def test_several_phones_and_emails_in_one_cell_and_across_columns(tmp_path):
    text = 'name,手机,电话,email\n王五,"13800138000; 13900139000",010-62345678；13800138000,"a@x.com;b@x.com"\n'
    _headers, [r] = read(tmp_path, text)
    assert r.fields["phones"] == ["13800138000", "13900139000", "010-62345678"]
    assert r.fields["emails"] == ["a@x.com", "b@x.com"]


def test_empty_cells_set_nothing(tmp_path):
    _headers, [r] = read(tmp_path, "phones,stage,city,tags\n13800138000,, ,\n")
    assert r.fields == {"phones": ["13800138000"]}


def test_unknown_header_is_an_error_naming_it_before_any_row_is_read(tmp_path):
    with pytest.raises(HeaderError) as err:
        read(tmp_path, "姓名,手机,微信号,favourite colour\n张三,13800138000,zs,red\n")
    assert "'微信号'" in str(err.value) and "'favourite colour'" in str(err.value)
    assert "--mapping" in str(err.value)


def test_a_mapping_file_names_or_ignores_columns(tmp_path):
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps({"客户全称": "display_name", "微信号": None, "Mobile No.": "phones"}),
                            encoding="utf-8")
    mapping = csv_io.load_mapping(mapping_file)
    _headers, [r] = read(tmp_path, "客户全称,微信号,mobile no.\n杭州某某科技有限公司,wx1,13800138000\n", mapping)
    assert r.fields == {"display_name": "杭州某某科技有限公司", "phones": ["13800138000"]}


def test_a_mapping_to_an_unknown_field_is_refused(tmp_path):
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(json.dumps({"x": "salary"}))
    with pytest.raises(HeaderError, match="salary"):
        csv_io.load_mapping(mapping_file)
    mapping_file.write_text("[1, 2]")
    with pytest.raises(HeaderError):
        csv_io.load_mapping(mapping_file)


def test_two_columns_setting_one_plain_field_is_an_error(tmp_path):
    with pytest.raises(HeaderError, match="display_name"):
        read(tmp_path, "姓名,名称,手机\n张三,张三,13800138000\n")


def test_an_empty_file_is_an_error(tmp_path):
    with pytest.raises(HeaderError, match="empty"):
        read(tmp_path, b"")


def test_broken_rows_are_reported_with_their_line_and_the_rest_is_read(tmp_path):
    data = ("姓名,手机,生日\r\n"
            "一,13800000001,1990-01-02\r\n"
            "二,13800000002\r\n"  # a column short
            '"三\r\n(two lines)",13800000003,05-06\r\n'  # a quoted cell spanning lines 4-5
            "四,13800000004,1,2,3\r\n").encode() + \
        "五,".encode() + b"\xff\xfe broken" + b",1990-01-01\r\n" + \
        "六,13800000006,not a date\r\n\r\n,,\r\n七,13800000007,\r\n".encode()
    _headers, rows = read(tmp_path, data)
    good = [r for r in rows if isinstance(r, CsvRow)]
    problems = [r for r in rows if isinstance(r, RowProblem)]
    assert [(r.line, r.fields["display_name"]) for r in good] == [(2, "一"), (4, "三\r\n(two lines)"), (11, "七")]
    assert [p.line for p in problems] == [3, 6, 7, 8]
    assert "2 columns" in problems[0].message and "5 columns" in problems[1].message
    assert "UTF-8" in problems[2].message
    assert "not a date" in problems[3].message


@pytest.mark.parametrize("text, expected", [
    ("1990-05-12", ("gregorian", 1990, 5, 12, False)),
    ("05-12", ("gregorian", 0, 5, 12, False)),
    ("1990年5月12日", ("gregorian", 1990, 5, 12, False)),
    ("1990/5/12", ("gregorian", 1990, 5, 12, False)),
    ("农历1990-08-15", ("lunar", 1990, 8, 15, False)),
    ("lunar 08-15", ("lunar", 0, 8, 15, False)),
    ("农历2020-闰04-12", ("lunar", 2020, 4, 12, True)),
    ("lunar leap 2020-04-12", ("lunar", 2020, 4, 12, True)),
])
def test_birthdays_in_common_notations(text, expected):
    b = csv_io.parse_birthday(text)
    assert (b["calendar"], b["year"], b["month"], b["day"], b["leap_month"]) == expected


@given(st.booleans(), st.booleans(), st.integers(0, 2100).filter(lambda y: y == 0 or y >= 1900),
       st.integers(1, 12), st.integers(1, 31))
def test_a_written_birthday_reads_back(lunar, leap, year, month, day):
    b = {"calendar": "lunar" if lunar else "gregorian", "year": year, "month": month, "day": day,
         "leap_month": lunar and leap}
    assert csv_io.parse_birthday(csv_io.format_birthday(b)) == b


def test_an_export_reads_back_as_an_import(tmp_path):
    customer = {"id": "cus_" + "a" * 24, "display_name": "Li, \"Lei\" 李雷", "kind": "company",
                "phones": ["+8613800138000", "+8613900139000"], "emails": ["li@example.com"], "province": "浙江",
                "city": "杭州", "type": "customer", "level": "VIP", "tags": ["老客户", "vip"], "source": "web",
                "stage": "won", "intent_notes": "line one\nline two", "external_id": "ERP-1", "owner_id": "rep-001",
                "birthday": {"calendar": "lunar", "year": 0, "month": 8, "day": 15, "leap_month": False},
                "created_at": "2026-01-01T00:00:00Z", "last_contact_at": ""}
    out = io.StringIO(newline="")
    assert csv_io.write_export(out, [customer]) == 1
    data = out.getvalue()
    assert data.startswith("\ufeffid,display_name,")
    _headers, [r] = read(tmp_path, data.encode("utf-8"))
    expected = {k: v for k, v in customer.items() if k not in ("id", "created_at", "last_contact_at")}
    assert r == CsvRow(2, expected)


def test_a_row_becomes_a_message_naming_only_its_cells():
    message = row_message(CsvRow(7, {"phones": ["13800138000"], "city": "杭州", "stage": "won", "kind": "company",
                                     "owner_id": "rep-9"}), default_owner="rep-1")
    assert message.row_number == 7 and message.owner_id == "rep-9"
    assert sorted(message.update_mask.paths) == ["kind", "phones", "region.city", "stage"]
    assert message.customer.region.city == "杭州" and not message.customer.region.province
    assert row_message(CsvRow(8, {"phones": ["1"]}), default_owner="rep-1").owner_id == "rep-1"


def test_line_count_for_the_progress_bar(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("h\n1\n2\n3")
    assert csv_io.count_lines(path) == 3
    path.write_text("h\n1\n2\n")
    assert csv_io.count_lines(path) == 2


# --- formula injection and separators in exported cells ---------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff")
                | st.sampled_from("=+-@\t\r'\\;；,，\""), min_size=1, max_size=12)
_STRIPPED = _TEXT.map(str.strip).filter(bool)


def round_trip(tmp_path, customer: dict) -> dict:
    out = io.StringIO(newline="")
    csv_io.write_export(out, [customer])
    path = tmp_path / "rt.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    with csv_io.open_import(path) as stream:
        _headers, rows = csv_io.read_rows(stream)
        [row] = list(rows)
    return row.fields


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_cells_a_spreadsheet_would_run_are_written_with_a_quote_first(value):
    cells = csv_io.export_row({"display_name": value, "intent_notes": value, "tags": [value, "ok"]})
    for column in ("display_name", "intent_notes", "tags"):
        cell = cells[csv_io.EXPORT_COLUMNS.index(column)]
        assert cell.startswith("'") and cell[1:].startswith(value if column != "tags" else value[:1])


def test_plain_cells_and_lone_quotes_are_written_as_they_are():
    cells = csv_io.export_row({"display_name": "李雷", "intent_notes": "'quoted' note", "external_id": "'"})
    assert cells[csv_io.EXPORT_COLUMNS.index("display_name")] == "李雷"
    assert cells[csv_io.EXPORT_COLUMNS.index("intent_notes")] == "'quoted' note"
    assert cells[csv_io.EXPORT_COLUMNS.index("external_id")] == "'"


def test_a_quote_typed_in_excel_before_a_phone_is_dropped_on_import(tmp_path):
    _h, [row] = read(tmp_path, "phone,name,notes\n'+86 138 0013 8000,'=x,'plain\n")
    assert row.fields == {"phones": ["+86 138 0013 8000"], "display_name": "=x", "intent_notes": "'plain"}


def test_a_tag_with_a_separator_comes_back_as_one_tag(tmp_path):
    tags = ["a;b", "c,d", "e；f", "g，h", "back\\slash", "end\\"]
    assert round_trip(tmp_path, {"display_name": "x", "tags": tags})["tags"] == tags
    cell = csv_io.export_row({"tags": ["a;b", "c"]})[csv_io.EXPORT_COLUMNS.index("tags")]
    assert cell == "a\\;b;c"


def test_a_backslash_before_anything_else_is_itself_on_import(tmp_path):
    _h, [row] = read(tmp_path, "name,tags\nx,C:\\path;a\\;b\n")
    assert row.fields["tags"] == ["C:\\path", "a;b"]


@given(name=_STRIPPED, notes=_STRIPPED, external_id=_STRIPPED,
       tags=st.lists(_STRIPPED, min_size=1, max_size=4, unique=True))
def test_export_then_import_gives_every_value_back(tmp_path_factory, name, notes, external_id, tags):
    tmp_path = tmp_path_factory.mktemp("rt")
    fields = round_trip(tmp_path, {"display_name": name, "intent_notes": notes, "external_id": external_id,
                                   "tags": tags})
    assert fields == {"display_name": name, "intent_notes": notes, "external_id": external_id, "tags": tags}
    for cell in csv_io.export_row({"display_name": name, "intent_notes": notes, "tags": tags}):
        assert not cell or cell[0] not in "=+-@\t\r"


def test_the_import_problem_report_neutralizes_formulas(tmp_path):
    """The report quotes rejected values back; opened in Excel, none may run."""
    import csv

    from crm_cli.transfer import ImportSummary, ReportLine, write_report

    summary = ImportSummary(report=[ReportLine(2, "invalid", '=HYPERLINK("http://evil","x")'),
                                    ReportLine(3, "invalid", "phones: +86 not a number")])
    path = tmp_path / "report.csv"
    write_report(path, summary)
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1][2] == "'" + '=HYPERLINK("http://evil","x")'
    assert csv_io.restore_formula(rows[1][2]) == '=HYPERLINK("http://evil","x")'
    assert rows[2][2] == "phones: +86 not a number"  # plain text stays as it was

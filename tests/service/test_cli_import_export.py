"""`crm import` and `crm export` end to end: the command's own functions
against the real customer service (real gRPC, real FerretDB)."""

from __future__ import annotations

import csv
import io
import uuid

import grpc
import pytest

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import customer_service_pb2_grpc
from crm_cli import csv_io
from crm_cli.main import main as crm
from crm_cli.transfer import export_csv, import_csv
from tests.conftest import token
from tests.service.support import as_, create

ADMIN = token("importer", "admin", team="team-1")


@pytest.fixture(scope="module")
def stub(services):
    ch = grpc.insecure_channel(services.targets["customer"])
    yield customer_service_pb2_grpc.CustomerServiceStub(ch)
    ch.close()


@pytest.fixture
def owner():
    return f"rep-csv-{uuid.uuid4().hex[:8]}"


def run_crm(*argv) -> int:
    try:
        crm(list(argv))
    except SystemExit as done:
        return done.code or 0
    return 0


def read_csv(path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # Excel opens it as UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_import_then_export_with_chinese_headers(services, stub, phone, owner, tmp_path, capsys):
    numbers = [phone() for _ in range(3)]
    source = tmp_path / "客户.csv"
    source.write_bytes((
        "姓名,手机,邮箱,省份,城市,跟进阶段,标签,负责人,生日\r\n"
        f"张三,{numbers[0][3:]},,浙江,杭州,谈判中,老客户;vip,{owner},1990-05-12\r\n"
        f"李四,\"{numbers[1]}; {numbers[2]}\",li.si.{owner}@example.com,广东,深圳,已成交,,{owner},农历08-15\r\n"
    ).encode("utf-8-sig"))
    target = services.targets["customer"]

    assert run_crm("import", str(source), "--target", target, "--token", ADMIN, "--quiet") == 0
    assert "created: 2" in capsys.readouterr().out

    out = tmp_path / "export.csv"
    assert run_crm("export", "--owner", owner, "--output", str(out), "--target", target, "--token", ADMIN,
                   "--quiet") == 0
    rows = read_csv(out)
    assert [(r["display_name"], r["phones"], r["stage"], r["province"], r["owner_id"]) for r in rows] == [
        # E.164 phones begin with "+": quoted so a spreadsheet shows text, not a formula
        ("张三", "'" + numbers[0], "negotiating", "浙江", owner),
        ("李四", f"'{numbers[1]};{numbers[2]}", "won", "广东", owner)]
    assert rows[0]["tags"] == "老客户;vip" and rows[0]["birthday"] == "1990-05-12"
    assert rows[1]["birthday"] == "lunar 08-15" and rows[1]["emails"] == f"li.si.{owner}@example.com"

    stage_only = tmp_path / "won.csv"
    assert run_crm("export", "--owner", owner, "--stage", "won", "-o", str(stage_only), "--target", target,
                   "--token", ADMIN, "--quiet") == 0
    assert [r["display_name"] for r in read_csv(stage_only)] == ["李四"]

    # The export is an import file: the same customers again change nothing.
    again = import_csv(target, ADMIN, out, progress=False)
    assert (again.counts["unchanged"], again.failed) == (2, 0)


def test_a_file_with_broken_rows_reports_them_and_writes_nothing_of_them(services, stub, phone, owner, tmp_path,
                                                                          customer_db, capsys):
    theirs = create(stub, phone(), as_("rep-b"), display_name="别人的")
    good, short, bad_bytes, bad_phone, bad_date = (phone() for _ in range(5))
    source = tmp_path / "broken.csv"
    source.write_bytes(
        b"name,phone,stage,birthday\n"
        + f"Good One,{good},won,\n".encode()  # line 2
        + f"Short Row,{short}\n".encode()  # line 3: a column short
        + b"Bad \xff Bytes," + bad_bytes.encode() + b",new,\n"  # line 4: not UTF-8
        + b"Bad Phone,12345,new,\n"  # line 5
        + f"Theirs,{theirs.phones[0]},lost,\n".encode()  # line 6: another rep's customer
        + f"Bad Date,{bad_date},new,yesterday\n".encode()  # line 7
        + f"Bad Stage,{bad_phone},sold,\n".encode())  # line 8
    report = tmp_path / "report.csv"
    as_rep = token(owner, "rep", team="team-1")  # an admin may change anyone's customer; a rep may not
    code = run_crm("import", str(source), "--report", str(report),
                   "--target", services.targets["customer"], "--token", as_rep, "--quiet")
    assert code == 1
    printed = capsys.readouterr().out
    assert "created: 1" in printed and "error: 6" in printed
    lines = read_csv(report)
    assert [int(r["row"]) for r in lines] == [3, 4, 5, 6, 7, 8]
    assert {r["outcome"] for r in lines} == {"error"}
    messages = {int(r["row"]): r["message"] for r in lines}
    assert "columns" in messages[3] and "UTF-8" in messages[4] and "phone" in messages[5]
    assert "another rep" in messages[6] and "rep-b" not in messages[6] and "别人的" not in messages[6]
    assert "yesterday" in messages[7] and "stage" in messages[8]
    for number in (short, bad_bytes, bad_date, bad_phone):
        assert customer_db.customer_keys.find_one({"_id": f"phone:{number}"}) is None
        assert customer_db.customers.count_documents({"phones": number}) == 0
    assert customer_db.customers.find_one({"_id": theirs.id})["display_name"] == "别人的"
    created = customer_db.customers.find_one({"phones": good})
    assert (created["display_name"], created["owner_id"], created["stage"]) == ("Good One", owner, "won")


def test_unknown_header_stops_the_import_before_anything_is_sent(services, phone, tmp_path, customer_db, capsys):
    number = phone()
    source = tmp_path / "unknown.csv"
    source.write_text(f"姓名,手机,微信号\n张三,{number},zhangsan\n", encoding="utf-8")
    code = run_crm("import", str(source), "--target", services.targets["customer"], "--token", ADMIN, "--quiet")
    assert code == 2
    assert "'微信号'" in capsys.readouterr().err
    assert customer_db.customer_keys.find_one({"_id": f"phone:{number}"}) is None


def test_dry_run_and_upsert_by_email(services, stub, phone, owner, tmp_path, customer_db):
    existing = create(stub, phone(), as_(owner), emails=[f"{owner}@example.com"], stage="new")
    fresh = phone()
    source = tmp_path / "by-email.csv"
    source.write_text(f"email,stage,name,phone\n{owner}@example.com,target,,\n"
                      f"new.{owner}@example.com,new,New Person,{fresh}\n", encoding="utf-8")
    target = services.targets["customer"]
    dry = import_csv(target, ADMIN, source, match_on="email", dry_run=True, default_owner=owner, progress=False)
    assert (dry.counts["updated"], dry.counts["created"], dry.failed) == (1, 1, 0)
    assert customer_db.customers.find_one({"_id": existing.id})["stage"] == "new"
    assert customer_db.customer_keys.find_one({"_id": f"phone:{fresh}"}) is None

    real = import_csv(target, ADMIN, source, match_on="email", default_owner=owner, progress=False, chunk_rows=1)
    assert (real.counts["updated"], real.counts["created"], real.failed) == (1, 1, 0)
    assert customer_db.customers.find_one({"_id": existing.id})["stage"] == "target"
    assert customer_db.customers.find_one({"phones": fresh})["owner_id"] == owner


def test_a_rep_token_imports_as_that_rep(services, stub, phone, tmp_path):
    rep = token("rep-csv-self", "rep", team="team-1")
    theirs = create(stub, phone(), as_("rep-b"))
    mine = phone()
    source = tmp_path / "rep.csv"
    source.write_text(f"name,phone\nMine,{mine}\nTheirs,{theirs.phones[0]}\n", encoding="utf-8")
    summary = import_csv(services.targets["customer"], rep, source, progress=False)
    assert (summary.counts["created"], summary.failed) == (1, 1)
    assert summary.report[0].row == 3 and "another rep" in summary.report[0].message
    found = stub.LookupCustomer(pb.LookupCustomerRequest(phone=mine), metadata=as_("rep-csv-self"))
    assert found.owner_id == "rep-csv-self"


def test_an_agent_token_cannot_import(services, phone, tmp_path, capsys):
    source = tmp_path / "agent.csv"
    source.write_text(f"name,phone\nX,{phone()}\n", encoding="utf-8")
    code = run_crm("import", str(source), "--target", services.targets["customer"],
                   "--token", token("agent-1", "agent"), "--quiet")
    assert code == 1
    assert "PERMISSION_DENIED" in capsys.readouterr().err


def test_export_to_a_stream_pages_through_everything(services, stub, phone, owner):
    ids = {create(stub, phone(), as_(owner), display_name=f"客户{i}").id for i in range(5)}
    out = io.StringIO(newline="")
    count = export_csv(services.targets["customer"], ADMIN, out, filters={"owner_id": owner}, page_size=2,
                       progress=False)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"), newline="")))
    assert count == 5 and {r["id"] for r in rows} == ids
    assert list(rows[0]) == list(csv_io.EXPORT_COLUMNS)


def test_export_writes_to_standard_output_by_default(services, stub, phone, owner, capsysbinary):
    made = create(stub, phone(), as_(owner), display_name="标准输出")
    assert run_crm("export", "--owner", owner, "--target", services.targets["customer"], "--token", ADMIN,
                   "--quiet") == 0
    captured = capsysbinary.readouterr()
    assert captured.out.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(captured.out.decode("utf-8-sig"), newline="")))
    assert [(r["id"], r["display_name"]) for r in rows] == [(made.id, "标准输出")]
    assert b"exported 1 customers" in captured.err

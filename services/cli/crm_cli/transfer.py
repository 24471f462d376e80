"""`crm import` and `crm export`: CSV files in and out through the customer
service (ImportCustomers, ListCustomers), so an import obeys the same rules
as every other write (roles, duplicates, another rep's customers).

The file is read as a stream and sent in chunks (1,000 rows by default, the
most one request takes), two requests in flight so reading the next chunk
overlaps the service writing the last one. Each row succeeds or fails on its
own; rows the CSV reader cannot read are reported with their line number and
never sent.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import grpc
from google.protobuf import field_mask_pb2
from tqdm import tqdm

from crm.customer.v1 import customer_service_pb2 as pb
from crm.customer.v1 import customer_service_pb2_grpc
from crm_kit.grpc_client import open_channel

from crm_cli import csv_io
from crm_cli.csv_io import CsvRow, RowProblem

CHUNK_ROWS = 1000  # ImportCustomers takes at most 1,000 rows
IN_FLIGHT = 2
OUTCOMES = ("created", "updated", "unchanged", "error")
_OUTCOME_NAME = {pb.IMPORT_OUTCOME_CREATED: "created", pb.IMPORT_OUTCOME_UPDATED: "updated",
                 pb.IMPORT_OUTCOME_UNCHANGED: "unchanged", pb.IMPORT_OUTCOME_ERROR: "error"}
_KINDS = {"person": pb.CUSTOMER_KIND_PERSON, "company": pb.CUSTOMER_KIND_COMPANY}
_KIND_NAMES = {v: k for k, v in _KINDS.items()}
_SCALARS = ("display_name", "type", "level", "source", "stage", "intent_notes", "external_id")


class TransferFailed(Exception):
    """An import or export stopped as a whole (the service refused it, or is unreachable)."""


@dataclass(frozen=True)
class ReportLine:
    row: int
    outcome: str
    message: str
    customer_id: str = ""


@dataclass
class ImportSummary:
    counts: Counter = field(default_factory=Counter)
    report: list[ReportLine] = field(default_factory=list)  # the rows that failed, in file order
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts["error"]

    def totals(self) -> str:
        text = ", ".join(f"{name}: {self.counts[name]:,}" for name in OUTCOMES)
        rate = f" in {self.seconds:.1f} s ({self.rows / self.seconds:,.0f} rows/s)" if self.seconds else ""
        return f"{self.rows:,} rows{rate}: {text}" + (" (dry run: nothing written)" if self.dry_run else "")


def row_message(row: CsvRow, default_owner: str = "") -> pb.ImportRow:
    """A read CSV row as an ImportRow: the cells it fills, named in its update mask."""
    f = row.fields
    customer = pb.Customer()
    paths: list[str] = []
    for name in _SCALARS:
        if name in f:
            setattr(customer, name, f[name])
            paths.append(name)
    for name in csv_io.LIST_FIELDS:
        if f.get(name):
            getattr(customer, name).extend(f[name])
            paths.append(name)
    if "kind" in f:
        customer.kind = _KINDS[f["kind"]]
        paths.append("kind")
    for part in ("province", "city"):
        if part in f:
            setattr(customer.region, part, f[part])
            paths.append(f"region.{part}")
    if "birthday" in f:
        b = f["birthday"]
        customer.birthday.CopyFrom(pb.Anniversary(label="birthday", calendar=b["calendar"], year=b["year"],
                                                  month=b["month"], day=b["day"], leap_month=b["leap_month"]))
        paths.append("birthday")
    return pb.ImportRow(row_number=row.line, customer=customer, update_mask=field_mask_pb2.FieldMask(paths=paths),
                        owner_id=f.get("owner_id", default_owner))


def _result_message(r: pb.ImportCustomersResult) -> str:
    if r.field_violations:
        return "; ".join(f"{v.field}: {v.description}" for v in r.field_violations)
    return r.error_message


def _chunks(rows: Iterable[CsvRow | RowProblem], size: int, summary: ImportSummary, default_owner: str,
            bar) -> Iterator[list[pb.ImportRow]]:
    chunk: list[pb.ImportRow] = []
    for item in rows:
        if isinstance(item, RowProblem):
            summary.counts["error"] += 1
            summary.report.append(ReportLine(item.line, "error", item.message))
            bar.update(1)
            continue
        chunk.append(row_message(item, default_owner))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_csv(target: str, token: str, path: str | Path, *, match_on: str = "phone", dry_run: bool = False,
               mapping: dict | None = None, default_owner: str = "", chunk_rows: int = CHUNK_ROWS,
               progress: bool = True, timeout: float = 300.0) -> ImportSummary:
    """Import a CSV file; returns the counts and the failed rows.

    Raises csv_io.HeaderError before sending anything when a column maps to
    no field, TransferFailed when the service refuses the import as a whole."""
    if not 1 <= chunk_rows <= CHUNK_ROWS:
        raise ValueError(f"chunk_rows must be 1..{CHUNK_ROWS}")
    summary = ImportSummary(dry_run=dry_run)
    started = time.perf_counter()
    channel = open_channel(target, "crm.customer.v1.CustomerService", default_timeout=timeout)
    stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
    metadata = [("authorization", f"Bearer {token}")]
    total = csv_io.count_lines(path)
    try:
        with csv_io.open_import(path) as stream:
            _headers, rows = csv_io.read_rows(stream, mapping)  # HeaderError here: nothing sent
            with tqdm(total=total, unit="rows", disable=not progress, desc="dry run" if dry_run else "importing",
                      file=sys.stderr) as bar:
                pending: list[tuple[grpc.Future, int]] = []
                for chunk in _chunks(rows, chunk_rows, summary, default_owner, bar):
                    request = pb.ImportCustomersRequest(rows=chunk, match_on=match_on, dry_run=dry_run)
                    pending.append((stub.ImportCustomers.future(request, metadata=metadata), len(chunk)))
                    if len(pending) >= IN_FLIGHT:
                        _collect(pending.pop(0), summary, bar)
                while pending:
                    _collect(pending.pop(0), summary, bar)
    finally:
        channel.close()
    summary.report.sort(key=lambda line: line.row)
    summary.seconds = time.perf_counter() - started
    return summary


def _collect(sent: tuple[grpc.Future, int], summary: ImportSummary, bar) -> None:
    future, size = sent
    try:
        response = future.result()
    except grpc.RpcError as err:
        raise TransferFailed(f"the customer service refused the import: {err.code().name}: {err.details()}") from None
    for r in response.results:
        outcome = _OUTCOME_NAME.get(r.outcome, "error")
        summary.counts[outcome] += 1
        if outcome == "error":
            summary.report.append(ReportLine(r.row_number, outcome, _result_message(r)))
    bar.update(size)


def write_report(path: str | Path, summary: ImportSummary) -> None:
    """The failed rows as CSV (row, outcome, message), UTF-8 with BOM for Excel.
    Messages quote the rejected values, so a cell Excel would run as a formula
    is neutralized as in the export."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(["row", "outcome", "message"])
        for line in summary.report:
            writer.writerow([line.row, line.outcome, csv_io.neutralize_formula(line.message)])


# --- export ---------------------------------------------------------------------------

EXPORT_FILTERS = ("owner_id", "pool", "province", "city", "level", "stage", "tag", "name_prefix")


def customer_row(c: pb.Customer) -> dict:
    """A customer message as the dict csv_io.export_row writes."""
    b = c.birthday
    return {
        "id": c.id, "display_name": c.display_name, "kind": _KIND_NAMES.get(c.kind, "person"),
        "phones": list(c.phones), "emails": list(c.emails), "province": c.region.province, "city": c.region.city,
        "type": c.type, "level": c.level, "tags": list(c.tags), "source": c.source, "stage": c.stage,
        "intent_notes": c.intent_notes, "external_id": c.external_id, "owner_id": c.owner_id,
        "birthday": {"calendar": b.calendar, "year": b.year, "month": b.month, "day": b.day,
                     "leap_month": b.leap_month} if c.HasField("birthday") else None,
        "created_at": c.create_time.ToJsonString() if c.HasField("create_time") else "",
        "last_contact_at": c.last_contact_time.ToJsonString() if c.HasField("last_contact_time") else "",
    }


def export_csv(target: str, token: str, out: TextIO, *, filters: dict | None = None, page_size: int = 200,
               progress: bool = True, timeout: float = 120.0) -> int:
    """Write every customer the caller may see that matches `filters`
    (ListCustomers' filters) to `out` as CSV; returns how many."""
    unknown = set(filters or {}) - set(EXPORT_FILTERS)
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    channel = open_channel(target, "crm.customer.v1.CustomerService", default_timeout=timeout)
    stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
    metadata = [("authorization", f"Bearer {token}")]

    def customers() -> Iterator[dict]:
        page_token = ""
        with tqdm(unit="customers", disable=not progress, desc="exporting", file=sys.stderr) as bar:
            while True:
                try:
                    page = stub.ListCustomers(pb.ListCustomersRequest(
                        page_size=page_size, page_token=page_token, **(filters or {})), metadata=metadata)
                except grpc.RpcError as err:
                    raise TransferFailed(f"the customer service refused the export: {err.code().name}: "
                                       f"{err.details()}") from None
                for c in page.customers:
                    yield customer_row(c)
                bar.update(len(page.customers))
                page_token = page.next_page_token
                if not page_token:
                    return

    try:
        return csv_io.write_export(out, customers())
    finally:
        channel.close()

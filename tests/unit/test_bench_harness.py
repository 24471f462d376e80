"""Pure helpers of the benchmark (bench/harness.py, bench/suites): wrk output,
checks beside their rows, the report, the suite registry."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import harness
from harness import Check, Report, Result

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.00ms    3.00ms  80.00ms   90.00%
  Latency Distribution
     50%   11.50ms
     75%   13.00ms
     90%   15.00ms
     99%    1.20s
  3000 requests in 3.00s, 1.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:   1000.00
"""


def result(key: str, rps: float, p99: float = 10.0, floor: str | None = None, **kw) -> Result:
    return Result(key=key, label=f"scenario {key}", tool="wrk", requests=int(rps * 10), errors=0, rps=rps,
                  p50_ms=p99 / 2, p99_ms=p99, cpu_cores={"gateway": 0.5}, floor=floor, **kw)


def test_parse_wrk_reads_counts_errors_and_percentiles():
    stats = harness.parse_wrk(WRK_OUTPUT, 3)
    assert (stats.requests, stats.errors) == (3000, 7)
    assert stats.p50_ms == 11.5 and stats.p99_ms == 1200.0
    assert stats.rps == pytest.approx(1000.0)


def test_floor_checks_only_for_results_with_a_measured_floor():
    results = {"d1": result("d1", 1000), "a": result("a", 600, floor="d1"), "x": result("x", 5, floor="zz")}
    checks = harness.floor_checks(results)
    assert [(c.name, c.row, c.against) for c in checks] == [("(a) / (d1) throughput", "a", "(d1)")]
    assert checks[0].value == pytest.approx(0.6) and checks[0].met


@pytest.mark.parametrize(("op", "value", "limit", "met"), [
    (">=", 0.8, 0.8, True), (">=", 0.79, 0.8, False), ("<", 999.0, 1000.0, True), ("<", 1000.0, 1000.0, False),
    ("<=", 2.0, 2.0, True)])
def test_check_compares(op, value, limit, met):
    assert Check("c", value, op, limit).met is met


def test_markdown_puts_checks_beside_their_rows_and_extra_checks_below():
    report = Report(config={"date": "today", "cpus": 2, "duration_s": 3, "warmup_s": 1, "tools": {"wrk": "4"},
                            "suites": ["customer"]},
                    seeding={"customers": 10, "seconds": 1.0, "rows_per_s": 10.0})
    report.add(result("d1", 1000))
    report.add(result("h", 400))
    report.add(Result(key="j", label="CSV import", tool="t", requests=100, errors=0, rps=2500.0,
                      p50_ms=float("nan"), p99_ms=float("nan"), unit="rows/s"))
    report.check("(h) events on / (h0) off", 0.9, ">=", 0.8, row="h", against="(h0)")
    report.check("(h) second", 0.5, ">=", 0.8, row="h", against="(x)")
    report.check("(j) rows/s", 2500.0, ">=", 2000, row="j", against="seeding")
    report.rss = [{"process": "customer", "pid": 1, "rss_mb": 90.0}]
    report.checks.append(harness.rss_check(report.rss))
    md = harness.render_markdown(report)
    lines = md.splitlines()
    h_row = next(i for i, line in enumerate(lines) if line.startswith("| (h) scenario h"))
    assert "(h0) | 0.90 | ≥ 0.8 | yes" in lines[h_row]
    assert lines[h_row + 1].startswith("| (″) (h) second") and "**NO**" in lines[h_row + 1]
    assert "| (j) CSV import | 2,500 rows/s | — | — | seeding |" in md
    assert "All targets met: **NO**" in md


def test_json_has_no_nan():
    assert harness._json_safe({"a": [float("nan"), 1.0], "b": math.inf}) == {"a": [None, 1.0], "b": math.inf}


def test_suite_registry():
    from suites import SUITES, chosen

    assert "customer" in SUITES
    assert chosen("all") == list(SUITES.values())
    assert [s.NAME for s in chosen("customer")] == ["customer"]
    for suite in SUITES.values():
        assert callable(suite.run)


def test_create_prefixes_are_unused_by_demo_phones():
    from crm_cli.demo import MOBILE_PREFIXES, demo_phone
    from suites.customer import CREATE_PREFIXES

    assert not set(CREATE_PREFIXES) & set(MOBILE_PREFIXES)
    assert all(demo_phone(n)[3:6] in MOBILE_PREFIXES for n in range(100))

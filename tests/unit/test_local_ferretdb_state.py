"""FerretDB started by crm_kit.localstores keeps its state file in its data
folder, never in the current directory (state.json was once committed at
the repository root by accident)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pymongo
import pytest

from crm_kit.localstores import (DEFAULT_FERRETDB_GOGC, DEFAULT_FERRETDB_GOMEMLIMIT, DEFAULT_FERRETDB_SQLITE_CACHE_KIB,
                                 MAX_FERRETDB_SQLITE_CACHE_KIB, REPO_ROOT, StoreStartError, ensure_ferretdb,
                                 start_local_stores)


def test_ferretdb_keeps_its_state_in_its_data_folder_even_for_a_relative_one(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    stores = start_local_stores(Path("stores"))  # relative, as `make run` may pass var/
    try:
        assert (cwd / "stores" / "ferretdb" / "state.json").is_file()
    finally:
        stores.stop()
    assert sorted(p.name for p in cwd.iterdir()) == ["stores"]


def test_no_state_file_is_tracked_at_the_repository_root():
    listed = subprocess.run(["git", "ls-files", "--", "state.json"], cwd=REPO_ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    assert listed.stdout == ""


def _environ_of(proc: subprocess.Popen) -> dict[str, str]:
    raw = Path(f"/proc/{proc.pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="surrogateescape").split("\0") if "=" in item)


_DEFAULTS = {"GOGC": DEFAULT_FERRETDB_GOGC, "GOMEMLIMIT": DEFAULT_FERRETDB_GOMEMLIMIT}


@pytest.mark.parametrize("environment, expected", [
    ({}, _DEFAULTS),
    ({"GOGC": "50", "GOMEMLIMIT": "4GiB"}, _DEFAULTS),
    ({"FERRETDB_GOGC": "250", "FERRETDB_GOMEMLIMIT": "1GiB"}, {"GOGC": "250", "GOMEMLIMIT": "1GiB"}),
], ids=["defaults", "the-environment-s-own-gogc-does-not-reach-it", "operator-overrides"])
def test_ferretdb_runs_with_the_gc_settings_chosen_for_it(tmp_path, monkeypatch, environment, expected):
    """FerretDB's Go collector runs at GOGC 400 (not Go's 100) under a soft limit of 150MiB,
    unless FERRETDB_GOGC / FERRETDB_GOMEMLIMIT say otherwise."""
    for name in ("GOGC", "GOMEMLIMIT", "FERRETDB_GOGC", "FERRETDB_GOMEMLIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    stores = start_local_stores(tmp_path)
    try:
        ferretdb = stores.processes[0]
        assert ferretdb.args[0] == str(ensure_ferretdb())
        environ = _environ_of(ferretdb)
        assert {name: environ.get(name) for name in expected} == expected
    finally:
        stores.stop()


@pytest.mark.parametrize("environment, expected_kib", [({}, DEFAULT_FERRETDB_SQLITE_CACHE_KIB),
                                                      ({"FERRETDB_SQLITE_CACHE_KIB": "2000"}, 2000)],
                         ids=["default", "operator-override"])
def test_ferretdb_opens_sqlite_with_the_page_cache_chosen_for_it(tmp_path, monkeypatch, environment, expected_kib):
    """FerretDB is started with a SQLite page cache of 512 KiB a connection in its URL (SQLite's own
    default is 2,000 KiB, and FerretDB opens up to 100 connections a database), or the operator's
    size, and the store still answers."""
    monkeypatch.delenv("FERRETDB_SQLITE_CACHE_KIB", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    stores = start_local_stores(tmp_path)
    try:
        url = next(a for a in stores.processes[0].args if a.startswith("--sqlite-url="))
        assert url == f"--sqlite-url=file:{(tmp_path / 'ferretdb').resolve()}/?_pragma=cache_size(-{expected_kib})"
        with pymongo.MongoClient(stores.mongodb_uri, serverSelectionTimeoutMS=5000) as client:
            client.check.things.insert_one({"_id": 1})
            assert client.check.things.find_one({"_id": 1}) == {"_id": 1}
    finally:
        stores.stop()


@pytest.mark.parametrize("value", ["0", "-5", "lots", "²", " 512", "512&_pragma=journal_mode(off)",
                                   str(MAX_FERRETDB_SQLITE_CACHE_KIB + 1), "2147483649", "9" * 5000])
def test_a_bad_sqlite_cache_setting_stops_the_start_with_its_name(tmp_path, monkeypatch, value):
    """Refused before anything starts or is created: values SQLite would misread too (past 32 bits it
    reads no cache at all), and anything that is not plain digits, so nothing reaches the URL."""
    monkeypatch.setenv("FERRETDB_SQLITE_CACHE_KIB", value)
    with pytest.raises(StoreStartError, match="FERRETDB_SQLITE_CACHE_KIB"):
        started = start_local_stores(tmp_path / "stores")
        started.stop()  # reached only when the check is broken: leave nothing running
    assert not (tmp_path / "stores").exists()

"""FerretDB started by crm_kit.localstores keeps its state file in its data
folder, never in the current directory (state.json was once committed at
the repository root by accident)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crm_kit.localstores import FERRETDB_GOGC, FERRETDB_GOMEMLIMIT, REPO_ROOT, start_local_stores


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
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


@pytest.mark.parametrize("override", [None, {"FERRETDB_GOGC": "250", "FERRETDB_GOMEMLIMIT": "1GiB"}])
def test_ferretdb_runs_with_the_gc_settings_chosen_for_it(tmp_path, monkeypatch, override):
    """FerretDB's Go collector runs at FERRETDB_GOGC (400 unless set, not Go's 100) under the soft
    memory limit FERRETDB_GOMEMLIMIT (150MiB unless set); an operator's values win."""
    for name in ("GOGC", "GOMEMLIMIT", "FERRETDB_GOGC", "FERRETDB_GOMEMLIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (override or {}).items():
        monkeypatch.setenv(name, value)
    expected = {"GOGC": "250", "GOMEMLIMIT": "1GiB"} if override else {"GOGC": FERRETDB_GOGC,
                                                                        "GOMEMLIMIT": FERRETDB_GOMEMLIMIT}
    stores = start_local_stores(tmp_path)
    try:
        ferretdb = stores.processes[0]
        assert Path(f"/proc/{ferretdb.pid}/exe").resolve().name == "ferretdb"
        environ = _environ_of(ferretdb)
        assert {name: environ[name] for name in expected} == expected
    finally:
        stores.stop()

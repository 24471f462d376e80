"""FerretDB started by crm_kit.localstores keeps its state file in its data
folder, never in the current directory (state.json was once committed at
the repository root by accident)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crm_kit.localstores import REPO_ROOT, start_local_stores


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

"""Regenerate the Python code in services/contracts from proto/.

`python tools/protogen.py` rewrites services/contracts/crm; with `--check` it
generates into a temporary folder and fails when the committed code differs
(stale generated code fails CI).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "services" / "contracts"


def generate(out_dir: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    # Regular packages (not namespace ones), so the wheel and pytest agree.
    for folder in [out_dir / "crm", *(p for p in (out_dir / "crm").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"only in {'committed' if side == 0 else 'generated'}: {name}"
           for side, names in enumerate((cmp.left_only, cmp.right_only)) for name in names]
    out += [f"differs: {name}" for name in cmp.diff_files]
    for sub in cmp.common_dirs:
        out += differences(a / sub, b / sub)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when generated code is stale")
    opts = parser.parse_args()
    if not opts.check:
        shutil.rmtree(OUT_DIR / "crm", ignore_errors=True)
        generate(OUT_DIR)
        return
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        diff = differences(OUT_DIR / "crm", Path(tmp) / "crm")
    if diff:
        print("generated code is stale; run `make proto`:", *diff, sep="\n  ")
        sys.exit(1)
    print("generated code is up to date")


if __name__ == "__main__":
    main()

"""The shape of the package: one-way layers (import-linter's contract in pyproject.toml), no
import cycles between modules, and modules of a readable size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400


def test_the_layers_contract_is_kept() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 kept, 0 broken" in run.stdout


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("babelrec")
    cycles = sorted(
        {
            tuple(sorted((module, imported)))
            for module in graph.modules
            for imported in graph.find_modules_directly_imported_by(module)
            if graph.chain_exists(importer=imported, imported=module)
        }
    )
    assert cycles == []


def test_the_facade_does_not_import_the_faces() -> None:
    graph = grimp.build_graph("babelrec")
    for face in ("babelrec.agent", "babelrec.cli", "babelrec.eval"):
        assert not graph.chain_exists(
            importer="babelrec.pipeline", imported=face, as_packages=True
        ), face


def test_modules_stay_readable() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "babelrec").rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}

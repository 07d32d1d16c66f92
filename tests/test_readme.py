"""The README's Python examples run, as written, against a fresh store holding the demo catalog."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from babelrec.io.catalog import demo_catalog_path

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_python_examples() -> None:
    blocks = python_blocks()
    assert blocks
    assert any("rec.recommend(" in b and "explanation" in b for b in blocks)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs(index: int, tmp_path: Path) -> None:
    # The examples name "catalog.jsonl" and relative stores: run them in a directory that has one.
    shutil.copy(demo_catalog_path(), tmp_path / "catalog.jsonl")
    script = tmp_path / f"example_{index}.py"
    script.write_text(python_blocks()[index], encoding="utf-8")
    env = {
        **os.environ,
        "BABELREC_LLM__BACKEND": os.environ.get("BABELREC_README_LLM", "none"),
        # the checkout, not whatever an editable install resolves from another directory
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)  # the explanations, for whoever reads the test log
    assert done.stdout.strip()

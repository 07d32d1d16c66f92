"""The licensed evaluation data is optional on a fresh clone (its tests skip, naming the path)
and required in CI (eval.require_data turns its absence into a failure)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import eval_data_dir

ROOT = Path(__file__).resolve().parents[2]
A_DATA_TEST = "tests/eval/test_converters.py::test_kmrd"


def run_pytest(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BABELREC_EVAL")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", A_DATA_TEST],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_fixture_skips_or_fails_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    find = eval_data_dir.__wrapped__  # the fixture's own function, called outside a session
    monkeypatch.delenv("BABELREC_EVAL_DATA", raising=False)
    monkeypatch.delenv("BABELREC_EVAL__REQUIRE_DATA", raising=False)  # CI sets it
    monkeypatch.setenv("BABELREC_EVAL__DATA_DIR", str(tmp_path))
    with pytest.raises(
        pytest.skip.Exception, match=re.escape(f"evaluation data not found at {tmp_path} ")
    ):
        find()
    monkeypatch.setenv("BABELREC_EVAL__REQUIRE_DATA", "1")
    with pytest.raises(pytest.fail.Exception, match="eval.require_data is set"):
        find()
    for name in ("mind/behaviors.tsv", "xmind_zh/xMINDsmall_dev.zip", "kmrd/rates.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    with pytest.raises(pytest.fail.Exception, match=r"\(missing ml100k\)"):
        find()
    (tmp_path / "ml100k").mkdir()
    assert find() == tmp_path.resolve()


@pytest.mark.slow
def test_missing_data_skips_naming_the_path_unless_required(tmp_path: Path) -> None:
    """The same through a real pytest run: a skip counted as such, or an error in CI."""
    nowhere = tmp_path / "nowhere"
    skipped = run_pytest({"BABELREC_EVAL__DATA_DIR": str(nowhere)})
    out = " ".join(skipped.stdout.split())
    assert skipped.returncode == 0, out[-2000:]
    assert "1 skipped" in out and f"evaluation data not found at {nowhere}" in out

    required = run_pytest(
        {"BABELREC_EVAL__DATA_DIR": str(nowhere), "BABELREC_EVAL__REQUIRE_DATA": "1"}
    )
    out = " ".join(required.stdout.split())
    assert required.returncode == 1, out[-2000:]
    assert "1 error" in out and "skipped" not in out
    assert f"evaluation data not found at {nowhere}" in out and "eval.require_data is set" in out

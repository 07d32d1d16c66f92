"""`write_atomic`: a file is the old one or the new one, never part of one, even after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]


@settings(max_examples=50, deadline=None)
@given(data=st.one_of(st.binary(max_size=2000), st.text(max_size=500)))
def test_any_text_or_bytes_read_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, data: str | bytes
) -> None:
    path = tmp_path_factory.mktemp("w") / "new" / "folder" / "file.json"
    write_atomic(path, "old")
    write_atomic(path, data)
    expected = data.encode("utf-8") if isinstance(data, str) else data
    assert path.read_bytes() == expected
    assert [p.name for p in path.parent.iterdir()] == ["file.json"]  # no temporary left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "scores.json"
    write_atomic(path, '{"old": true}')

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, '{"new": true}')
    assert path.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["scores.json"]
    with pytest.raises(UnicodeEncodeError):  # text UTF-8 cannot hold fails before any write
        write_atomic(path, "a\ud800")
    assert path.read_text() == '{"old": true}'


def test_a_writer_killed_at_any_moment_leaves_a_whole_file(tmp_path: Path) -> None:
    """A real process rewrites a 4 MB file over and over, alternating two contents; SIGKILL it at
    20 moments: the file is always all of one content or the other."""
    path = tmp_path / "model.json"
    size = 4 << 20
    write_atomic(path, b"a" * size)
    code = (
        "import sys; from pathlib import Path; from babelrec.files import write_atomic\n"
        f"path = Path({str(path)!r}); n = 0\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        f"    write_atomic(path, (b'a' if n % 2 else b'b') * {size}); n += 1\n"
    )
    for moment in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.01 + 0.007 * moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        data = path.read_bytes()
        assert data in (b"a" * size, b"b" * size), (moment, len(data))


def test_the_next_write_removes_what_killed_writers_left_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "scores.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(30)
    two_hours_ago = time.time() - 7200

    def temporary(name: str, *, old: bool) -> Path:
        tmp = tmp_path / name
        tmp.write_bytes(b"half a file")
        if old:
            os.utime(tmp, (two_hours_ago, two_hours_ago))
        return tmp

    left_by_the_dead = temporary(f".scores.json.{dead.pid}.0a1b2c3d.tmp", old=True)
    keep = [
        temporary(f".scores.json.{os.getpid()}.0a1b2c3e.tmp", old=True),  # its writer lives
        temporary(f".scores.json.{dead.pid}.0a1b2c3f.tmp", old=False),  # too new to judge
        temporary(f".other.json.{dead.pid}.0a1b2c40.tmp", old=True),  # another file's
        temporary(".scores.json.notapid.0a1b2c41.tmp", old=True),  # not one of ours
    ]
    write_atomic(path, "new")
    assert not left_by_the_dead.exists()
    assert all(tmp.exists() for tmp in keep)
    assert path.read_text() == "new"
    # a name glob would read as a pattern is matched as itself
    odd = tmp_path / "report[1].json"
    left = temporary(f".report[1].json.{dead.pid}.0a1b2c42.tmp", old=True)
    write_atomic(odd, "new")
    assert not left.exists()

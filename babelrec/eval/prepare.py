"""Preparing an experiment's dataset: find the shared data, key each conversion by a hash of
what it was made from (source files, converter, seed), and convert once into the cache."""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
from pathlib import Path

from babelrec.digest import cached_file_sha256
from babelrec.errors import DatasetError
from babelrec.eval.converters import convert
from babelrec.eval.dataset import Dataset, load_dataset
from babelrec.eval.experiment import Experiment
from babelrec.settings import Settings


def resolve_data_dir(experiment: Experiment, data_dir: Path | None) -> Path:
    path = data_dir or experiment.data_dir or Settings().eval.resolved_data_dir
    if not path.is_dir():
        raise DatasetError(
            f"evaluation data not found at {path.resolve()}: pass --data DIR or set "
            "BABELREC_EVAL__DATA_DIR to the folder holding mind/, xmind_zh/, kmrd/ and ml100k/"
        )
    return path


def source_fingerprint(data_dir: Path) -> str:
    """A digest of every file under `data_dir`: relative path, size and content (hidden files
    and folders are skipped). Another dump, other users or an edited file give another one."""
    digest = hashlib.sha256()
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(data_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        stat = path.stat()
        content = cached_file_sha256(path.resolve(), stat.st_size, stat.st_mtime_ns)
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{content}\n".encode())
    return digest.hexdigest()


def conversion_key(experiment: Experiment, data_dir: Path) -> str:
    """What a converted dataset is made from: the converter's code, the seed and the sources."""
    from babelrec.registry import CONVERTERS

    converter = CONVERTERS.get(experiment.dataset)
    code = Path(inspect.getsourcefile(converter) or "").read_bytes()
    payload = json.dumps(
        {
            "dataset": experiment.dataset,
            "seed": experiment.seed,
            "converter": hashlib.sha256(code).hexdigest(),
            "sources": source_fingerprint(data_dir),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def dataset_dir(experiment: Experiment, data_dir: Path, cache_dir: Path) -> Path:
    """The cache folder of this experiment's converted dataset, named by its inputs' digest."""
    key = conversion_key(experiment, data_dir)
    return cache_dir / "datasets" / f"{experiment.dataset}-seed{experiment.seed}-{key}"


def prepared_dataset(experiment: Experiment, data_dir: Path, cache_dir: Path) -> Dataset:
    """Convert the experiment's dataset once into the cache, then load it. The cache folder is
    keyed by a digest of the source files, the converter and the seed, so other data (a newer
    dump, another folder) is converted afresh instead of reusing an older conversion."""
    target = dataset_dir(experiment, data_dir, cache_dir)
    marker = target / "items.jsonl"
    if not marker.exists():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        convert(experiment.dataset, data_dir, partial, seed=experiment.seed)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)  # a conversion cut short is never taken for a finished one
    return load_dataset(target)

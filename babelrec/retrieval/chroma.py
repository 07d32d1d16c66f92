"""Chroma specifics: connecting (a server over HTTP when a URL is given, else an embedded store)
and `Filters` as a `where` document."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from babelrec.errors import StoreError
from babelrec.models import Filters


def connect(
    *,
    store_path: Path | None = None,
    chroma_url: str | None = None,
    collection: str = "babelrec-items",
    data_dir: Path = Path(".babelrec"),
) -> tuple[Any, Path, str]:
    """A Chroma client (server when `chroma_url` is set, else embedded at `store_path`), the
    folder for the collection's artefacts, and the location to name in messages."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if not parsed.hostname:
            raise StoreError(f"cannot parse Chroma URL {chroma_url!r}; expected http://HOST:PORT")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname,
                port=port,
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {chroma_url}: {exc}. Is `chroma run` up?"
            ) from exc
        safe = f"{parsed.hostname}_{port}_{collection}".replace(":", "_")
        artifact_dir = data_dir / "artifacts" / safe
        location = chroma_url
    else:
        path = store_path or data_dir / "chroma"
        try:
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {path}: {exc}") from exc
        artifact_dir = path / "babelrec-artifacts" / collection
        location = str(path)
    return client, artifact_dir, location


def where_clause(filters: Filters | None, language: str | None = None) -> dict[str, Any] | None:
    """`Filters` (and one `language`, "" = unknown) as a Chroma `where` document, or None."""
    conditions: list[dict[str, Any]] = []
    if language is not None:
        conditions.append({"language": {"$eq": language}})
    if filters is None:
        return conditions[0] if conditions else None
    for field, values, op in (
        ("language", filters.languages, "$in"),
        ("region", filters.regions, "$in"),
        ("category", filters.categories, "$in"),
        ("category", filters.exclude_categories, "$nin"),
        ("language", filters.exclude_languages, "$nin"),
    ):
        if values:
            conditions.append({field: {op: list(values)}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}

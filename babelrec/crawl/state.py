"""The crawl's memory between runs: validators (ETag / Last-Modified) per URL and which
articles are already in the store, in one small JSON file beside the store."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationError

from babelrec.crawl.fetch import Validators
from babelrec.files import write_atomic
from babelrec.models import Strict

logger = logging.getLogger(__name__)

STATE_FILE = "crawl_state.json"


class UrlState(Strict):
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    item_id: str | None = Field(default=None, description="Set for articles in the store.")

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


class CrawlState(Strict):
    """URL -> what was last seen of it. Unknown or unreadable files start afresh."""

    version: int = 1
    urls: dict[str, UrlState] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> CrawlState:
        if not path.exists():
            return cls()
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError, UnicodeDecodeError) as exc:
            logger.warning("ignoring unreadable crawl state %s: %s", path, exc)
            return cls()

    def save(self, path: Path) -> None:
        """Write atomically, so an interrupted run never leaves half a file."""
        write_atomic(path, self.model_dump_json(indent=1))

    def validators(self, url: str) -> Validators | None:
        known = self.urls.get(url)
        return known.validators if known else None

    def remember(self, url: str, validators: Validators, item_id: str | None = None) -> None:
        previous = self.urls.get(url)
        self.urls[url] = UrlState(
            etag=validators.etag,
            last_modified=validators.last_modified,
            item_id=item_id or (previous.item_id if previous else None),
        )

    def touch(self, url: str) -> None:
        """A 304: the validators still hold; note when that was checked."""
        if url in self.urls:
            self.urls[url].fetched_at = datetime.now(UTC)

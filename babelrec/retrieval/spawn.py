"""A worker in a fresh Python interpreter, for work that must not share this process's GIL.

It is a subprocess running `python -c` that imports a module and calls its `serve()`, never a
`fork`: the parent may hold other threads (the HTTP service's, llama.cpp's), and a forked copy
of a lock one of them held deadlocks. Nor `multiprocessing`'s spawn, which re-imports the
parent's main module in the child: a script without an `if __name__ == "__main__":` guard would
run again there. The child takes the parent's import path first, from its stdin; its stderr
goes to a temporary file whose last line says what went wrong when it dies.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
from typing import IO

PROTOCOL = pickle.HIGHEST_PROTOCOL


class SpawnedProcess:
    """A fresh interpreter running `module.serve()`, its stdin and stdout pipes to this one.
    Raises `OSError` when it cannot be started."""

    def __init__(self, module: str) -> None:
        bootstrap = (
            "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
            f"from {module} import serve; serve()"
        )
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by `close_stderr`)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", bootstrap],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
            )
        except OSError:
            self._stderr.close()
            raise

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.process.stdout is not None
        return self.process.stdout

    def send_path(self) -> None:
        """What the child reads first: this interpreter's import path."""
        pickle.dump(sys.path, self.stdin, protocol=PROTOCOL)

    def describe_end(self) -> str:
        """How it ended, "(exit code 1)" or "(killed by SIGKILL)", then ": " and the last line
        of its stderr (its exception) when there is one."""
        code = self.process.returncode
        if code is None:
            how = "still running"
        elif code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exit code {code}"
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            lines = []
        return f"({how}): {lines[-1][:300]}" if lines else f"({how})"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def close_stderr(self) -> None:
        self._stderr.close()


def answer_channel() -> IO[bytes]:
    """In the child: its own copy of stdout, for answers only (anything the code it runs
    prints goes to stderr instead)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return out

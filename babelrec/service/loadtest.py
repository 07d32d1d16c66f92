"""A bounded load run against a babelrec service on this machine: N requests from C concurrent
clients, each client in its own chat session, with per-request latency and a check that every
reply belongs to the session that asked. Used by the load test and `bench/service_load.py`."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel, ConfigDict

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class LoadResult(BaseModel):
    """What a load run measured."""

    model_config = ConfigDict(extra="forbid")

    requests: int
    clients: int
    errors: int
    mixed_sessions: int
    p50_seconds: float
    p95_seconds: float
    seconds: float


def run_load(
    base_url: str,
    *,
    requests: int = 200,
    clients: int = 16,
    use_llm: bool = False,
    timeout: float = 120.0,
) -> LoadResult:
    """Send `requests` requests from `clients` threads: alternately a recommendation and a chat
    turn in the client's own session. Only loopback addresses are allowed as targets."""
    host = urlparse(base_url).hostname or ""
    if host not in LOOPBACK:
        raise ValueError(f"load runs only target this machine (127.0.0.1), not {host!r}")
    latencies: list[float] = []
    errors = mixed = 0
    lock = threading.Lock()
    queries = ["football", "足球新闻", "tecnología", "반도체", "food", "كرة القدم"]

    def client_run(client_id: int, count: int) -> None:
        nonlocal errors, mixed
        session = f"load-{client_id}"
        with httpx.Client(base_url=base_url, timeout=timeout) as http:
            for n in range(count):
                query = queries[(client_id + n) % len(queries)]
                started = time.perf_counter()
                try:
                    if n % 2 == 0:
                        body = {"text": query, "k": 5, "use_llm": use_llm, "explain": True}
                        response = http.post("/v1/recommend", json=body)
                        ok = response.status_code == 200
                    else:
                        response = http.post(f"/v1/chat/{session}", json={"message": query})
                        ok = response.status_code == 200
                        if ok and response.json()["session_id"] != session:
                            with lock:
                                mixed += 1
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors += 0 if ok else 1

    per_client = [
        requests // clients + (1 if i < requests % clients else 0) for i in range(clients)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client_run, i, c) for i, c in enumerate(per_client) if c]:
            future.result()
    ordered = sorted(latencies)
    return LoadResult(
        requests=len(latencies),
        clients=clients,
        errors=errors,
        mixed_sessions=mixed,
        p50_seconds=statistics.median(ordered),
        p95_seconds=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        seconds=time.perf_counter() - started,
    )

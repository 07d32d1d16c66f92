"""Load on `babelrec serve` at 127.0.0.1: 200 requests from 16 clients without the LLM and 20
with the default local model; p50/p95 and errors to bench/results/service_load.json."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from babelrec.io.catalog import demo_catalog_path
from babelrec.service.loadtest import run_load

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).parent / "babelrec")


def serve(data_dir: Path, port: int, llm: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [EXE, "serve", "--data-dir", str(data_dir), "--llm", llm, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the service did not start")


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        subprocess.run([EXE, "ingest", str(demo_catalog_path()), "--data-dir", tmp], check=True)
        for label, llm, requests, clients in (
            ("no_llm", "none", 200, 16),
            ("llm", "llama-cpp", 20, 4),
        ):
            proc = serve(data, 8765, llm)
            try:
                result = run_load(
                    "http://127.0.0.1:8765",
                    requests=requests,
                    clients=clients,
                    use_llm=llm != "none",
                    timeout=600,
                )
            finally:
                proc.terminate()
                proc.wait(10)
            results[label] = result.model_dump()
            print(
                f"{label}: p50 {result.p50_seconds:.3f} s, p95 {result.p95_seconds:.3f} s, "
                f"{result.errors} errors, {result.mixed_sessions} mixed sessions"
            )
    out = ROOT / "bench" / "results" / "service_load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

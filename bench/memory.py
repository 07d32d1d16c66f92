"""Peak resident memory of an ingest process and of a serving process (one that answers
explained recommendations with the default local LLM), each in a fresh interpreter.

Writes bench/results/memory.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

INGEST = """
import resource, sys
from pathlib import Path
from babelrec.io.catalog import demo_catalog_path
from babelrec.pipeline.recommender import Recommender
rec = Recommender.from_settings(data_dir=Path(sys.argv[1]), embedding_cache=False, llm="none")
rec.ingest(demo_catalog_path())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

SERVE = """
import resource, sys
from pathlib import Path
from babelrec.models import UserProfile
from babelrec.pipeline.recommender import Recommender
rec = Recommender.from_settings(data_dir=Path(sys.argv[1]), llm_cache=False)
for text in ["我喜欢足球和篮球", "electric cars", "cocina tradicional"]:
    rec.recommend(UserProfile(language="en", interests=text), k=5)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mib(script: str, data_dir: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", script, data_dir],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return int(done.stdout.strip().splitlines()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ingest = peak_mib(INGEST, tmp)
        serve = peak_mib(SERVE, tmp)
    report = {"ingest_peak_mib": ingest, "serve_peak_mib": serve}
    print(f"peak RSS: ingest {ingest:.0f} MiB, serving (LLM rerank + explain) {serve:.0f} MiB")
    out = ROOT / "bench" / "results" / "memory.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

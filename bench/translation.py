"""Machine translation of news titles, zh->en and en->zh, by every model babelrec can run here.

The parallel set: the MIND news that have both an English title (`mind/news.tsv`) and a Chinese
one (xMIND `cmn`, itself an NLLB machine translation written in Traditional script), read by the
MIND converter's readers. On a shared 2-core machine every model sees the same seeded random
sample of titles per direction (`--n`, default 8), not all ~1,110.

For each model and direction: chrF (sacrebleu, character 6-grams, beta 2) of the raw output and
of what a user is shown (the output where it passes `babelrec.display.check_translation`, else the
original title, as `DisplayMaker` does), the share that passes the check, and the cost per title
(generation only, no cache): wall seconds on the shared machine, and CPU seconds of the process
(both llama.cpp threads), which other jobs on the machine inflate far less. Chinese output and
references are compared in Simplified script (OpenCC), so the reference's Traditional script
costs no model anything. No re-ask after an invalid answer (`retries=0`; babelrec's default
re-asks once, which only adds time to the titles that fail). The "copy" row is the floor: the
untranslated title scored against the reference.

    BABELREC_EVAL__DATA_DIR=../shared/data nice -n 10 python bench/translation.py --n 8

Writes bench/results/translation.json after each model and direction (a long run keeps what
it finished).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "translation.json"


def pairs() -> list[tuple[str, str, str]]:
    """(news id, English title, Chinese title) of every news with both texts."""
    from babelrec.eval.converters.mind import read_mind_news, read_xmind
    from babelrec.settings import Settings

    data = Settings().eval.resolved_data_dir
    dropped: Counter[str] = Counter()
    zh, en = read_xmind(data, dropped), read_mind_news(data, dropped)
    return [(nid, en[nid].title, zh[nid].title) for nid in sorted(set(zh) & set(en))]


def models(names: list[str]) -> dict[str, object]:
    from babelrec.llm.local import LlamaCppLLM, packaged_model_path
    from babelrec.settings import Settings

    cache = Settings().cache_dir
    return {
        name: LlamaCppLLM(packaged_model_path(name, cache), n_threads=2, retries=0)  # type: ignore[arg-type]
        for name in names
    }


def score(hyps: list[str], refs: list[str]) -> float:
    import sacrebleu

    return round(float(sacrebleu.corpus_chrf(hyps, [refs]).score), 2)


def run_direction(
    translator: object, rows: list[tuple[str, str]], source: str, target: str
) -> dict[str, object]:
    from babelrec.display.checks import check_translation
    from babelrec.errors import LLMError
    from babelrec.i18n.chinese import to_simplified

    simplify = (lambda t: to_simplified(t)) if target == "zh" else (lambda t: t)
    raw, shown, refs, reasons, seconds, cpu = [], [], [], Counter(), [], []
    titles: list[dict[str, str | None]] = []
    for text, reference in rows:
        started, cpu_started = time.perf_counter(), time.process_time()
        reason: str | None
        try:
            out = translator.translate(text, source, target)  # type: ignore[attr-defined]
            reason = check_translation(text, simplify(out), target)
        except LLMError as exc:
            out, reason = "", f"error: {type(exc).__name__}"
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        reasons[reason or "passed"] += 1
        raw.append(simplify(out))
        shown.append(simplify(out) if reason is None else simplify(text))
        refs.append(simplify(reference))
        titles.append({"source": text, "output": out, "reference": reference, "check": reason})
        print(f"  {len(titles)}/{len(rows)} {seconds[-1]:.1f}s {reason or 'passed'}", flush=True)
    return {
        "n": len(rows),
        "chrf_raw": score(raw, refs),
        "chrf_shown": score(shown, refs),
        "passed_check": round(reasons["passed"] / len(rows), 3),
        "check_outcomes": dict(reasons.most_common()),
        "seconds_per_title": round(sum(seconds) / len(seconds), 3),
        "cpu_seconds_per_title": round(sum(cpu) / len(cpu), 3),
        "titles": titles,
    }


def rescore() -> None:
    """Apply the current check to the outputs a run stored, without generating again (the check
    changes more often than a 2-core machine can afford a rerun)."""
    from babelrec.display.checks import check_translation
    from babelrec.i18n.chinese import to_simplified

    report = json.loads(OUT.read_text(encoding="utf-8"))
    for entry in report["models"].values():
        for direction, result in entry.items():
            if direction == "model_id":
                continue
            target = direction.split("->")[1]
            simplify = to_simplified if target == "zh" else (lambda t: t)
            reasons: Counter[str] = Counter()
            shown, refs = [], []
            for title in result["titles"]:
                if title["output"] or not str(title["check"] or "").startswith("error"):
                    out = simplify(title["output"])
                    title["check"] = check_translation(title["source"], out, target)
                reasons[title["check"] or "passed"] += 1
                ok = title["check"] is None
                shown.append(simplify(title["output"]) if ok else simplify(title["source"]))
                refs.append(simplify(title["reference"]))
            result["chrf_shown"] = score(shown, refs)
            result["passed_check"] = round(reasons["passed"] / len(result["titles"]), 3)
            result["check_outcomes"] = dict(reasons.most_common())
    OUT.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8, help="Titles per direction.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=["gemma3", "smollm2"])
    parser.add_argument("--rescore", action="store_true", help="Re-check the stored outputs.")
    parser.add_argument("--out", type=Path, default=OUT, help="Where the JSON goes.")
    args = parser.parse_args()
    OUT = args.out
    if args.rescore:
        rescore()
        return

    from babelrec.display.translator import LLMTranslator
    from babelrec.i18n.chinese import to_simplified

    every = pairs()
    rng = random.Random(args.seed)
    samples = {
        "zh->en": [(zh, en) for _, en, zh in rng.sample(every, min(args.n, len(every)))],
        "en->zh": [(en, zh) for _, en, zh in rng.sample(every, min(args.n, len(every)))],
    }
    report: dict[str, object] = {
        "parallel_news": len(every),
        "sample_per_direction": args.n,
        "seed": args.seed,
        "reference": "MIND English titles / xMIND Chinese titles (NLLB machine translation, "
        "Traditional; compared in Simplified)",
        "copy": {
            "zh->en": score([s for s, _ in samples["zh->en"]], [r for _, r in samples["zh->en"]]),
            "en->zh": score(
                [s for s, _ in samples["en->zh"]], [to_simplified(r) for _, r in samples["en->zh"]]
            ),
        },
        "models": {},
    }
    built = models(args.models)
    translators = {name: LLMTranslator(llm) for name, llm in built.items()}  # type: ignore[arg-type]
    entries: dict[str, dict[str, object]] = {}
    for name, translator in translators.items():
        translator.translate("warm-up", "en", "zh")  # load the weights outside the timing
        print(f"{name} loaded", flush=True)
        entries[name] = {"model_id": translator.model_id}
    report["models"] = entries
    for direction, rows in samples.items():  # both models on one direction, then the other
        source, target = direction.split("->")
        for name, translator in translators.items():
            entries[name][direction] = run_direction(translator, rows, source, target)
            summary = {k: v for k, v in entries[name][direction].items() if k != "titles"}  # type: ignore[union-attr]
            print(name, direction, summary, flush=True)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(
                json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

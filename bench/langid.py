"""Accuracy of language identification on short titles: babelrec's (py3langid after a
kana/hangul script check) vs lingua.

Titles: the demo catalog (zh, en, es, ja, ko, ar, fr; written for babelrec) plus English MIND
and Chinese xMIND titles when the evaluation data is present (setting eval.data_dir,
BABELREC_EVAL__DATA_DIR).
Writes bench/results/langid.json.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def titles() -> list[tuple[str, str]]:
    rows = []
    with (ROOT / "babelrec/data/demo/catalog.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            rows.append((item["title"], item["language"]))
    from babelrec.settings import Settings

    data = Settings().eval.resolved_data_dir
    news = data / "mind" / "news.tsv"
    if news.exists():
        with news.open(encoding="utf-8") as handle:
            for n, row in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)):
                if n >= 300:
                    break
                rows.append((row[3], "en"))
    archive = data / "xmind_zh" / "xMINDsmall_dev.zip"
    if archive.exists():
        with zipfile.ZipFile(archive) as zf:
            name = next(n for n in zf.namelist() if n.endswith("news.tsv"))
            text = io.TextIOWrapper(zf.open(name), encoding="utf-8")
            for n, row in enumerate(csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)):
                if n >= 300:
                    break
                rows.append((row[1], "zh"))
    return rows


def main() -> None:
    from babelrec.i18n.langid import SUPPORTED, detect_languages

    rows = titles()
    texts, gold = [t for t, _ in rows], [g for _, g in rows]
    results = {}
    started = time.perf_counter()
    detect_languages(texts[:1])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    predicted = detect_languages(texts)
    results["py3langid"] = (predicted, time.perf_counter() - started, load_s)

    from lingua import IsoCode639_1, LanguageDetectorBuilder

    started = time.perf_counter()
    codes = [getattr(IsoCode639_1, code.upper()) for code in SUPPORTED]
    detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
    detector.detect_language_of(texts[0])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    found = detector.detect_languages_in_parallel_of(texts)
    predicted = [lang.iso_code_639_1.name.lower() if lang else None for lang in found]
    results["lingua"] = (predicted, time.perf_counter() - started, load_s)

    report = {"n_titles": len(texts), "per_language_n": Counter(gold), "libraries": {}}
    print(
        f"{'library':10} {'accuracy':>8}  " + " ".join(f"{lang:>5}" for lang in sorted(set(gold)))
    )
    for name, (pred, secs, load) in results.items():
        acc = sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold)
        per = {}
        for lang in sorted(set(gold)):
            idx = [i for i, g in enumerate(gold) if g == lang]
            per[lang] = sum(pred[i] == lang for i in idx) / len(idx)
        errors = Counter((g, p) for p, g in zip(pred, gold, strict=True) if p != g)
        report["libraries"][name] = {
            "accuracy": acc,
            "per_language": per,
            "titles_per_s": len(texts) / secs,
            "load_s": load,
            "top_errors": [f"{g}->{p}: {c}" for (g, p), c in errors.most_common(5)],
        }
        print(f"{name:10} {acc:8.3f}  " + " ".join(f"{per[lang]:5.2f}" for lang in sorted(per)))
    out = ROOT / "bench" / "results" / "langid.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

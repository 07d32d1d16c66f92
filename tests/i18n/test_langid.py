from __future__ import annotations

import json

from babelrec.i18n.langid import detect_language, detect_languages
from babelrec.io.catalog import demo_catalog_path


def test_demo_titles_are_identified() -> None:
    rows = [
        json.loads(line) for line in demo_catalog_path().read_text(encoding="utf-8").splitlines()
    ]
    predicted = detect_languages([row["title"] for row in rows])
    accuracy = sum(p == row["language"] for p, row in zip(predicted, rows, strict=True)) / len(rows)
    assert accuracy >= 0.97


def test_scripts_and_unknowable_texts() -> None:
    assert detect_language("ソウルで新しい展示会") == "ja"  # kana wins over shared kanji
    assert detect_language("한국 축구 대표팀") == "ko"
    assert detect_language("推荐一些关于科技的新闻") == "zh"
    assert detect_language("") is None
    assert detect_language("2024 !!") is None
    assert detect_language("ok") is None

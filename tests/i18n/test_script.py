from __future__ import annotations

import pytest

from babelrec.i18n.script import matches_language


@pytest.mark.parametrize(
    ("text", "language", "ok"),
    [
        ("这篇文章与你喜欢的足球相符。", "zh", True),
        ("This story matches your interest.", "zh", False),
        ("サッカーの記事です。", "ja", True),
        ("足球比赛", "ja", False),
        ("축구 소식입니다.", "ko", True),
        ("خبر عن كرة القدم.", "ar", True),
        ("Te lo recomendamos porque coincide con tu interés por el fútbol.", "es", True),
        ("We recommend it because it matches your interest in football.", "es", False),
        ("", "en", False),
    ],
)
def test_script_check(text: str, language: str, ok: bool) -> None:
    assert matches_language(text, language) is ok

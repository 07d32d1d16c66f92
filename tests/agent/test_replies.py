from __future__ import annotations

from babelrec.agent.replies import describe, reply_locale, reply_locales, say
from babelrec.agent.state import Constraints


def test_every_locale_has_every_sentence() -> None:
    assert {"zh", "en", "es"} <= set(reply_locales())
    for locale in reply_locales():
        assert say(locale, "clarify")


def test_constraints_are_described_in_the_reply_language() -> None:
    c = Constraints(languages=["en"], regions=["KR"], exclude_categories=["sports"])
    assert describe(c, "zh") == "（只看英文内容；只看来自韩国的；不要体育）"
    assert describe(c, "en") == " (only English; only from Korea; no sports)"
    assert describe(c, "es") == " (solo en inglés; solo de Corea; sin deportes)"
    assert describe(Constraints(), "zh") == ""


def test_languages_without_sentences_fall_back_to_english() -> None:
    assert reply_locale("ja") == "en"
    assert reply_locale(None) == "en"

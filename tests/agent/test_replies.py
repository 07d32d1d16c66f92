from __future__ import annotations

import string

import pytest

from babelrec.agent.replies import _table, describe, for_user, reply_locale, reply_locales, say
from babelrec.agent.state import Constraints, ConversationState
from babelrec.i18n.chinese import detect_script, to_simplified, to_traditional


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


def _filled(locale: str, key: str) -> str:
    """A sentence with every placeholder filled by a script-neutral value."""
    fields = {f for _, f, _, _ in string.Formatter().parse(_table()[locale][key]) if f}
    return say(locale, key, **dict.fromkeys(fields, "1"))


@pytest.mark.parametrize("key", sorted(_table()["zh"]))
def test_every_chinese_sentence_reads_in_traditional_and_back(key: str) -> None:
    sentence = _filled("zh", key)
    traditional = to_traditional(sentence)
    assert to_simplified(traditional) == sentence
    if detect_script(sentence) is not None:  # the sentence has characters that tell
        assert detect_script(sentence) == "Hans"
        assert detect_script(traditional) == "Hant"


def test_constraints_are_described_in_traditional() -> None:
    c = Constraints(languages=["en"], regions=["KR"], exclude_categories=["sports"])
    assert to_traditional(describe(c, "zh")) == "（只看英文內容；只看來自韓國的；不要體育）"


def test_replies_are_written_for_the_users_script() -> None:
    hant = ConversationState(language="zh", script="Hant")
    assert for_user(hant, "这是和《国产芯片工厂投产》类似的5条推荐") == (
        "這是和《國產芯片工廠投產》類似的5條推薦"
    )
    assert for_user(ConversationState(language="zh"), "这是") == "这是"  # no script known
    assert for_user(ConversationState(language="en", script="Hant"), "《国产》") == "《国产》"

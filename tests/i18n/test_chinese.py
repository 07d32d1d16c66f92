"""Chinese scripts on the real OpenCC wheel: detection, conversion both ways, the fallback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.i18n import chinese
from babelrec.i18n.chinese import (
    INSTALL_HINT,
    convert,
    detect_script,
    for_matching,
    reader_script,
    to_simplified,
    to_traditional,
)
from babelrec.models import UserProfile, split_language_tag

#: The turns of issue 12, as a user types them in each script.
TURNS = [
    ("推荐一些体育新闻", "推薦一些體育新聞"),
    ("不要体育", "不要體育"),
    ("来点韩国的", "來點韓國的"),
]


@pytest.mark.parametrize(("simplified", "traditional"), TURNS)
def test_conversion_both_ways(simplified: str, traditional: str) -> None:
    assert to_traditional(simplified) == traditional
    assert to_simplified(traditional) == simplified
    assert detect_script(simplified) == "Hans"
    assert detect_script(traditional) == "Hant"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("台灣的新聞", "Hant"),  # 台 is standard in Taiwan, though s2t writes 臺
        ("我想了解台灣", "Hant"),
        ("台湾的新闻", "Hans"),
        ("推荐一些體育新聞", "Hant"),  # two Traditional characters against one Simplified
        ("体育體育", "mixed"),
        ("中文", None),  # the same in both scripts
        ("日本", None),
        ("hello", None),
        ("", None),
    ],
)
def test_detection(text: str, script: str | None) -> None:
    assert detect_script(text) == script


def test_text_without_han_and_no_script_are_unchanged() -> None:
    assert convert("only English, 한국어", "Hant") == "only English, 한국어"
    assert convert("推荐", None) == "推荐"


def test_reading_for_matching_knows_taiwan_words_and_writing_keeps_words() -> None:
    assert for_matching("我想看軟體新聞") == ("我想看软件新闻", "Hant")
    assert for_matching("中文") == ("中文", None)
    assert to_simplified("軟體") == "软体"  # written for a reader: characters only


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh", ("zh", None)),
        ("zh-Hant", ("zh", "Hant")),
        ("zh-TW", ("zh", "Hant")),
        ("zh_HK", ("zh", "Hant")),
        ("zh-Hans-HK", ("zh", "Hans")),
        ("zh-CN", ("zh", "Hans")),
        ("zh-Hans", ("zh", "Hans")),
        ("en-US", ("en", None)),
    ],
)
def test_language_tags(tag: str, expected: tuple[str, str | None]) -> None:
    assert split_language_tag(tag) == expected


def test_profiles_take_tags_and_stay_compatible_with_plain_zh() -> None:
    assert UserProfile(language="zh-TW").model_dump(include={"language", "script"}) == {
        "language": "zh",
        "script": "Hant",
    }
    plain = UserProfile(language="zh")
    assert plain.script is None
    assert UserProfile.model_validate_json(plain.model_dump_json()) == plain
    with pytest.raises(ValueError, match="Chinese"):
        UserProfile(language="en", script="Hant")


def test_the_readers_script_is_asked_for_or_read_from_their_words() -> None:
    assert reader_script("zh", "Hant") == "Hant"
    assert reader_script("zh-TW", None) == "Hant"
    assert reader_script("zh", None, "我喜歡籃球") == "Hant"
    assert reader_script("zh", None, "我喜欢篮球") == "Hans"
    assert reader_script("zh", None, "足球") is None
    assert reader_script("en", None, "我喜歡籃球") is None


@pytest.fixture
def without_opencc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    chinese._converter.cache_clear()
    chinese._warn_missing.cache_clear()
    monkeypatch.setitem(sys.modules, "opencc", None)  # import opencc now raises ImportError
    yield
    chinese._converter.cache_clear()
    chinese._warn_missing.cache_clear()


@pytest.mark.usefixtures("without_opencc")
def test_without_opencc_text_is_used_as_written_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="babelrec.i18n.chinese"):
        assert to_traditional("推荐一些体育新闻") == "推荐一些体育新闻"
        assert detect_script("推薦一些體育新聞") is None
        assert for_matching("不要體育") == ("不要體育", None)
    assert not chinese.available()
    assert [r.getMessage() for r in caplog.records] == [INSTALL_HINT]  # said once
    assert "pip install opencc" in INSTALL_HINT


#: Han characters that differ between the scripts, and some that do not.
_SIMPLIFIED = "体闻韩国来点荐语华财经娱乐电艺术为么个条这还没关从"
_SHARED = "育新推言影音旅什中文日本足球科技不要一些的好天"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_SIMPLIFIED + _SHARED, min_size=1, max_size=30))
def test_simplified_text_survives_the_round_trip(text: str) -> None:
    assert all(to_traditional(ch) != ch for ch in _SIMPLIFIED)
    assert all(to_traditional(ch) == ch for ch in _SHARED)
    traditional = to_traditional(text)
    assert len(traditional) == len(text)
    assert to_simplified(traditional) == text
    if any(ch in _SIMPLIFIED for ch in text):
        assert detect_script(traditional) == "Hant"
        assert detect_script(text) == "Hans"

"""The check every machine translation passes before it is shown, over classes of inputs."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.display.checks import LEAK_MARKERS, check_translation, is_copy

#: Han characters written alike in both scripts, and Latin words, to build texts of each kind.
HAN = "中大小人山水日月天上下年"
latin_words = st.lists(
    st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=9), min_size=2, max_size=8
).map(" ".join)
han_texts = st.text(alphabet=HAN, min_size=4, max_size=30)
GOOD = [
    ("美国总统大选结果公布", "US presidential election results announced", "en"),
    ("Dog rescued from river after three days", "三天后小狗从河里获救", "zh"),
    ("Dog rescued from river after three days", "三天後小狗從河裡獲救", "zh-Hant"),
    (
        "Los tacos al pastor conquistan Madrid",
        "Mexican street tacos win over the people of Madrid",
        "en",
    ),
]


def test_good_translations_pass() -> None:
    for source, output, target in GOOD:
        assert check_translation(source, output, target) is None, (source, output)


@given(st.text(alphabet=" \t\n\u3000", max_size=10), st.sampled_from(["en", "zh", "es"]))
def test_empty_is_refused(blank: str, target: str) -> None:
    assert check_translation("Dog rescued from river", blank, target) == "the translation is empty"


@given(latin_words | han_texts, st.sampled_from(["en", "zh", "es", "zh-Hant", "ko"]))
def test_a_copy_of_the_input_is_refused(text: str, target: str) -> None:
    assert check_translation(text, text, target) is not None
    assert check_translation(text, f"  {text.upper()}! ", target) is not None


@given(latin_words)
def test_an_echo_that_contains_the_whole_input_is_a_copy(text: str) -> None:
    if len("".join(text.split())) >= 8:
        assert is_copy(text, f"{text} 新闻")


@given(han_texts)
def test_chinese_is_not_english(text: str) -> None:
    reason = check_translation("Some English source words here", text, "en")
    assert reason is not None and "not written in en" in reason


@given(latin_words)
def test_english_is_not_chinese(text: str) -> None:
    reason = check_translation("一些中文的原文标题", text, "zh")
    assert reason is not None


def test_the_wrong_chinese_script_is_refused() -> None:
    assert check_translation("Dog rescued", "三天後小狗從河裡獲救", "zh-Hans") is not None
    assert check_translation("Dog rescued", "三天后小狗从河里获救", "zh-Hant") is not None


@settings(max_examples=60)
@given(
    st.sampled_from(GOOD),
    st.sampled_from([m for group in LEAK_MARKERS for m in group]),
    st.sampled_from(["{}: {}", "{1} {0}", "{1}{0}"]),
)
def test_instruction_text_leaking_is_refused(
    good: tuple[str, str, str], marker: str, shape: str
) -> None:
    source, output, target = good
    leaky = shape.format(output, marker)
    assert check_translation(source, leaky, target) is not None


def test_a_marker_the_input_has_too_is_no_leak() -> None:
    assert check_translation("Translation app tops the chart", "翻译应用登上榜首", "zh") is None
    assert (
        check_translation("翻译软件排行榜第一", "Translation software tops the chart", "en") is None
    )


def test_the_translate_prompt_loads_with_its_placeholders_and_a_data_block() -> None:
    from babelrec.prompts.loader import PLACEHOLDERS, PromptLoader, placeholders

    template = PromptLoader().load("translate", "en")
    found = placeholders(template.system) | placeholders(template.user)
    assert found == PLACEHOLDERS["translate"]
    assert "<data>{text}</data>" in template.user


@given(han_texts.filter(lambda t: len(t) >= 8), st.sampled_from(["The", "News", "A b"]))
def test_a_stub_of_a_long_title_is_refused(text: str, stub: str) -> None:
    reason = check_translation(text, stub, "en")
    assert reason == "the translation is too short for its original"

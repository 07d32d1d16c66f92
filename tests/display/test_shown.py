"""`DisplayMaker` with a scripted LLM: catalog translations first, the reader's script, machine
translations checked, cached and flagged when refused."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from babelrec.display import DisplayMaker, LLMTranslator, TranslationCache, quotes_unreadable
from babelrec.display.shown import summary_of
from babelrec.language_settings import DisplaySettings
from babelrec.llm.base import ChatMessage, JSONSchema
from babelrec.llm.fake import FakeLLM
from babelrec.models import Item, Translation, UserProfile

ZH = UserProfile(language="zh", interests="美食")
ZH_HANT = UserProfile(language="zh-TW", interests="美食")
ARABIC = Item(
    id="ar-food",
    title="مهرجان في فاس يحتفي بالكسكس طبق الجمعة العائلي",
    text="يحتفل المهرجان بالكسكس. ويأتي الزوار من كل المغرب. وهذه جملة ثالثة.",
    language="ar",
    region="MA",
    category="food",
)
KOREAN = Item(
    id="ko-food",
    title="부산 돼지국밥 골목, 외국인 관광객 필수 코스로",
    language="ko",
    region="KR",
    translations={
        "zh": Translation(title="釜山猪肉汤饭街成为外国游客必去之地", text="游客络绎不绝。")
    },
)
ANSWERS = {
    ARABIC.title: "菲斯节日庆祝古斯米，家庭周五的菜肴",
    "يحتفل المهرجان بالكسكس. ويأتي الزوار من كل المغرب.": "节日庆祝古斯米。游客来自摩洛哥各地。",
}


def answering(table: dict[str, str]) -> FakeLLM:
    """A fake LLM that translates the texts of `table` (the text is the prompt's <data>)."""

    def respond(messages: Sequence[ChatMessage], schema: JSONSchema) -> str:
        prompt = messages[-1].content
        text = prompt.split("<data>", 1)[1].split("</data>", 1)[0]
        return json.dumps({"translation": table.get(text, text)}, ensure_ascii=False)

    return FakeLLM(responder=respond)


def maker(llm: FakeLLM | None, tmp_path: Path, machine: str = "request") -> DisplayMaker:
    translator = LLMTranslator(llm) if llm is not None else None
    return DisplayMaker(
        DisplaySettings(machine=machine),  # type: ignore[arg-type]
        translator,
        TranslationCache(tmp_path / "translations"),
    )


def test_catalog_translations_come_first_and_cost_no_call(tmp_path: Path) -> None:
    llm = answering(ANSWERS)
    shown = maker(llm, tmp_path).display(ZH, KOREAN, generate=True)
    assert shown.source == "catalog" and shown.in_user_language
    assert shown.title == "釜山猪肉汤饭街成为外国游客必去之地"
    assert shown.summary == "游客络绎不绝。" and shown.language == "zh-Hans"
    assert llm.prompts == []


def test_traditional_readers_get_traditional_text(tmp_path: Path) -> None:
    shown = maker(None, tmp_path).display(ZH_HANT, KOREAN)
    assert shown.title == "釜山豬肉湯飯街成為外國遊客必去之地"
    assert shown.language == "zh-Hant" and shown.source == "catalog"
    own = Item(id="zh", title="国产芯片工厂投产", language="zh")
    assert maker(None, tmp_path).display(ZH_HANT, own).title == "國產芯片工廠投產"


def test_machine_translation_is_checked_and_names_its_model(tmp_path: Path) -> None:
    llm = answering(ANSWERS)
    shown = maker(llm, tmp_path).display(ZH, ARABIC, generate=True)
    assert shown.source == "machine" and shown.model == "fake:fake"
    assert shown.title == ANSWERS[ARABIC.title]
    assert shown.summary == "节日庆祝古斯米。游客来自摩洛哥各地。"  # two sentences of three
    assert not shown.fallback and shown.in_user_language


def test_a_refused_translation_shows_the_original_flagged(tmp_path: Path) -> None:
    llm = answering({})  # echoes its input: a copy
    shown = maker(llm, tmp_path).display(ZH, ARABIC, generate=True)
    assert shown.source == "original" and shown.fallback
    assert shown.title == ARABIC.title and shown.language == "ar"
    assert not shown.in_user_language
    assert shown.fallback_reason == "the translation is a copy of the original"
    english = answering({ARABIC.title: "Fez festival celebrates couscous, the family Friday dish"})
    wrong = maker(english, tmp_path / "other").display(ZH, ARABIC, generate=True)
    assert wrong.fallback and "not written in zh-Hans" in (wrong.fallback_reason or "")


def test_translations_are_cached_by_text_and_model(tmp_path: Path) -> None:
    llm = answering(ANSWERS)
    maker(llm, tmp_path).displays(ZH, [ARABIC])
    calls = len(llm.prompts)
    assert calls == 2  # title and summary
    # "cached" makes nothing at request time, but shows what was made before
    cached = maker(llm, tmp_path, machine="cached").displays(ZH, [ARABIC])[0]
    assert cached.source == "machine" and len(llm.prompts) == calls
    other = answering(ANSWERS)
    other.model = "another-model"
    fresh = maker(other, tmp_path, machine="cached").displays(ZH, [ARABIC])[0]
    assert fresh.source == "original" and not fresh.fallback  # another model: not made yet


def test_only_the_top_picks_are_translated_on_request(tmp_path: Path) -> None:
    llm = answering(ANSWERS)
    settings = DisplaySettings(machine="request", top=1)
    items = [ARABIC, ARABIC.model_copy(update={"id": "ar-2", "title": "عنوان آخر عن الطعام"})]
    shown = DisplayMaker(settings, LLMTranslator(llm), None).displays(ZH, items)
    assert [d.source for d in shown] == ["machine", "original"]


def test_an_unavailable_llm_shows_the_original_unflagged(tmp_path: Path) -> None:
    llm = FakeLLM([OSError("connection refused")])
    shown = maker(llm, tmp_path).display(ZH, ARABIC, generate=True)
    assert shown.source == "original" and not shown.fallback


def test_machine_off_never_asks(tmp_path: Path) -> None:
    llm = answering(ANSWERS)
    shown = maker(llm, tmp_path, machine="off").displays(ZH, [ARABIC])[0]
    assert shown.source == "original" and llm.prompts == []


def test_summary_is_the_first_sentences() -> None:
    assert summary_of("One. Two! Three?", 2) == "One. Two!"
    assert summary_of("第一句。第二句。第三句。", 1) == "第一句。"
    assert summary_of("x" * 500, 2, 10) == "x" * 9 + "…"
    assert summary_of("", 2) == ""


def test_quoting_an_unreadable_title_is_caught(tmp_path: Path) -> None:
    shown = maker(None, tmp_path).display(ZH, ARABIC)
    assert quotes_unreadable("推荐：مهرجان في فاس", ARABIC, shown)
    assert quotes_unreadable("这篇来自摩洛哥：فاس يحتفي", ARABIC, shown)
    assert not quotes_unreadable("这篇讲美食。", ARABIC, shown)
    korean = maker(None, tmp_path).display(ZH, KOREAN)
    assert quotes_unreadable("부산 돼지국밥 골목 很好", KOREAN, korean)
    assert not quotes_unreadable("釜山猪肉汤饭街很好", KOREAN, korean)


def test_an_invalid_answer_is_flagged_and_not_asked_again(tmp_path: Path) -> None:
    llm = FakeLLM(["not json", "still not json"], retries=1)
    shown = maker(llm, tmp_path).display(ZH, ARABIC, generate=True)
    assert shown.source == "original" and shown.fallback and shown.model == "fake:fake"
    assert shown.fallback_reason == "the model gave no valid answer in 2 attempt(s)"
    again = maker(llm, tmp_path).display(ZH, ARABIC, generate=True)
    assert again.fallback and again.fallback_reason == "the translation is empty"
    assert len(llm.prompts) == 2  # the cached empty answer: no third generation

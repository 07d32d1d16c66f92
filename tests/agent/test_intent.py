"""Intent and constraint extraction by rules, in Chinese (both scripts), English and Spanish."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.agent.intent import Intent, Reference, parse
from babelrec.agent.lexicon import lexicon
from babelrec.i18n.chinese import ChineseScript, convert, to_simplified, to_traditional

SCRIPTS = ["Hans", "Hant"]


def in_both_scripts(*cases: Any) -> list[Any]:
    """Each test case as written, then its Traditional-script twin (every string converted by
    OpenCC) when it has Chinese in it: every chat refinement is tested in both scripts."""
    params = []
    for case in cases:
        values = case if isinstance(case, tuple) else (case,)
        params.append(pytest.param(*values))
        twin = tuple(to_traditional(v) if isinstance(v, str) else v for v in values)
        if twin != values:
            params.append(pytest.param(*twin, id=f"Hant-{twin[0]}"))
    return params


@pytest.mark.parametrize(
    ("message", "locale", "topic"),
    in_both_scripts(
        ("推荐一些关于科技的新闻", "zh", "科技"),
        ("recommend some tech news", "en", "tech"),
        ("recomiéndame noticias de tecnología", "es", "tecnología"),
    ),
)
def test_first_request_sets_category_and_topic(message: str, locale: str, topic: str) -> None:
    intent = parse(message)
    assert intent.include == {"categories": ["technology"]}
    assert intent.topic == topic
    assert intent.new_subject
    assert intent.locale_hint == locale


@pytest.mark.parametrize(
    "message", in_both_scripts("推荐一些足球新闻", "recommend some football news")
)
def test_a_topic_outside_the_tables_goes_to_the_embedder(message: str) -> None:
    intent = parse(message)
    assert not intent.include and not intent.exclude
    assert intent.topic in ("足球", "football")  # the same characters in both scripts
    assert intent.is_actionable()


@pytest.mark.parametrize(
    "message",
    in_both_scripts("more like the second one", "第二个那样的多一些", "más como el segundo", "#2"),
)
def test_more_like_the_second_one(message: str) -> None:
    assert parse(message).references == [Reference(position=2, polarity="like")]


@pytest.mark.parametrize(
    ("message", "polarity"),
    in_both_scripts(
        ("不喜欢第三个", "dislike"),
        ("I don't like the third one", "dislike"),
        ("no me gusta el tercero", "dislike"),
        ("为什么推荐第三个", "explain"),
        ("why the third one?", "explain"),
        ("¿por qué el tercero?", "explain"),
    ),
)
def test_references_carry_their_polarity(message: str, polarity: str) -> None:
    assert parse(message).references == [Reference(position=3, polarity=polarity)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "message", in_both_scripts("不要体育", "no sports", "sin deportes", "nada de deportes")
)
def test_negated_category_is_excluded(message: str) -> None:
    intent = parse(message)
    assert intent.exclude == {"categories": ["sports"]}
    assert not intent.include
    assert intent.topic == ""


@pytest.mark.parametrize(
    "message", in_both_scripts("只要英文的", "只要英语的", "only English", "solo en inglés")
)
def test_item_language_constraint(message: str) -> None:
    intent = parse(message)
    assert intent.include == {"languages": ["en"]}
    assert intent.answer_language is None
    assert intent.topic == ""


@pytest.mark.parametrize(
    "message", in_both_scripts("来点韩国的", "something from Korea", "algo de Corea")
)
def test_region_constraint(message: str) -> None:
    intent = parse(message)
    assert intent.include == {"regions": ["KR"]}
    assert not intent.new_subject  # a refinement: earlier topics stay


@pytest.mark.parametrize(
    ("message", "language"),
    in_both_scripts(
        ("请用英文回答", "en"),
        ("用西班牙语回复", "es"),
        ("answer in Spanish", "es"),
        ("please reply in Chinese", "zh"),
        ("responde en inglés", "en"),
        ("contéstame en chino", "zh"),
    ),
)
def test_answer_language_is_not_an_item_constraint(message: str, language: str) -> None:
    intent = parse(message)
    assert intent.answer_language == language
    assert not intent.include
    assert not intent.is_actionable()


@pytest.mark.parametrize(
    "message",
    in_both_scripts("推荐点东西", "recommend something", "recomiéndame algo", "hola", "hi!"),
)
def test_vague_requests_have_nothing_to_act_on(message: str) -> None:
    assert not parse(message).is_actionable()


@pytest.mark.parametrize("script", SCRIPTS)
def test_clauses_bound_negation(script: ChineseScript) -> None:
    intent = parse(convert("不要体育，只要英文的", script))
    assert intent.exclude == {"categories": ["sports"]}
    assert intent.include == {"languages": ["en"]}
    intent = parse("I want tech but no sports")
    assert intent.include == {"categories": ["technology"]}
    assert intent.exclude == {"categories": ["sports"]}
    assert intent.topic == "tech"


@pytest.mark.parametrize("script", SCRIPTS)
def test_longest_word_wins_and_latin_words_are_whole(script: ChineseScript) -> None:
    # 西班牙语 is the language, not the country 西班牙; "ai" is not found inside "said"
    assert parse(convert("只要西班牙语的", script)).include == {"languages": ["es"]}
    assert parse(convert("来点西班牙的", script)).include == {"regions": ["ES"]}
    assert parse("she said hello").include == {}


def test_negated_free_words_become_disliked_topics() -> None:
    intent = parse("football news, no politics")
    assert intent.topic == "football"
    assert intent.disliked_topics == ["politics"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_commands_and_clearing(script: ChineseScript) -> None:
    assert parse("/lang es").command == "lang"
    assert parse("/lang es").command_arg == "es"
    assert parse("/reset").command == "reset"
    assert parse("/quit").command == "quit"
    assert parse(convert("不限语言", script)).clear == ["languages"]
    assert parse("any country").clear == ["regions"]
    assert parse(convert("再来一些", script)).more
    assert parse("more please").more
    assert parse("más").more


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("推薦一些體育新聞", {"include": {"categories": ["sports"]}, "topic": "體育"}),
        ("不要體育", {"exclude": {"categories": ["sports"]}, "topic": ""}),
        ("來點韓國的", {"include": {"regions": ["KR"]}, "topic": "韓國"}),
        ("只看臺灣的", {"include": {"regions": ["TW"]}, "topic": "臺灣"}),
        # Taiwan words are read as the tables' words, and the topic says them in Traditional
        ("我想看網際網路新聞", {"include": {"categories": ["technology"]}, "topic": "互聯網"}),
    ],
)
def test_traditional_turns_of_issue_12(message: str, expected: dict[str, object]) -> None:
    # typed by hand, not converted: a Traditional-script user's turns apply constraints, and
    # the topic the embedder reads stays in the user's own script
    intent = parse(message)
    assert intent.model_dump(include=set(expected)) == expected
    assert intent.script == "Hant" and intent.locale_hint == "zh"


@pytest.mark.parametrize(
    ("message", "script"),
    [
        ("推荐一些体育新闻", "Hans"),
        ("推薦一些體育新聞", "Hant"),
        ("中文", None),
        ("only English", None),
    ],
)
def test_the_intent_says_which_script_the_message_is_in(message: str, script: str | None) -> None:
    assert parse(message).script == script


def _chinese_words() -> list[str]:
    """Every Chinese word of the chat tables, plus free words the tables do not know."""
    lex = lexicon()
    tables = [
        lex.categories, lex.languages, lex.regions, lex.negations, lex.boundaries, lex.clear,
        lex.like_markers, lex.explain_markers, lex.more_markers, lex.filler,
    ]  # fmt: skip
    words = [a.word for table in tables for a in table if a.locale == "zh"]
    words += [w for w, locale in lex.ordinal_locale.items() if locale == "zh"]
    return sorted(
        {*words, "足球", "政治", "电动车", "天气", "请用英文回答", "用繁体回答", "个", "第2条"}
    )


def _comparable(intent: Intent) -> dict[str, object]:
    """The intent with its topic words read in Simplified and without the script it reports."""
    fields = intent.model_dump(exclude={"script", "topic", "disliked_topics"})
    fields["topic"] = to_simplified(intent.topic)
    fields["disliked_topics"] = [to_simplified(w) for w in intent.disliked_topics]
    return fields


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_chinese_words()), min_size=1, max_size=6))
def test_both_scripts_mean_the_same(words: list[str]) -> None:
    simplified = "".join(words)
    traditional = to_traditional(simplified)
    from_simplified, from_traditional = parse(simplified), parse(traditional)
    assert _comparable(from_traditional) == _comparable(from_simplified)
    assert from_traditional.script in ("Hant", None)


@pytest.mark.parametrize(
    ("message", "script"),
    in_both_scripts(
        ("请用繁体中文回答", "Hant"),
        ("用繁体字回复", "Hant"),
        ("回答请用繁体", "Hant"),
        ("请用简体中文回答", "Hans"),
    ),
)
def test_asking_for_a_script_is_not_an_item_constraint(message: str, script: str) -> None:
    intent = parse(message)
    assert intent.answer_language == "zh" and intent.answer_script == script
    assert not intent.include and not intent.is_actionable()


@pytest.mark.parametrize(
    ("message", "openness"),
    [
        ("show me more from other cultures", "explore"),
        ("anything from abroad?", "explore"),
        ("only local stuff please", "own"),
        ("no foreign news", "own"),  # a negation turns it around
        ("多看看其他文化的", "explore"),
        ("来点国外的体育新闻", "explore"),
        ("只看国内的", "own"),
        ("不要国外的", "own"),
        ("más de otros países", "explore"),
        ("noticias del extranjero", "explore"),
        ("solo de mi país", "own"),
        ("sin noticias extranjeras", "own"),
    ],
)
def test_openness_refinements_in_every_chat_language(message: str, openness: str) -> None:
    intent = parse(message)
    assert intent.openness == openness
    assert not intent.more  # "more from other cultures" is a refinement, not the next page
    assert intent.is_actionable()
    assert not intent.include.get("regions")  # 国内 is the user's own country, not China

"""Intent and constraint extraction by rules, in Chinese, English and Spanish (no models)."""

from __future__ import annotations

import pytest

from babelrec.agent.intent import Reference, parse


@pytest.mark.parametrize(
    ("message", "locale", "topic"),
    [
        ("推荐一些关于科技的新闻", "zh", "科技"),
        ("recommend some tech news", "en", "tech"),
        ("recomiéndame noticias de tecnología", "es", "tecnología"),
    ],
)
def test_first_request_sets_category_and_topic(message: str, locale: str, topic: str) -> None:
    intent = parse(message)
    assert intent.include == {"categories": ["technology"]}
    assert intent.topic == topic
    assert intent.new_subject
    assert intent.locale_hint == locale


@pytest.mark.parametrize("message", ["推荐一些足球新闻", "recommend some football news"])
def test_a_topic_outside_the_tables_goes_to_the_embedder(message: str) -> None:
    intent = parse(message)
    assert not intent.include and not intent.exclude
    assert intent.topic in ("足球", "football")
    assert intent.is_actionable()


@pytest.mark.parametrize(
    "message", ["more like the second one", "第二个那样的多一些", "más como el segundo", "#2"]
)
def test_more_like_the_second_one(message: str) -> None:
    assert parse(message).references == [Reference(position=2, polarity="like")]


@pytest.mark.parametrize(
    ("message", "polarity"),
    [
        ("不喜欢第三个", "dislike"),
        ("I don't like the third one", "dislike"),
        ("no me gusta el tercero", "dislike"),
        ("为什么推荐第三个", "explain"),
        ("why the third one?", "explain"),
        ("¿por qué el tercero?", "explain"),
    ],
)
def test_references_carry_their_polarity(message: str, polarity: str) -> None:
    assert parse(message).references == [Reference(position=3, polarity=polarity)]  # type: ignore[arg-type]


@pytest.mark.parametrize("message", ["不要体育", "no sports", "sin deportes", "nada de deportes"])
def test_negated_category_is_excluded(message: str) -> None:
    intent = parse(message)
    assert intent.exclude == {"categories": ["sports"]}
    assert not intent.include
    assert intent.topic == ""


@pytest.mark.parametrize("message", ["只要英文的", "only English", "solo en inglés"])
def test_item_language_constraint(message: str) -> None:
    intent = parse(message)
    assert intent.include == {"languages": ["en"]}
    assert intent.answer_language is None
    assert intent.topic == ""


@pytest.mark.parametrize("message", ["来点韩国的", "something from Korea", "algo de Corea"])
def test_region_constraint(message: str) -> None:
    intent = parse(message)
    assert intent.include == {"regions": ["KR"]}
    assert not intent.new_subject  # a refinement: earlier topics stay


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("请用英文回答", "en"),
        ("用西班牙语回复", "es"),
        ("answer in Spanish", "es"),
        ("please reply in Chinese", "zh"),
        ("responde en inglés", "en"),
        ("contéstame en chino", "zh"),
    ],
)
def test_answer_language_is_not_an_item_constraint(message: str, language: str) -> None:
    intent = parse(message)
    assert intent.answer_language == language
    assert not intent.include
    assert not intent.is_actionable()


@pytest.mark.parametrize(
    "message", ["推荐点东西", "recommend something", "recomiéndame algo", "hola", "hi!"]
)
def test_vague_requests_have_nothing_to_act_on(message: str) -> None:
    assert not parse(message).is_actionable()


def test_clauses_bound_negation() -> None:
    intent = parse("不要体育，只要英文的")
    assert intent.exclude == {"categories": ["sports"]}
    assert intent.include == {"languages": ["en"]}
    intent = parse("I want tech but no sports")
    assert intent.include == {"categories": ["technology"]}
    assert intent.exclude == {"categories": ["sports"]}
    assert intent.topic == "tech"


def test_longest_word_wins_and_latin_words_are_whole() -> None:
    # 西班牙语 is the language, not the country 西班牙; "ai" is not found inside "said"
    assert parse("只要西班牙语的").include == {"languages": ["es"]}
    assert parse("来点西班牙的").include == {"regions": ["ES"]}
    assert parse("she said hello").include == {}


def test_negated_free_words_become_disliked_topics() -> None:
    intent = parse("football news, no politics")
    assert intent.topic == "football"
    assert intent.disliked_topics == ["politics"]


def test_commands_and_clearing() -> None:
    assert parse("/lang es").command == "lang"
    assert parse("/lang es").command_arg == "es"
    assert parse("/reset").command == "reset"
    assert parse("/quit").command == "quit"
    assert parse("不限语言").clear == ["languages"]
    assert parse("any country").clear == ["regions"]
    assert parse("再来一些").more
    assert parse("more please").more
    assert parse("más").more

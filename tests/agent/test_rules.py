"""Conversations on the real demo store (default embedder), by rules only, in zh, en and es."""

from __future__ import annotations

import re

import pytest

from babelrec.agent.agent import ChatAgent
from babelrec.agent.state import ChatReply
from babelrec.pipeline.recommender import Recommender

pytestmark = pytest.mark.slow

HAN = re.compile(r"[\u4e00-\u9fff]")


class Talk:
    def __init__(self, rec: Recommender, session: str) -> None:
        self.agent = ChatAgent(rec, mode="rules")
        self.session = session

    def __call__(self, message: str) -> ChatReply:
        reply = self.agent.respond(self.session, message)
        assert reply.path == "rules"
        return reply


def categories(reply: ChatReply) -> set[str | None]:
    return {r.item.category for r in reply.recommendations}


def test_chinese_conversation(demo_recommender: Recommender) -> None:
    talk = Talk(demo_recommender, "flow-zh")
    first = talk("推荐一些关于科技的新闻")
    assert HAN.search(first.text) and first.language == "zh"
    assert len(first.recommendations) == 5 and categories(first) == {"technology"}
    second_id = first.recommendations[1].item.id

    like = talk("第二个那样的多一些")
    assert first.recommendations[1].item.title in like.text
    assert second_id in talk.agent.state("flow-zh").liked_items
    assert second_id not in {r.item.id for r in like.recommendations}

    no_sports = talk("不要体育")
    assert "sports" not in categories(no_sports) and "不要体育" in no_sports.text

    english = talk("只要英文的")
    assert english.recommendations
    assert {r.item.language for r in english.recommendations} == {"en"}

    talk("不限语言")
    korea = talk("来点韩国的")
    assert korea.recommendations and {r.item.region for r in korea.recommendations} == {"KR"}

    switched = talk("请用英文回答")
    assert switched.language == "en" and not HAN.search(switched.text)
    vague = talk("推荐点东西")
    assert vague.clarifying_question and vague.language == "en"


def test_english_conversation(demo_recommender: Recommender) -> None:
    talk = Talk(demo_recommender, "flow-en")
    first = talk("recommend some football news")
    assert first.language == "en" and first.text.startswith("Here are")
    football = [r for r in first.recommendations if "football" in r.item.tags]
    assert len(football) >= 3
    like = talk("more like the second one")
    assert like.recommendations and "like" in like.text
    no_sports = talk("no sports")
    assert no_sports.recommendations and "sports" not in categories(no_sports)
    korea = talk("something from Korea")
    assert {r.item.region for r in korea.recommendations} == {"KR"}
    only_en = talk("only English")
    assert only_en.recommendations == [] and "any language" in only_en.text  # none from Korea
    assert talk("answer in Spanish").language == "es"


def test_spanish_conversation(demo_recommender: Recommender) -> None:
    talk = Talk(demo_recommender, "flow-es")
    first = talk("recomiéndame noticias de tecnología")
    assert first.language == "es" and categories(first) == {"technology"}
    like = talk("más como el segundo")
    assert "parecidas" in like.text
    assert "sports" not in categories(talk("sin deportes"))
    english = talk("solo en inglés")
    assert english.recommendations
    assert {r.item.language for r in english.recommendations} == {"en"}
    talk("cualquier idioma")
    korea = talk("algo de Corea")
    assert korea.recommendations and {r.item.region for r in korea.recommendations} == {"KR"}
    explained = talk("¿por qué el primero?")
    assert explained.text.startswith("N.º 1") and not explained.recommendations
    assert talk("responde en inglés").language == "en"


def test_more_skips_what_was_shown(demo_recommender: Recommender) -> None:
    talk = Talk(demo_recommender, "flow-more")
    first = talk("推荐一些足球新闻")
    more = talk("再来一些")
    assert more.recommendations
    assert not {r.item.id for r in first.recommendations} & {
        r.item.id for r in more.recommendations
    }


def test_disliked_item_is_not_shown_again(demo_recommender: Recommender) -> None:
    talk = Talk(demo_recommender, "flow-dislike")
    first = talk("recommend some tech news")
    gone = first.recommendations[0].item.id
    after = talk("I don't like the first one")
    assert gone not in {r.item.id for r in after.recommendations}
    assert gone in talk.agent.state("flow-dislike").disliked_items

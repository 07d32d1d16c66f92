"""Conversations on the real demo store (default embedder), by rules only, in zh (Simplified and
Traditional script), en and es."""

from __future__ import annotations

import re

import pytest

from babelrec.agent.agent import ChatAgent
from babelrec.agent.state import ChatReply
from babelrec.i18n.chinese import ChineseScript, convert, detect_script
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


def in_script(reply: ChatReply, script: ChineseScript) -> bool:
    """The reply, and every explanation in it, is Chinese in `script` (titles in other languages
    may stand in it, so the check is the script's, not the share of Han)."""
    texts = [reply.text] + [r.explanation.text for r in reply.recommendations if r.explanation]
    return (
        reply.language == "zh"
        and detect_script(reply.text) == script
        and all(HAN.search(t) and detect_script(t) in (script, None) for t in texts)
    )


@pytest.mark.parametrize("script", ["Hans", "Hant"])
def test_chinese_conversation(demo_recommender: Recommender, script: ChineseScript) -> None:
    session = f"flow-zh-{script}"
    talk = Talk(demo_recommender, session)

    def say(message: str) -> ChatReply:  # the user writes every turn in their script
        return talk(convert(message, script))

    first = say("推荐一些关于科技的新闻")
    assert HAN.search(first.text) and in_script(first, script)
    assert detect_script(first.text) == script
    assert len(first.recommendations) == 5 and categories(first) == {"technology"}
    assert all(r.explanation for r in first.recommendations)
    second_id = first.recommendations[1].item.id

    like = say("第二个那样的多一些")
    assert convert(first.recommendations[1].item.title, script) in like.text
    assert second_id in talk.agent.state(session).liked_items
    assert second_id not in {r.item.id for r in like.recommendations}
    assert in_script(like, script)

    no_sports = say("不要体育")
    assert "sports" not in categories(no_sports) and convert("不要体育", script) in no_sports.text
    assert in_script(no_sports, script)

    english = say("只要英文的")  # the same characters in both scripts: the state remembers
    assert english.recommendations and in_script(english, script)
    assert {r.item.language for r in english.recommendations} == {"en"}
    assert talk.agent.state(session).script == script

    say("不限语言")
    korea = say("来点韩国的")
    assert korea.recommendations and {r.item.region for r in korea.recommendations} == {"KR"}
    assert in_script(korea, script)

    explained = say("为什么推荐第一个")
    assert explained.text.startswith(convert("第1条", script)) and in_script(explained, script)

    switched = say("请用英文回答")
    assert switched.language == "en" and not HAN.search(switched.text)
    vague = say("推荐点东西")
    assert vague.clarifying_question and vague.language == "en"


def test_the_script_changes_only_when_asked(demo_recommender: Recommender) -> None:
    talk = Talk(demo_recommender, "flow-zh-ask")
    first = talk("推荐一些体育新闻")
    assert in_script(first, "Hans") and categories(first) == {"sports"}
    assert in_script(talk("不要體育"), "Hans")  # typed in the other script: still Simplified
    switched = talk("/lang zh-TW")
    assert switched.text == "好的，接下來我用中文回答。"
    refined = talk("只要英文的")
    assert in_script(refined, "Hant")
    assert {r.item.language for r in refined.recommendations} == {"en"}
    assert talk("/reset").text == "好的，我們重新開始。你想看什麼內容？"  # the script stays
    asked = talk("请用简体中文回答")
    assert asked.text == "好的，接下来我用中文回答。" and not asked.recommendations
    assert talk.agent.state("flow-zh-ask").constraints.is_empty()  # not "only Chinese items"
    assert in_script(talk("推薦一些科技新聞"), "Hans")


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


@pytest.mark.parametrize(
    ("language", "topic", "explore", "own"),
    [
        ("zh", "推荐一些体育新闻", "多看看其他文化的", "只看国内的"),
        ("en", "recommend some sports news", "show me more from other cultures", "only local ones"),
        ("es", "recomiéndame noticias de deportes", "más de otros países", "solo de mi país"),
    ],
)
def test_openness_refinement_persists_in_the_session(
    demo_recommender: Recommender, language: str, topic: str, explore: str, own: str
) -> None:
    talk = Talk(demo_recommender, f"openness-{language}")
    first = talk(topic)
    assert first.language == language and first.recommendations
    opened = talk(explore)
    state = talk.agent.state(f"openness-{language}")
    assert state.openness is not None and state.openness >= 0.75
    assert "0.75" in opened.text  # the reply says what it changed
    foreign = [r for r in opened.recommendations if r.item.language != language]
    assert len(foreign) >= 2
    again = talk("technology" if language == "en" else "科技" if language == "zh" else "tecnología")
    assert talk.agent.state(f"openness-{language}").openness == state.openness  # kept
    assert again.recommendations
    closed = talk(own)
    assert talk.agent.state(f"openness-{language}").openness == 0.0
    assert closed.recommendations

    def own_share(reply: ChatReply) -> float:
        langs = [r.item.language for r in reply.recommendations]
        return langs.count(language) / len(langs)

    assert own_share(closed) >= 0.8 and own_share(closed) > own_share(again)

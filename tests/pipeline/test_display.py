"""Every pick carries a display block through the real pipeline (hashing embedder, real Chroma),
and explanations quote items only as the reader sees them."""

from __future__ import annotations

import json

import pytest

from babelrec.explain import Explainer
from babelrec.llm.fake import FakeLLM, default_answer
from babelrec.models import Item, Translation, UserProfile
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings

ITEMS = [
    Item(id="zh-chip", title="国产芯片工厂投产", language="zh", region="CN", category="technology"),
    Item(
        id="en-chip",
        title="New chip plant opens in Arizona",
        text="The plant makes chips. It opens next year. A third sentence.",
        language="en",
        region="US",
        category="technology",
        translations={
            "zh": Translation(title="亚利桑那新芯片厂开业", text="工厂生产芯片。明年投产。")
        },
    ),
    Item(
        id="ko-chip",
        title="반도체 수출 역대 최대",
        language="ko",
        region="KR",
        category="technology",
    ),
    Item(
        id="ar-chip",
        title="مصنع رقائق جديد في مصر",
        language="ar",
        region="EG",
        category="technology",
    ),
]


def recommender(settings: Settings) -> Recommender:
    rec = Recommender.from_settings(settings)
    rec.ingest_items(ITEMS)
    return rec


def test_every_pick_has_a_display_block(hashing_settings: Settings) -> None:
    rec = recommender(hashing_settings)
    result = rec.recommend(UserProfile(language="zh-TW", interests="芯片 科技"), k=4)
    shown = {r.item.id: r.display for r in result.items}
    assert all(d is not None for d in shown.values())
    assert shown["en-chip"] is not None and shown["en-chip"].source == "catalog"
    assert shown["en-chip"].title == "亞利桑那新芯片廠開業"
    assert shown["en-chip"].language == "zh-Hant"
    assert shown["zh-chip"] is not None and shown["zh-chip"].title == "國產芯片工廠投產"
    assert shown["ko-chip"] is not None and not shown["ko-chip"].in_user_language
    assert "display" in result.timings
    # the result's JSON (Python API, CLI --json and the service) carries the same blocks
    assert json.loads(result.model_dump_json())["items"][0]["display"]["language"]


def test_explanations_never_quote_an_unreadable_history_title(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = recommender(hashing_settings)
    seen: list[list[str]] = []
    original = Explainer.explain

    def spy(self: Explainer, user: UserProfile, items: object, history: object = (), *a: object):  # type: ignore[no-untyped-def]
        seen.append([h.title for h in history])  # type: ignore[attr-defined]
        return original(self, user, items, history, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(Explainer, "explain", spy)
    user = UserProfile(language="zh", interests="随便看看", history=["ko-chip", "en-chip"])
    result = rec.recommend(user, k=2)
    texts = [r.explanation.text for r in result.items if r.explanation is not None]
    assert texts
    for text in texts:
        assert "반도체" not in text and "Arizona" not in text
    # the explainer sees the readable history item by its catalog translation, and the other as
    # it is: it is still evidence (the reader's own history), only never quoted
    assert [sorted(t) for t in seen] == [["亚利桑那新芯片厂开业", "반도체 수출 역대 최대"]]
    evidence = [e for r in result.items if r.explanation for e in r.explanation.evidence]
    assert {e.item_id for e in evidence if e.kind == "history"} <= {"ko-chip", "en-chip"}


def test_an_llm_sentence_quoting_a_foreign_title_becomes_the_template(
    hashing_settings: Settings,
) -> None:
    settings = hashing_settings.with_overrides(llm={"backend": "fake", "explanations": True})
    rec = recommender(settings)
    answer = {
        "explanations": [
            {"id": "ar-chip", "text": "这篇讲芯片科技，推荐你看看来自埃及的新闻：مصنع رقائق"},
            {"id": "ko-chip", "text": "这篇讲芯片科技，来自韩国。"},
        ]
    }

    def respond(messages: object, schema: dict[str, object]) -> str:
        if "explanations" in schema.get("properties", {}):  # type: ignore[operator]
            return json.dumps(answer, ensure_ascii=False)
        return json.dumps(default_answer(schema), ensure_ascii=False)

    llm = FakeLLM(responder=respond)  # type: ignore[arg-type]
    user = UserProfile(language="zh", interests="芯片 科技")
    top = [ITEMS[3], ITEMS[2]]
    stage = rec.generative
    displays = stage.display_maker().displays(user, top, generate=False)
    got = stage.explain(llm, user, top, [], displays)
    explanations = dict(zip(["ar-chip", "ko-chip"], got, strict=True))
    for explanation in explanations.values():
        assert explanation is not None and "مصنع" not in explanation.text
    assert explanations["ko-chip"] is not None and explanations["ko-chip"].source == "llm"
    assert explanations["ar-chip"] is not None and explanations["ar-chip"].source == "template"

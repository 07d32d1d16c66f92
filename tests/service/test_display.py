"""The service's JSON carries each pick's display block: the recommend endpoint and the chat."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_recommend_json_has_display_blocks_in_the_readers_script(client: TestClient) -> None:
    body = {
        "user": {"language": "zh-TW", "interests": "足球"},
        "k": 10,
        "filters": {"languages": ["en"]},
    }
    payload = client.post("/v1/recommend", json=body).json()
    shown = {i["item"]["id"]: i["display"] for i in payload["items"]}
    assert shown["en-cup"]["source"] == "catalog"
    assert shown["en-cup"]["title"] == "足球：盃賽決賽對陣出爐"
    assert shown["en-cup"]["summary"] == "兩支球隊將在週六對決。球票已售罄。"
    assert shown["en-cup"]["language"] == "zh-Hant" and shown["en-cup"]["in_user_language"]
    untranslated = shown["en-foot"]
    assert untranslated["source"] == "original" and not untranslated["in_user_language"]
    assert untranslated["title"] == "Cup final ends in a penalty shootout"
    assert untranslated["language"] == "en" and not untranslated["fallback"]


def test_chat_replies_carry_display_blocks(client: TestClient) -> None:
    reply = client.post("/v1/chat/display-1", json={"message": "只要英文的足球新闻"}).json()
    picks = {r["item"]["id"]: r for r in reply["recommendations"]}
    assert picks and all(r["display"] for r in picks.values())
    assert picks["en-cup"]["display"]["title"] == "足球：杯赛决赛对阵出炉"
    position = next(r["rank"] for r in reply["recommendations"] if r["item"]["id"] == "en-cup")
    why = client.post("/v1/chat/display-1", json={"message": f"为什么推荐第{position}个"}).json()
    assert "足球：杯赛决赛对阵出炉" in why["text"], why["text"]
    assert "Football: the cup final" not in why["text"]

"""The HTTP API: the same results as the Python API, problem details, auth, limits."""

from __future__ import annotations

import json

import httpx
from fastapi.testclient import TestClient

from babelrec.pipeline.recommender import Recommender
from babelrec.service import create_app
from babelrec.settings import ServiceSettings, Settings


def test_recommend_returns_the_python_api_result(
    client: TestClient, service_settings: Settings
) -> None:
    body = {"text": "football", "language": "en", "k": 3, "explain": True}
    response = client.post("/v1/recommend", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    expected = Recommender.from_settings(service_settings).recommend("football", 3, language="en")
    assert [i["item"]["id"] for i in payload["items"]] == [r.item.id for r in expected.items]
    first = payload["items"][0]
    assert first["explanation"]["text"] and {"retrieval", "final"} <= set(first["scores"])


def test_recommend_takes_a_profile_and_filters(client: TestClient) -> None:
    body = {
        "user": {"language": "zh", "interests": "足球", "history": ["zh-foot"]},
        "k": 5,
        "filters": {"languages": ["en"]},
    }
    payload = client.post("/v1/recommend", json=body).json()
    assert payload["items"] and all(i["item"]["language"] == "en" for i in payload["items"])
    assert "zh-foot" not in [i["item"]["id"] for i in payload["items"]]


def test_bad_requests_are_problem_details_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/recommend", json={"text": "x", "k": 0})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and "k" in problem["detail"]
    unknown = client.post("/v1/recommend", json={"text": "x", "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"]
    broken = client.post(
        "/v1/recommend", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    neither = client.post("/v1/recommend", json={"k": 2})
    assert neither.status_code == 422 and "exactly one" in neither.json()["detail"]


def test_babelrec_errors_keep_the_cli_message(client: TestClient) -> None:
    response = client.post("/v1/recommend", json={"user": {"language": "en"}})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("cannot rank for this user")


def test_items_are_ingested_all_or_nothing_and_read_back(client: TestClient) -> None:
    good = {"id": "new-1", "title": "Rugby: a new season", "language": "en"}
    bad = {"id": "new-2", "title": ""}
    response = client.post("/v1/items", json={"items": [good, bad]})
    assert response.status_code == 422 and "items.1.title" in response.json()["detail"]
    assert client.get("/v1/items/new-1").status_code == 404  # nothing was written
    added = client.post("/v1/items", json={"items": [good]})
    assert added.status_code == 200 and added.json()["added"] == 1
    item = client.get("/v1/items/new-1").json()
    assert item["title"] == "Rugby: a new season"
    missing = client.get("/v1/items/nope")
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"


def test_chat_keeps_sessions_apart_and_streams(client: TestClient) -> None:
    first = client.post("/v1/chat/a", json={"message": "推荐一些足球新闻"}).json()
    assert first["language"] == "zh" and first["recommendations"]
    only_en = client.post("/v1/chat/a", json={"message": "只要英文的"}).json()
    assert {r["item"]["language"] for r in only_en["recommendations"]} == {"en"}
    other = client.post("/v1/chat/b", json={"message": "football news"}).json()
    assert other["constraints"]["languages"] == []
    with client.stream("POST", "/v1/chat/a/stream", json={"message": "换一批"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = [block for block in text.split("\n\n") if block.strip()]
    assert events[0].startswith("event: delta") and events[-1].startswith("event: reply")
    reply = json.loads(events[-1].split("data: ", 1)[1])
    deltas = "".join(
        json.loads(e.split("data: ", 1)[1])["text"] for e in events if e.startswith("event: delta")
    )
    assert deltas == reply["text"]


def test_bearer_key_is_required_and_compared(service_settings: Settings) -> None:
    service = ServiceSettings(api_key="s3cret-key")
    client = TestClient(create_app(Recommender.from_settings(service_settings), service))
    assert client.post("/v1/recommend", json={"text": "x"}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/v1/recommend", json={"text": "x"}, headers=wrong).status_code == 401
    right = {"Authorization": "Bearer s3cret-key"}
    assert client.post("/v1/recommend", json={"text": "football"}, headers=right).status_code == 200
    assert client.get("/healthz").status_code == 200  # health and page stay open
    assert "s3cret-key" not in repr(service)


def test_request_size_limit_and_cors(service_settings: Settings) -> None:
    service = ServiceSettings(max_body_bytes=2048, cors_origins=["http://127.0.0.1:9"])
    client = TestClient(create_app(Recommender.from_settings(service_settings), service))
    big = {"items": [{"id": f"i{n}", "title": "x" * 100} for n in range(50)]}
    response = client.post("/v1/items", json=big)
    assert response.status_code == 413 and response.json()["title"] == "Request too large"
    preflight = client.options(
        "/v1/recommend",
        headers={"Origin": "http://127.0.0.1:9", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "http://127.0.0.1:9"


def test_openapi_documents_every_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/recommend", "/v1/chat/{session_id}", "/v1/items", "/healthz"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert {"RecommendRequest", "RecommendationResult", "ChatReply", "Item"} <= set(schemas)


def test_unreachable_llm_gives_a_degraded_200(service_settings: Settings) -> None:
    rec = Recommender.from_settings(
        service_settings,
        llm={"backend": "openai", "url": "http://127.0.0.1:9/v1", "timeout": 2, "cache": False},
    )
    client = TestClient(create_app(rec))
    response = client.post("/v1/recommend", json={"text": "football", "k": 2})
    assert response.status_code == 200
    assert response.json()["degraded"] is True


def test_a_real_server_process_answers_on_loopback(served: str) -> None:
    health = httpx.get(f"{served}/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["items"] == 11
    page = httpx.get(f"{served}/", timeout=10)
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert httpx.get(f"{served}/static/app.js", timeout=10).status_code == 200
    result = httpx.post(f"{served}/v1/recommend", json={"text": "football", "k": 2}, timeout=30)
    assert result.status_code == 200 and len(result.json()["items"]) == 2

"""A tiny OpenAI-compatible chat-completions server on 127.0.0.1, for tests of what real
endpoints send back (partial UTF-8 in top_logprobs, error bodies, ...).

`handler(body) -> (status, json)` answers each POST to /v1/chat/completions; every request body
is kept in `requests`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


def completion(content: str, top: list[tuple[str, float]] | None = None) -> dict[str, Any]:
    """A chat.completion whose answer is `content`; `top` gives the first answer token's
    top_logprobs (after an opening quote token, as llama.cpp sends a JSON string answer)."""
    logprobs = None
    if top is not None:
        first = top[0][0] if top else content
        logprobs = {
            "content": [
                {"token": '"', "logprob": -0.01, "bytes": None, "top_logprobs": []},
                {
                    "token": first,
                    "logprob": top[0][1] if top else -0.1,
                    "bytes": None,
                    "top_logprobs": [
                        {"token": token, "logprob": value, "bytes": None} for token, value in top
                    ],
                },
            ]
        }
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
                "logprobs": logprobs,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }


@contextmanager
def chat_server(handler: Handler) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Serve `handler` on a free port of 127.0.0.1; yields (base URL, received bodies)."""
    requests: list[dict[str, Any]] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            body["_authorization"] = self.headers.get("Authorization", "")
            requests.append(body)
            status, payload = handler(body)
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests
    finally:
        server.shutdown()
        server.server_close()

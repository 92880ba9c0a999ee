"""A stand-in for an OpenAI-compatible chat-completions endpoint, for tests, the e2e and demos.

``POST /v1/chat/completions`` answers like the real protocol (``choices[0].message.content``,
``usage.total_tokens``) with a fixed summary built from the request; nothing is generated.
Every request is kept (headers and body) so a test can check what left the product. ``mode``
makes it misbehave the ways a real endpoint does: ``slow`` (answers after ``delay`` seconds),
``refuse`` (HTTP 400 with an OpenAI error), ``unauthorised`` (401), ``fail`` (500),
``malformed`` (200 with a body that is not a completion) and ``decline`` (the model's
``refusal``). Stdlib only: a threaded ``http.server`` on loopback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
SUMMARY = (
    "The merge request was rejected because its pipeline kept failing. "
    "Fix the failing tests and push, then assign the bot again."
)
MODES = ("ok", "slow", "refuse", "unauthorised", "fail", "malformed", "decline")


@dataclass
class ReceivedRequest:
    """One request as the endpoint saw it."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class ChatStandIn:
    """The server's behaviour (changeable while it runs) and what it received."""

    mode: str = "ok"
    delay: float = 5.0
    summary: str = SUMMARY
    received: list[ReceivedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: ReceivedRequest) -> tuple[int, dict[str, Any] | bytes]:
        """The status and body for ``request`` in the current mode."""
        with self.lock:
            self.received.append(request)
            mode = self.mode
        if request.path != CHAT_PATH:
            return 404, {"error": {"message": "Unknown path", "type": "invalid_request_error"}}
        if mode == "slow":
            time.sleep(self.delay)
        if mode == "refuse":
            return 400, {"error": {"message": "Bad request", "type": "invalid_request_error"}}
        if mode == "unauthorised":
            return 401, {"error": {"message": "Incorrect API key", "type": "invalid_api_key"}}
        if mode == "fail":
            return 500, {"error": {"message": "The server had an error", "type": "server_error"}}
        if mode == "malformed":
            return 200, b'{"choices": "not a list"'
        return 200, self._completion(request, declined=mode == "decline")

    def _completion(self, request: ReceivedRequest, *, declined: bool) -> dict[str, Any]:
        try:
            model = str(request.json().get("model", "stand-in"))
        except (ValueError, AttributeError):
            model = "stand-in"
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if declined else self.summary,
        }
        if declined:
            message["refusal"] = "I can't help with that."
        prompt = len(request.body) // 4
        return {
            "id": f"chatcmpl-{len(self.received)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": 30,
                "total_tokens": prompt + 30,
            },
        }


def _handler(stand_in: ChatStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            """``GET /v1/models``: the one model (readiness checks ask it)."""
            if self.path != "/v1/models":
                self._send(404, {"error": {"message": "Unknown path"}})
                return
            self._send(200, {"object": "list", "data": [{"id": "stand-in", "object": "model"}]})

        def _send(self, status: int, body: dict[str, Any] | bytes) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a time-out test)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = ReceivedRequest(
                path=self.path, headers=dict(self.headers.items()), body=self.rfile.read(length)
            )
            self._send(*stand_in.answer(request))

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests and the e2e read ``received`` instead

    return Handler


@dataclass(frozen=True)
class RunningChat:
    """A running stand-in: its base URL (``…/v1``) and its state."""

    base_url: str
    stand_in: ChatStandIn


@contextmanager
def run_chat_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningChat]:
    """Serve the stand-in on ``host:port`` (0: a free port) in a thread while the block runs."""
    stand_in = ChatStandIn()
    server = ThreadingHTTPServer((host, port), _handler(stand_in))
    server.daemon_threads = True
    # A short poll: ``shutdown`` waits for the loop to notice (0.5 s by default, per test).
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="chat-stand-in", daemon=True
    )
    thread.start()
    try:
        yield RunningChat(f"http://{host}:{server.server_address[1]}/v1", stand_in)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve_chat(host: str, port: int) -> None:
    """Serve the stand-in until interrupted (``gitlab-sandbox chat``)."""
    server = ThreadingHTTPServer((host, port), _handler(ChatStandIn()))
    server.daemon_threads = True
    try:
        server.serve_forever()
    finally:
        server.server_close()

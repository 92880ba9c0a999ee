"""Real local receivers for the alert channels: an SMTP server (aiosmtpd) and an HTTP server
that records the JSON posted to it (a Slack-compatible incoming webhook)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpInbox:
    """What the local SMTP server received."""

    port: int = 0
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    password: str = "smtp-password-never-shown"

    def authenticate(
        self, _server: Any, _session: Any, _envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        accepted = isinstance(auth_data, LoginPassword) and auth_data.password == (
            self.password.encode()
        )
        if accepted:
            self.logins.append(f"{mechanism}:{auth_data.login.decode()}")
        return AuthResult(success=accepted)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


@contextmanager
def smtp_server() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox(port=free_port())
    # AUTH over plain text on loopback only: the test server has no certificate.
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    """What the local webhook received; ``answer`` is the status it replies with."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    answer: int = 200

    def texts(self) -> list[str]:
        return [str(post["text"]) for post in self.posts]


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    received = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.posts.append(json.loads(self.rfile.read(length)))
            self.send_response(received.answer)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret-part"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

"""Real local servers that receive alerts: a JSON webhook (stdlib) and SMTP (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Webhook:
    """A listening webhook: the JSON bodies it received; ``hang`` makes it never answer."""

    port: int
    bodies: list[dict[str, Any]] = field(default_factory=list)
    hang: bool = False
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """The apprise URL for it."""
        return f"json://127.0.0.1:{self.port}/hook"


@contextmanager
def webhook(hang: bool = False) -> Iterator[Webhook]:
    """Serve a webhook on a free loopback port until the block ends."""
    hook = Webhook(0, hang=hang)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            hook.bodies.append(body)
            if hook.hang:
                hook.release.wait(30)
                return
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    """An SMTP server on a free loopback port; yields the port and the messages received."""
    from aiosmtpd.controller import Controller

    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that takes connections and never says a word (an SMTP server that
    hangs before its greeting); yields the port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # connections complete in the backlog, never accepted
        yield listener.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait until ``condition()`` holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        pause.wait(0.02)

"""A server (or a proxy in front of it) that quotes the request's key headers back in its error
answers: the secret must reach nothing the desk writes.

alpaca-py raises the answer's text as an ``APIError``; the desk turned it into an order's
``error``, the cycle's line and the alerts' words as it came. The test puts a loopback proxy in
front of the sandbox that answers every ``POST /v2/orders`` with a 403 quoting the secret it was
sent, runs the real ``tui-trader live paper`` through it, and looks for the secret in its output,
its database and its log folder.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, pumping, sandbox_env
from tests.integration.cli_helpers import run_cli
from tui_trader.sandbox.testing import SandboxHandle


class _Echoing(BaseHTTPRequestHandler):
    """Forwards to the sandbox; answers an order with a 403 that quotes the secret sent."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    orders: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "POST" and self.path.split("?")[0] == "/v2/orders":
            sent = self.headers.get("APCA-API-SECRET-KEY", "")
            self.orders.append(sent)
            said = {"code": 40310000, "message": f"forbidden: request had secret={sent}"}
            self._answer(403, json.dumps(said).encode())
            return
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request(self.command, self.path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        self._answer(answer.status, data, answer.getheader("Content-Type") or "text/plain")

    do_GET = do_POST = do_DELETE = do_PATCH = _forward


@pytest.fixture
def echoing(sandbox: SandboxHandle) -> Iterator[tuple[str, list[str]]]:
    """The proxy's URL and the secrets it quoted back (one per order)."""
    orders: list[str] = []
    handler = type("Handler", (_Echoing,), {"upstream": sandbox.base_url, "orders": orders})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", orders
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_quoting_the_secret_is_written_nowhere(
    sandbox: SandboxHandle, echoing: tuple[str, list[str]], tmp_path: Path
) -> None:
    """Orders refused with the secret quoted back: the session runs on, and neither its output
    nor its database nor its logs hold the secret (the refusal's words are kept, masked)."""
    url, orders = echoing
    env = sandbox_env(sandbox) | {"APCA_API_BASE_URL": url, "APCA_API_DATA_URL": url}
    db = tmp_path / "desk.db"
    with pumping(sandbox):
        done = run_cli(
            tmp_path, "live", "paper", "--db", str(db), "--iterations", "12", "--every", "0.1",
            "--ignore-market-hours", "--weights", "trend", *FAST_BUDGET, env=env, timeout=120,
        )  # fmt: skip
    assert orders and orders[0] == sandbox.secret, "no order reached the proxy: nothing tested"
    assert done.returncode == 0, done.stderr
    secret = sandbox.secret
    written = {"stdout": done.stdout, "stderr": done.stderr}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            written[str(path)] = path.read_bytes().decode("utf-8", "replace")
    leaked = [where for where, text in written.items() if secret in text]
    assert leaked == [], leaked
    assert "forbidden: request had secret=****" in "".join(written.values())

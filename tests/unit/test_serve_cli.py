"""``tui-trader serve``: the link it prints, and the token every request needs."""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli, start_cli


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_url(proc: subprocess.Popen[str], port: int, timeout: float = 60) -> str:
    """The link the server prints, once it listens (fails after ``timeout``)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"serve ended early: {proc.stderr.read() if proc.stderr else ''}")
        found = re.search(rf"(http://127\.0\.0\.1:{port}/\?token=\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("serve printed no link in time")


def _get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str]]:
    """Status and headers of a GET (errors included)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_serve_prints_a_tokened_link_and_refuses_requests_without_it(tmp_path: Path) -> None:
    """The acceptance check: GET / without the token is 403, with it 200 (and a cookie that
    then lets the page's assets through); the websocket and assets are guarded too."""
    port = free_port()
    proc = start_cli(tmp_path, "serve", "--port", str(port), "--db", str(tmp_path / "d.db"))
    try:
        url = read_url(proc, port)
        token = url.split("token=", 1)[1]
        assert len(token) >= 40
        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/")[0] == 403
        assert _get(f"{base}/?token=wrong{token}")[0] == 403
        assert _get(f"{base}/ws")[0] == 403
        assert _get(f"{base}/static/js/textual.js")[0] == 403
        status, headers = _get(url)
        assert status == 200
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
        assert _get(f"{base}/static/js/textual.js", cookie=cookie)[0] == 200
        assert _get(f"{base}/", cookie="tui_trader_token=guess")[0] == 403
    finally:
        proc.terminate()
        proc.wait(30)
    out = proc.stdout.read() if proc.stdout else ""
    assert token not in out  # printed once, never in an access log line


def test_a_cookie_that_is_not_utf8_is_refused_not_an_error() -> None:
    """Any client can send raw bytes in a header (``curl -H $'Cookie: tui_trader_token=\\xff'``):
    the guard's comparison raised on them and the request was answered 500 Internal Server
    Error; it is a request without the token, 403 like any other."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from tui_trader.web.guarded_server import token_guard

    async def desk(request: web.Request) -> web.Response:
        return web.Response(text="the desk")

    async def status_of(head: bytes) -> bytes:
        app = web.Application(middlewares=[token_guard("the-token")])
        app.router.add_get("/", desk)
        async with TestServer(app) as server:
            reader, writer = await asyncio.open_connection(server.host, server.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n" + head + b"Connection: close\r\n\r\n")
            await writer.drain()
            answer = await reader.read()
            writer.close()
            return answer.split(b"\r\n", 1)[0]

    assert asyncio.run(status_of(b"Cookie: tui_trader_token=\xff\xfe\r\n")).endswith(
        b" 403 Forbidden"
    )
    assert asyncio.run(status_of(b"Cookie: tui_trader_token=the-token\r\n")).endswith(b" 200 OK")


def test_a_second_server_gets_another_token(tmp_path: Path) -> None:
    """Tokens are random per run (secrets.token_urlsafe)."""
    from tui_trader.web.guarded_server import new_token

    assert new_token() != new_token()


@pytest.mark.parametrize("text", ["0", "-1", "nan", "61", "", "1_0"])
def test_the_hidden_desk_quit_seconds_takes_only_a_number_of_seconds_up_to_a_minute(
    text: str,
) -> None:
    """``--desk-quit-seconds`` (hidden; tests give a frozen desk SIGTERM and SIGKILL sooner)
    refuses what is not 0 < seconds <= 60: argparse turns that into one line and exit 2."""
    from tui_trader.cli.serve import _quit_seconds

    assert _quit_seconds("1.5") == 1.5 and _quit_seconds("60") == 60
    with pytest.raises(argparse.ArgumentTypeError):
        _quit_seconds(text)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_serving_beyond_loopback_needs_allow_remote(tmp_path: Path, host: str) -> None:
    """Without --allow-remote: one line, exit 2, nothing listens."""
    done = run_cli(tmp_path, "serve", "--host", host, "--port", str(free_port()))
    assert done.returncode == 2
    assert "--allow-remote" in done.stderr and done.stderr.count("\n") == 1


def test_allow_remote_warns_that_the_kill_switch_is_behind_the_token(tmp_path: Path) -> None:
    """With --allow-remote the warning comes before the link."""
    port = free_port()
    proc = start_cli(
        tmp_path, "serve", "--host", "0.0.0.0", "--allow-remote", "--port", str(port),
        "--enable-live", "--db", str(tmp_path / "d.db"),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "WARNING" in first and "kill switch" in first and "LIVE TRADING" in first
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_websocket_address_without_an_upgrade_is_a_bad_request() -> None:
    """``curl`` of ``/ws`` with the token (no websocket upgrade) was answered 500 Internal
    Server Error: closing a websocket that never opened raised. It is the client's mistake,
    400, and the page says what ``/ws`` is for; no desk is started for it."""
    import asyncio

    from aiohttp import ClientSession
    from aiohttp.test_utils import TestServer

    from tui_trader.web.guarded_server import GuardedServer

    async def answer() -> tuple[int, str, int]:
        server = GuardedServer("true", "127.0.0.1", 0, "the-token", print, print)
        async with (
            TestServer(await server._make_app()) as test,
            ClientSession() as http,
            http.get(test.make_url("/ws?token=the-token")) as response,
        ):
            return response.status, await response.text(), len(server._desks)

    status, text, desks = asyncio.run(answer())
    assert status == 400 and "websocket" in text and desks == 0


@pytest.mark.parametrize("allow_remote", [False, True])
def test_a_host_that_is_no_address_is_said_to_be_none(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    allow_remote: bool,
) -> None:
    """``--host nan`` was refused as "reachable from other machines" (with ``--allow-remote``,
    after a warning that anyone could reach the desk). The name is looked up as the server
    would; here the lookup finds nothing (no network in tests: the resolver is replaced)."""
    from tui_trader.cli import main

    def nowhere(host, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    argv = ["serve", "--host", "nan", "--port", "1", "--db", str(tmp_path / "d.db")]
    with pytest.raises(SystemExit) as ended:
        main(argv + (["--allow-remote"] if allow_remote else []))
    out, err = capsys.readouterr()
    assert ended.value.code == 2 and out == ""
    assert err.splitlines() == [
        "tui-trader: error: --host 'nan' is not an address: no IP address, and no name this "
        "machine can resolve (127.0.0.1 by default)"
    ]

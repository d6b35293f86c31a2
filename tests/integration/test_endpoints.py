"""Where keys go: the live host refused for paper (and the other way round) by parsed host name,
credentials checked before they reach a header, and keys and URL from one source only.

Each case runs the real command in a child process with a listener that counts connections
standing in for the URL (or for the HTTPS proxy, which every request to Alpaca's hosts would go
through): a refusal must come before any connection.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli_helpers import cli_env

SECRET = "zz-Distinctive-SECRET-4e1b9"
KEY = "PKTESTKEY123"
PAPER = "https://paper-api.alpaca.markets"


class Trap:
    """A loopback listener that accepts and counts connections, keeps them open and answers
    nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.settimeout(0.5)
            with contextlib.suppress(OSError):
                self.received += conn.recv(65536)
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


def live(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``tui-trader live ARGS`` with ``env`` on top of a clean test environment."""
    full = cli_env(tmp_path)
    for name in list(full):
        if name.startswith("APCA_") or name.lower().endswith("_proxy"):
            full.pop(name)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "tui_trader", "live", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=tmp_path,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


LIVE_SPELLINGS = [
    "https://api.alpaca.markets:443",
    "https://API.alpaca.markets",
    "https://api.alpaca.markets.",
    "https://Api.Alpaca.Markets.:8443/v2",
    "https://someone@api.alpaca.markets/",
    "http://api.alpaca.markets",
]


@pytest.mark.parametrize("url", LIVE_SPELLINGS)
def test_live_paper_refuses_the_live_host_however_spelled(
    tmp_path: Path, trap: Trap, url: str
) -> None:
    """Every spelling of Alpaca's live host is refused for paper, exit 2, no connection made
    (requests would reach it through the HTTPS proxy, which is the trap)."""
    env = {
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": url,
        "HTTPS_PROXY": trap.url,
        "HTTP_PROXY": trap.url,
    }
    out = live(tmp_path, env, "paper", "--iterations", "1", "--timeout", "2")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "refusing to paper-trade" in out.stderr and "LIVE host" in out.stderr
    assert len(out.stderr.splitlines()) == 1 and out.stdout == ""
    assert trap.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://api.alpaca.markets\\@paper-api.alpaca.markets",  # the paper host to the check
        "https://api%2Ealpaca.markets",  # not Alpaca to the check
    ],
)
def test_live_paper_never_reaches_the_live_host_by_a_url_the_check_reads_otherwise(
    tmp_path: Path, trap: Trap, url: str
) -> None:
    """A URL that Python's URL parser (the check) and urllib3 (requests, which alpaca-py uses)
    read as two hosts: ``live paper`` took it as paper or as a sandbox and sent the keys to
    Alpaca's LIVE host (the proxy trap saw ``CONNECT api.alpaca.markets:443``): with live keys,
    real orders with neither --enable-live nor the phrase. Now refused before any connection,
    in one line naming the variable."""
    env = {
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": url,
        "HTTPS_PROXY": trap.url,
        "HTTP_PROXY": trap.url,
    }
    out = live(tmp_path, env, "paper", "--iterations", "1", "--timeout", "2")
    assert b"alpaca.markets" not in trap.received and trap.connections == 0, trap.received
    assert out.returncode == 2, out.stdout + out.stderr
    assert len(out.stderr.splitlines()) == 1 and out.stdout == ""
    assert "APCA_API_BASE_URL is read as two different hosts" in out.stderr, out.stderr
    assert SECRET not in out.stderr


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("APCA_API_STREAM_URL", "wss://API.alpaca.markets./stream"),
        ("APCA_API_DATA_URL", "https://api.alpaca.markets:443"),
    ],
)
def test_live_paper_refuses_a_stream_or_data_url_on_the_live_host(
    tmp_path: Path, trap: Trap, name: str, url: str
) -> None:
    """The paper trading URL with a live stream or data URL is refused too."""
    env = {
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": "https://paper-api.alpaca.markets",
        name: url,
        "HTTPS_PROXY": trap.url,
    }
    out = live(tmp_path, env, "paper", "--iterations", "1", "--timeout", "2")
    assert out.returncode == 2 and name in out.stderr and "LIVE host" in out.stderr
    assert trap.connections == 0


@pytest.mark.parametrize(
    "url", ["https://PAPER-API.alpaca.markets:443/v2", "https://paper-api.alpaca.markets."]
)
def test_live_trading_refuses_the_paper_host_however_spelled(
    tmp_path: Path, trap: Trap, url: str
) -> None:
    """``live trading`` refuses the paper host in any spelling, before the warning or a
    connection."""
    env = {
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": url,
        "HTTPS_PROXY": trap.url,
    }
    out = live(tmp_path, env, "trading", "--enable-live", "--iterations", "1")
    assert out.returncode == 2 and "PAPER host" in out.stderr, out.stderr
    assert "LIVE TRADING WARNING" not in out.stdout
    assert trap.connections == 0


@pytest.mark.parametrize(
    "secret",
    [
        SECRET + "\r",
        SECRET + "\n",
        "\t" + SECRET,
        SECRET[:8] + " " + SECRET[8:],
        SECRET + "\x1b",
        SECRET + "é",
    ],
)
def test_a_secret_with_whitespace_or_control_characters_is_refused_unseen(
    tmp_path: Path, trap: Trap, secret: str
) -> None:
    """A secret holding CR, LF, a tab, a space or NUL: one line naming the variable, exit 2,
    no connection, and the secret in no output and no file (logs, crash.log, database)."""
    env = {"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": secret, "APCA_API_BASE_URL": trap.url}
    out = live(tmp_path, env, "paper", "--iterations", "1", "--timeout", "2", "--db", "x.db")
    assert out.returncode == 2, out.stderr
    assert "APCA_API_SECRET_KEY (from environment)" in out.stderr
    assert len(out.stderr.splitlines()) == 1
    visible = SECRET[:8]
    assert visible not in out.stdout + out.stderr
    for path in files_under(tmp_path):
        assert visible.encode() not in path.read_bytes(), path
    assert trap.connections == 0


def test_an_overlong_or_blank_key_id_is_refused(tmp_path: Path, trap: Trap) -> None:
    """A key id past any real length (a pasted file) is refused without being shown."""
    env = {
        "APCA_API_KEY_ID": "PK" + "Q" * 5000,
        "APCA_API_SECRET_KEY": SECRET,
        "APCA_API_BASE_URL": trap.url,
    }
    out = live(tmp_path, env, "paper", "--iterations", "1")
    assert out.returncode == 2 and "APCA_API_KEY_ID" in out.stderr
    assert "QQQQQQQQ" not in out.stderr and trap.connections == 0


def test_keys_from_the_environment_never_go_to_a_url_from_dotenv(
    tmp_path: Path, trap: Trap
) -> None:
    """Keys exported, a .env holding only a URL: refused (exit 2), naming both sources and no
    value; the listener at the .env's URL receives nothing."""
    (tmp_path / ".env").write_text(f"APCA_API_BASE_URL={trap.url}\n")
    env = {"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET}
    started = time.monotonic()
    out = live(tmp_path, env, "paper", "--iterations", "1", "--timeout", "2")
    assert out.returncode == 2, out.stdout + out.stderr
    line = out.stderr.strip()
    assert "from the environment" in line and str(tmp_path / ".env") in line
    assert "APCA_API_BASE_URL" in line and "APCA_API_KEY_ID" in line
    assert SECRET not in line and KEY not in line and trap.url not in line
    assert trap.connections == 0 and SECRET.encode() not in trap.received
    assert time.monotonic() - started < 30


def test_a_url_from_the_environment_never_gets_keys_from_dotenv(tmp_path: Path, trap: Trap) -> None:
    """The other way round: keys in .env, the URL exported: refused as well."""
    (tmp_path / ".env").write_text(f"APCA_API_KEY_ID={KEY}\nAPCA_API_SECRET_KEY={SECRET}\n")
    out = live(tmp_path, {"APCA_API_BASE_URL": trap.url}, "status", "--timeout", "2")
    assert out.returncode == 2 and "two places" in out.stderr
    assert trap.connections == 0


def test_unreachable_url_is_one_plain_line_within_the_timeout(tmp_path: Path, trap: Trap) -> None:
    """A server that accepts and never answers: 'cannot reach Alpaca' on stderr within about
    --timeout (not five attempts of it), exit 2, no urllib3 text."""
    env = {"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET, "APCA_API_BASE_URL": trap.url}
    started = time.monotonic()
    out = live(tmp_path, env, "paper", "--iterations", "1", "--timeout", "3", "--db", "x.db")
    took = time.monotonic() - started
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == "" and len(out.stderr.splitlines()) == 1
    assert f"cannot reach Alpaca at {trap.url} (paper)" in out.stderr
    for noise in ("HTTPConnectionPool", "Max retries", "urllib3", "Caused by"):
        assert noise not in out.stderr
    # one 3 s deadline plus start-up and imports (slow on a loaded machine: 15.5 s was seen at
    # load 7-11); five attempts cannot take less than their five deadlines and the backoff
    # between them, over 21 s, however quiet the machine
    assert took < 19, took


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xcc\x9a\x00\xff" * 64, " is not a text file (UTF-8): not a settings file"),
        (
            f'APCA_API_KEY_ID="{KEY}\nAPCA_API_SECRET_KEY={SECRET}\n'.encode(),
            ": line 1 cannot be read (an unclosed quote?); write each setting as NAME=value "
            "on its own line",
        ),
        (  # two files joined, the second saved with a byte order mark: "not set ... in .env"
            f"APCA_API_KEY_ID={KEY}\n\ufeffAPCA_API_SECRET_KEY={SECRET}\n".encode(),
            ": line 2: APCA_API_SECRET_KEY is written with an invisible character in or before "
            "its name (a byte order mark, as when two files are joined): retype the name (the "
            "value is not shown)",
        ),
    ],
    ids=["binary", "unclosed-quote", "bom-before-a-name"],
)
def test_a_dotenv_that_cannot_be_read_is_one_line_naming_the_file(
    tmp_path: Path, trap: Trap, content: bytes, said: str
) -> None:
    """Binary junk in .env was a UnicodeDecodeError crash (exit 1, crash.log); a key line with
    an unclosed quote was skipped, and the line said the credentials were not set at all; so
    was a key written after a byte order mark."""
    (tmp_path / ".env").write_bytes(content)
    out = live(tmp_path, {}, "paper", "--iterations", "1", "--timeout", "2")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr == f"tui-trader: error: {tmp_path / '.env'}{said}\n"
    assert SECRET not in out.stderr and trap.connections == 0


@pytest.mark.parametrize("name", ["APCA_API_KEY_ID", "APCA_API_BASE_URL"])
def test_a_dotenv_setting_a_key_twice_differently_is_refused(
    tmp_path: Path, trap: Trap, name: str
) -> None:
    """Two different key ids (or base URLs) in one .env, say paper keys and then live ones
    pasted below: the last line won, silently, and the session connected with it. Which
    account trades is in doubt, so the file is refused naming both lines, no value shown, and
    nothing connects."""
    first = {"APCA_API_KEY_ID": "PKFIRSTKEY999", "APCA_API_BASE_URL": PAPER}[name]
    lines = [
        f"APCA_API_KEY_ID={KEY}",
        f"APCA_API_SECRET_KEY={SECRET}",
        f"APCA_API_BASE_URL={trap.url}",
        "# pasted later:",
    ]
    lines.insert(0, f"{name}={first}")
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    out = live(tmp_path, {}, "paper", "--iterations", "1", "--timeout", "2")
    assert out.returncode == 2, out.stdout + out.stderr
    line = 2 if name == "APCA_API_KEY_ID" else 4
    assert out.stderr == (
        f"tui-trader: error: {tmp_path / '.env'}: {name} is set twice, differently (lines 1 "
        f"and {line}): keep one (the values are not shown)\n"
    )
    assert trap.connections == 0 and KEY not in out.stderr


URL_PASSWORD = "zz-Proxy-PASSWORD-77c1"


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("APCA_API_BASE_URL", "http://desk:{pw}@127.0.0.1:{port}"),
        ("APCA_API_DATA_URL", "http://desk:{pw}@127.0.0.1:{port}"),
        ("APCA_API_STREAM_URL", "ws://desk:{pw}@127.0.0.1:{port}/stream"),
        ("APCA_API_DATA_STREAM_URL", "ws://desk:{pw}@127.0.0.1:{port}/v2/iex"),
    ],
)
def test_a_password_in_an_alpaca_url_is_refused_and_never_shown(
    tmp_path: Path, trap: Trap, name: str, url: str
) -> None:
    """``APCA_API_BASE_URL=http://user:PASSWORD@proxy`` was printed whole ("Connected to:
    http://user:PASSWORD@...", "cannot reach Alpaca at http://user:PASSWORD@...") and stored
    as the session's endpoint in the database. A password in any of the four URLs is now
    refused before any connection, naming the variable, never the value."""
    env = {"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET, "APCA_API_BASE_URL": trap.url}
    env[name] = url.format(pw=URL_PASSWORD, port=trap.port)
    db = tmp_path / "desk.db"
    out = live(tmp_path, env, "paper", "--iterations", "1", "--timeout", "2", "--db", str(db))
    assert out.returncode == 2, out.stdout + out.stderr
    assert len(out.stderr.splitlines()) == 1 and out.stdout == ""
    assert f"{name} (from environment) carries a password" in out.stderr
    assert trap.connections == 0
    for path in files_under(tmp_path):
        assert URL_PASSWORD.encode() not in path.read_bytes(), path
    assert URL_PASSWORD not in out.stderr

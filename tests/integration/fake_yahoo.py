"""A stand-in for Yahoo Finance on 127.0.0.1, for yfinance pointed at it by a redirecting session.

It answers the three things yfinance asks for: the cookie page (``/``), the crumb
(``/v1/test/getcrumb``) and the chart (``/v8/finance/chart/SYMBOL``) with Yahoo's JSON shape,
built from the daily bars in ``tests/data/yahoo_daily_2025q1.json``. Every request is recorded
so that tests can assert what was (and was not) asked for. ``SilentServer`` accepts connections
and never answers, to test our deadline.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "yahoo_daily_2025q1.json"
NEW_YORK = ZoneInfo("America/New_York")


def session_open_ts(day: str) -> int:
    """Unix seconds of 09:30 New York on an ISO date (how Yahoo stamps daily bars)."""
    return int(datetime.combine(date.fromisoformat(day), time(9, 30), tzinfo=NEW_YORK).timestamp())


def stamp(when: str | int) -> int:
    """Unix seconds of a row's time: a daily row's ISO date (its open) or an intraday row's own."""
    return when if isinstance(when, int) else session_open_ts(when)


def intraday(rows: list[list], minutes: int) -> tuple[list[list], list[list[dict]]]:
    """Intraday bars walking from each daily row's open to its close, and Yahoo's trading periods.

    Each regular session of 09:30-16:00 New York (the fixture holds no early-close day) is cut
    into bars of ``minutes``; prices move in a straight line from the day's open to its close.
    """
    out: list[list] = []
    periods: list[list[dict]] = []
    n = 390 // minutes
    for day, o, _h, _l, c, adj, v in rows:
        start = session_open_ts(day)
        periods.append(
            [{"timezone": "EST", "start": start, "end": start + 390 * 60, "gmtoffset": -18000}]
        )
        for k in range(n):
            a = o + (c - o) * k / n
            b = o + (c - o) * (k + 1) / n
            factor = adj / c
            out.append(
                [
                    start + k * minutes * 60,
                    a,
                    max(a, b) + 0.01,
                    min(a, b) - 0.01,
                    b,
                    b * factor,
                    v // n,
                ]
            )
    return out, periods


def redate(rows: list[list]) -> list[list]:
    """The same bars on the sessions that end with the latest one completed before now."""
    from tui_trader.market.calendar import us_equity_calendar

    calendar = us_equity_calendar()
    latest = calendar.last_completed(datetime.now(NEW_YORK))
    assert latest is not None
    days = calendar.sessions_back(latest.day, len(rows))
    return [[d.day.isoformat(), *r[1:]] for d, r in zip(days, rows, strict=True)]


class FakeYahoo:
    """A threaded HTTP server serving the fixture's bars as Yahoo chart JSON."""

    def __init__(self, recent: bool = False) -> None:
        """Load the fixture and start serving on a free port.

        ``recent`` moves the fixture's bars onto the latest completed sessions before now, for
        tests that run the command line on the wall clock.
        """
        self.bars: dict[str, list[list]] = json.loads(FIXTURE.read_text())["bars"]
        if recent:
            self.bars = {s: redate(rows) for s, rows in self.bars.items()}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.corrupt: set[tuple[str, str]] = set()
        """(symbol, date) pairs served with a high below the close."""
        self.zones: dict[str, str] = {}
        """Symbols listed abroad, by their exchange's time zone: their daily bars are the same
        dates, stamped at 09:00 there (a Tokyo session's bar is 00:00 UTC), as Yahoo does."""
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The origin to hand to the adapter."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def chart_requests(self) -> list[dict[str, str]]:
        """Query parameters of the chart requests that asked for a date range."""
        with self._lock:
            return [q for p, q in self.requests if "/chart/" in p and "period1" in q]

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def chart(self, symbol: str, query: dict[str, str]) -> dict:
        """Yahoo's chart JSON for one symbol and range (``period1 <= t < period2``)."""
        rows = self.bars.get(symbol, [])
        interval = query.get("interval", "1d")
        periods: list[list[dict]] = []
        if interval != "1d" and "period1" in query:
            rows, periods = intraday(rows, int(interval[:-1]))
        if "period1" in query:
            lo, hi = int(query["period1"]), int(query["period2"])
            rows = [r for r in rows if lo <= stamp(r[0]) < hi]
            periods = [p for p in periods if lo < p[0]["end"] and p[0]["start"] < hi]
        else:  # range=1d: yfinance asks this to learn the exchange's time zone
            rows = rows[-1:]
        meta = {
            "currency": "USD",
            "symbol": symbol,
            "exchangeName": "PCX",
            "instrumentType": "ETF",
            "exchangeTimezoneName": "America/New_York",
            "timezone": "EST",
            "gmtoffset": -18000,
            "priceHint": 2,
            "dataGranularity": query.get("interval", "1d"),
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
        }
        if periods:
            meta["tradingPeriods"] = periods
        if not rows:
            return {
                "chart": {
                    "result": [{"meta": meta, "indicators": {"quote": [{}]}}],
                    "error": None,
                }
            }
        highs = [r[2] if (symbol, r[0]) not in self.corrupt else r[4] - 1.0 for r in rows]
        stamps = [stamp(r[0]) for r in rows]
        zone = self.zones.get(symbol)
        if zone is not None and interval == "1d":
            local = ZoneInfo(zone)
            offset = datetime.now(local).utcoffset() or timedelta(0)
            meta.update(
                exchangeTimezoneName=zone, timezone=zone, gmtoffset=int(offset.total_seconds())
            )
            stamps = [
                int(datetime.combine(date.fromisoformat(r[0]), time(9), tzinfo=local).timestamp())
                for r in rows
            ]
        result = {
            "meta": meta,
            "timestamp": stamps,
            "indicators": {
                "quote": [
                    {
                        "open": [r[1] for r in rows],
                        "high": highs,
                        "low": [r[3] for r in rows],
                        "close": [r[4] for r in rows],
                        "volume": [r[6] for r in rows],
                    }
                ],
                "adjclose": [{"adjclose": [r[5] for r in rows]}],
            },
        }
        return {"chart": {"result": [result], "error": None}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """A request handler class bound to this server's state."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            """Routes Yahoo's paths."""

            def do_GET(self) -> None:
                """Answer a GET like Yahoo would."""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fake.requests.append((parts.path, query))
                if parts.path.startswith("/v8/finance/chart/"):
                    symbol = parts.path.rsplit("/", 1)[-1]
                    self._send(200, "application/json", json.dumps(fake.chart(symbol, query)))
                elif parts.path == "/v1/test/getcrumb":
                    self._send(200, "text/plain", "fakecrumb")
                elif parts.path == "/":
                    self._send(200, "text/html", "<p>ok</p>")
                else:
                    self._send(404, "application/json", '{"error": "not found"}')

            def _send(self, status: int, kind: str, body: str) -> None:
                """Write a complete response."""
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Keep the test output clean."""

        return Handler


class SilentServer:
    """Accepts TCP connections and never answers (a hung Yahoo)."""

    def __init__(self) -> None:
        """Listen on a free port and hold every connection open."""
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The origin to hand to the adapter."""
        host, port = self._sock.getsockname()
        return f"http://{host}:{port}"

    def _accept(self) -> None:
        """Accept until closed, keeping the sockets so the clients wait."""
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        """Drop every held connection and stop listening (the stuck client then errors out)."""
        self._closed.set()
        for conn in self._held:
            conn.close()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._sock.close()


def closed_port_url() -> str:
    """An origin where nothing listens: connections are refused at once (offline)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"

"""textual-serve's server with a token in front of every route, page, assets and websocket.

textual-serve has no authentication: whoever reaches its port gets a desk, with its kill switch
and, with ``--enable-live``, real money. Here every request needs the random token, either as
``?token=...`` (the printed link; it then sets an HttpOnly, SameSite=Strict cookie so the page's
assets and websocket carry it) or as that cookie. Anything else is 403. The token is compared in
constant time, printed once, and kept out of the access log.

Each connection's desk is a ``DeskService`` (the page is told when the desk ends unasked), and
stopping ``serve`` asks every desk to quit at once: aiohttp waited 15 s for each open page's
websocket before it let go.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from textual_serve.server import Server

from tui_trader.web.desk_service import QUIT_SECONDS, DeskService

COOKIE = "tui_trader_token"
"""The cookie that carries the token after the first, tokened request."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DESKS_QUIT_MARGIN = 5.0
"""How much longer than a desk's own quit (SIGTERM after ``QUIT_SECONDS``, SIGKILL after twice
that) a stop waits for the desks before the server closes anyway: 25 s at the default 10 s."""


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_guard(token: str) -> Any:
    """An aiohttp middleware that refuses (403) any request without ``token``."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Let the request through with the token in its query or cookie; else 403."""
        given = request.query.get("token")
        if given is not None and secrets.compare_digest(_raw(given), token.encode()):
            response = await handler(request)
            if not response.prepared:  # a websocket answer is already on the wire
                response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response
        cookie = request.cookies.get(COOKIE)
        if cookie is not None and secrets.compare_digest(_raw(cookie), token.encode()):
            return await handler(request)
        return web.Response(
            status=403,
            text="403 Forbidden: open the link that 'tui-trader serve' printed (it has the "
            "token).\n",
        )

    return guard


def _raw(text: str) -> bytes:
    """A request's text as the bytes that came: aiohttp keeps a header's bytes that are not
    UTF-8 as surrogates, which ``str.encode`` refused (a cookie of such bytes was answered
    500, an error inside the guard, instead of 403)."""
    return text.encode("utf-8", "surrogateescape")


class GuardedServer(Server):
    """textual-serve's ``Server`` with ``token_guard`` and our own start-up line."""

    def __init__(
        self,
        command: str,
        host: str,
        port: int,
        token: str,
        announce: Callable[[str], None],
        report: Callable[[str], None],
        quit_seconds: float = QUIT_SECONDS,
    ) -> None:
        """Serve ``command`` (one desk process per browser connection) on host:port;
        ``report`` prints what a desk writes to its standard error; ``quit_seconds``: how long
        a desk asked to quit may take before SIGTERM (and again before SIGKILL)."""
        public_host = f"[{host}]" if ":" in host else host
        super().__init__(
            command,
            host=host,
            port=port,
            title="tui-trader",
            public_url=f"http://{public_host}:{port}",
        )
        self.token = token
        self.announce = announce
        self.report = report
        self.quit_seconds = quit_seconds
        self._desks: set[asyncio.Task] = set()
        """The websocket handlers running, each with its desk process."""

    @property
    def url(self) -> str:
        """The link to open: the page's address with the token."""
        return f"{self.public_url}/?token={self.token}"

    def initialize_logging(self) -> None:
        """textual-serve's logging, without the access log (its lines would hold the token)."""
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def _make_app(self) -> web.Application:
        """textual-serve's application with the token guard in front of every route."""
        app = await super()._make_app()
        app.middlewares.append(token_guard(self.token))
        return app

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """textual-serve's handler with a ``DeskService``, kept in ``_desks`` so that a stop
        can end it. A request that is no websocket upgrade (``curl`` with the token) is a
        400 that says so: closing the websocket it never opened answered 500."""
        websocket = web.WebSocketResponse(heartbeat=15)
        if not websocket.can_prepare(request).ok:
            return web.Response(
                status=400,
                text="400 Bad Request: /ws is the desk page's websocket; open the link "
                "'tui-trader serve' printed in a browser.\n",
            )
        width = _size(request.query.get("width"), 80)
        height = _size(request.query.get("height"), 24)
        task = asyncio.current_task()
        assert task is not None
        self._desks.add(task)
        desk: DeskService | None = None
        try:
            await websocket.prepare(request)
            desk = DeskService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
                report=self.report,
                quit_seconds=self.quit_seconds,
            )
            await desk.start(width, height)
            await self._process_messages(websocket, desk)
        except asyncio.CancelledError:  # serve stops
            pass
        except Exception as exc:  # a page's bad message ends its own connection only
            logging.getLogger("textual-serve").warning(
                "a page's connection ended: %s", type(exc).__name__
            )
        finally:
            self._desks.discard(task)
            if desk is not None:
                await desk.stop()
            await websocket.close()
        return websocket

    async def _end_desks(self) -> None:
        """Ask every desk to quit and close its page, waiting a bounded time."""
        running = list(self._desks)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=2 * self.quit_seconds + DESKS_QUIT_MARGIN)

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: textual-serve prints its banner here, before the port is even bound."""

    async def _serve(self) -> None:
        """Bind, say where the desk is (only now is the link usable), run until stopped."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner = web.AppRunner(await self._make_app(), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
            self.announce(self.url)
            await stop.wait()
        finally:
            await self._end_desks()
            await runner.cleanup()

    def serve(self, debug: bool = False) -> None:
        """Run until SIGINT or SIGTERM."""
        self.debug = debug
        self.initialize_logging()
        asyncio.run(self._serve())


def _size(text: str | None, default: int) -> int:
    """A terminal width or height from the page's query (``default`` when absent or bad)."""
    try:
        return max(1, min(int(text or default), 1000))
    except ValueError:
        return default

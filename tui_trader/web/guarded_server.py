"""textual-serve's server with a token in front of every route, page, assets and websocket.

textual-serve has no authentication: whoever reaches its port gets a desk, with its kill switch
and, with ``--enable-live``, real money. Here every request needs the random token, either as
``?token=...`` (the printed link; it then sets an HttpOnly, SameSite=Strict cookie so the page's
assets and websocket carry it) or as that cookie. Anything else is 403. The token is compared in
constant time, printed once, and kept out of the access log.
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

COOKIE = "tui_trader_token"
"""The cookie that carries the token after the first, tokened request."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_guard(token: str) -> Any:
    """An aiohttp middleware that refuses (403) any request without ``token``."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Let the request through with the token in its query or cookie; else 403."""
        given = request.query.get("token")
        if given is not None and secrets.compare_digest(given.encode(), token.encode()):
            response = await handler(request)
            if not response.prepared:  # a websocket answer is already on the wire
                response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response
        cookie = request.cookies.get(COOKIE)
        if cookie is not None and secrets.compare_digest(cookie.encode(), token.encode()):
            return await handler(request)
        return web.Response(
            status=403,
            text="403 Forbidden: open the link that 'tui-trader serve' printed (it has the "
            "token).\n",
        )

    return guard


class GuardedServer(Server):
    """textual-serve's ``Server`` with ``token_guard`` and our own start-up line."""

    def __init__(
        self, command: str, host: str, port: int, token: str, announce: Callable[[str], None]
    ) -> None:
        """Serve ``command`` (one desk process per browser connection) on host:port."""
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
            await runner.cleanup()  # closes the websockets: each desk process is stopped

    def serve(self, debug: bool = False) -> None:
        """Run until SIGINT or SIGTERM."""
        self.debug = debug
        self.initialize_logging()
        asyncio.run(self._serve())

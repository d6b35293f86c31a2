"""The sandbox's one server: REST and both websocket streams on one port, as Alpaca serves them.

An aiohttp application runs in a thread of its own (one asyncio loop) on 127.0.0.1. A websocket
upgrade on ``/stream`` or ``/v2/{iex,sip,delayed_sip,test}`` goes to the streams
(``streams.StreamHub``); every other request goes through ``rest.RestGate`` (keys, rate limit,
fault switches) to the route table, whose handlers are plain functions (a ``Request`` in, a
status and a JSON body out) run on a small thread pool, since they take the engine's lock.
Keep-alive, many parallel clients (a listen backlog of ``LISTEN_BACKLOG``) and a clean stop that
cuts hanging requests and open streams come with the framework. Nothing logs headers: they carry
the keys (aiohttp's access log is off).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from aiohttp import web

from tui_trader.sandbox.rest import RestGate

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

log = logging.getLogger("tui_trader.sandbox")
LISTEN_BACKLOG = 256
"""Connections the kernel queues before ``accept``, so a burst of parallel clients is queued."""
HANDLER_THREADS = 16
"""Threads that run the (synchronous) route handlers."""
START_TIMEOUT = 10.0
SHUTDOWN_GRACE = 1.0
"""Seconds in-flight requests get to finish when the sandbox stops; then they are cancelled."""


class SandboxServer:
    """REST, ``/admin`` and both streams on one port, in a thread of its own."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        """Serve ``sandbox`` on ``host:port`` (0 picks a free port) once started."""
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.executor = ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="sandbox-rest")
        self.gate = RestGate(sandbox, self)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-server", daemon=True)

    @property
    def hanging(self) -> int:
        """Requests held unanswered by the ``hang_rate`` fault right now."""
        return self.gate.hanging

    @property
    def delayed(self) -> int:
        """Requests waiting out the ``latency`` fault right now."""
        return self.gate.delayed

    @property
    def trickling(self) -> int:
        """Answers being trickled by the ``trickle`` fault right now."""
        return self.gate.trickling

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> int:
        """Start serving; returns the port. Raises ``OSError`` when the port is taken."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._error is not None:
            self._thread.join(timeout=START_TIMEOUT)
            self.executor.shutdown(wait=False)
            if isinstance(self._error, OSError):
                raise self._error
            raise RuntimeError(f"the sandbox's server did not start: {self._error}")
        return self.port

    def stop(self) -> None:
        """Stop serving: hanging requests are released, streams and connections cut."""
        loop, stopping = self.loop, self.stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        self._thread.join(timeout=10)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        """The thread: one asyncio loop for the server's whole life."""
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        """Serve until told to stop."""
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        app = web.Application(client_max_size=1 << 20, handler_args={"tcp_keepalive": True})
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE
        )
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, self.host, self.port, backlog=LISTEN_BACKLOG, reuse_address=True
            )
            await site.start()
            server = site._server  # aiohttp exposes the bound port only here
            assert isinstance(server, asyncio.Server)
            self.port = int(server.sockets[0].getsockname()[1])
            self.sandbox.streams.attach(self.loop)
            self._ready.set()
            await self.stopping.wait()
            self.sandbox.streams.attach(None)
            await self.sandbox.streams.close_all()
        finally:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """One request: a stream upgrade, or REST through the gate."""
        path = "/" + request.path.strip("/")
        kind = self.sandbox.streams.stream_kind(path)
        if kind is not None and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.sandbox.streams.handle(request, kind)
        return await self.gate.serve(request)

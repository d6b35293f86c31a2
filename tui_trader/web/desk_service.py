"""One browser connection's desk process, which tells the page when it ends unasked.

textual-serve's ``AppService`` relays the desk's screen to the page and the page's keys to the
desk. When the desk never started (a settings file broken after ``serve`` began) or died (a
crash, the OOM killer), the page kept textual-serve's splash, or the last frame of the
dashboard, for ever: nothing said the desk was gone, and its kill switch key went nowhere. The
desk's error reached only the terminal of ``serve``, printed twice. Here its standard error is
printed there once, and the page is cleared to say that the desk ended, why, and what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

from textual_serve.app_service import AppService

PRELUDE = b"__GANGLION__\n"
"""The line a Textual app prints first under textual-serve's web driver."""
PRELUDE_LINES = 10
"""Lines read looking for the prelude before the desk is taken as not started (as upstream)."""
PLAIN_TERMINAL = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l"  # no mouse reports
    b"\x1b[?1049l\x1b[?25h\x1b[2J\x1b[H"  # the main screen, the cursor, cleared, at home
)
"""What turns the page's terminal back from the desk's full screen into plain lines."""
QUIT_SECONDS = 10.0
"""How long a desk asked to quit may take before it is sent SIGTERM."""
SHOWN_ERROR_LINES = 12
"""The last lines of the desk's standard error shown on the page."""


class DeskService(AppService):
    """``AppService`` whose page is told when the desk process ends without being asked to."""

    def __init__(
        self, *args, report: Callable[[str], None], quit_seconds: float = QUIT_SECONDS, **kwargs
    ) -> None:
        """``report``: where the desk's standard error goes (the terminal of ``serve``);
        ``quit_seconds``: how long ``stop`` waits before SIGTERM, and again before SIGKILL."""
        super().__init__(*args, **kwargs)
        self.report = report
        self.quit_seconds = quit_seconds
        self.quit_asked = False
        """The desk said it exits (Ctrl+Q), or the page or ``serve`` asked it to quit."""

    async def on_meta(self, data: bytes) -> None:
        """Note the desk's own ``exit`` before textual-serve closes the page's websocket."""
        if json.loads(data).get("type") == "exit":
            self.quit_asked = True
        await super().on_meta(data)

    async def send_bytes(self, data: bytes) -> bool:
        """A key from the page, dropped once the desk has ended (its pipe is closed)."""
        return not self._ended() and await super().send_bytes(data)

    async def send_meta(self, data: dict[str, str | int | bool | None]) -> bool:
        """A resize or focus from the page, dropped once the desk has ended."""
        return not self._ended() and await super().send_meta(data)

    def _ended(self) -> bool:
        """Whether the desk process has ended."""
        return self._process is None or self._process.returncode is not None

    async def stop(self) -> None:
        """Ask the desk to quit (the page went away, or ``serve`` stops) and wait for it; a
        desk that has not quit within ``quit_seconds`` is sent SIGTERM, then SIGKILL
        (upstream waited for ever, and ``serve`` with it)."""
        self.quit_asked = True
        task, process = self._task, self._process
        if task is None or process is None:
            return
        self._task = None
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        await self.send_meta({"type": "quit"})
        done, _ = await asyncio.wait([task], timeout=self.quit_seconds)
        if not done and process.returncode is None:
            process.terminate()
            done, _ = await asyncio.wait([task], timeout=self.quit_seconds)
            if not done and process.returncode is None:
                process.kill()
        await task

    async def run(self) -> None:
        """Relay the desk's screen until its output ends; then report how it ended."""
        process = self._process
        assert process is not None and process.stdout is not None and process.stderr is not None
        errors = asyncio.create_task(process.stderr.read())
        started = ended = False
        try:
            for _ in range(PRELUDE_LINES):
                line = await process.stdout.readline()
                started, ended = line == PRELUDE, not line
                if started or ended:
                    break
            if started:
                await self._relay(process.stdout)
        except (asyncio.IncompleteReadError, ConnectionResetError, asyncio.CancelledError):
            pass
        except ValueError:  # a line past the stream's limit: not a desk's prelude
            pass
        if not (started or ended) and process.returncode is None:
            process.terminate()  # no prelude: whatever it is, it is no desk the page can show
        from tui_trader.security.redact import redact

        text = redact((await errors).decode("utf-8", "replace")).rstrip()
        code = await process.wait()
        if text:
            self.report(text)
        if not self.quit_asked:
            await self._tell_page(started, code, text)

    async def _relay(self, stdout: asyncio.StreamReader) -> None:
        """textual-serve's packets (data, meta, packed) until the desk's output ends."""
        handlers = {b"D": self.on_data, b"M": self.on_meta, b"P": self.on_packed}
        while True:
            kind = await stdout.readexactly(1)
            size = int.from_bytes(await stdout.readexactly(4), "big")
            payload = await stdout.readexactly(size)
            handler = handlers.get(kind)
            if handler is not None:
                await handler(payload)

    async def _tell_page(self, started: bool, code: int, text: str) -> None:
        """Clear the page's terminal and say that the desk ended, why, and what to do."""
        if started:
            head = f"The desk ended unexpectedly (exit code {code}); its session, if one was "
            head += "running, stopped with it: 'tui-trader fleet' shows it."
        else:
            head = f"The desk did not start (exit code {code})."
        shown = text.splitlines()[-SHOWN_ERROR_LINES:]
        tail = "Nothing runs behind this page now: reload it to open a new desk."
        lines = [head, "", *shown, "", tail] if shown else [head, "", tail]
        message = "\r\n".join(lines) + "\r\n"
        with contextlib.suppress(ConnectionError, RuntimeError):  # the page went away
            await self.remote_write_bytes(PLAIN_TERMINAL + message.encode("utf-8"))

"""A door on 127.0.0.1 in front of a PostgreSQL server, for tests of a store that goes silent.

Open, it passes bytes both ways; silent, it takes every new connection and never answers (a
server that accepts connections and says nothing: a frozen machine's kernel still accepting, a
stuck proxy), and the connections it had passed on are closed. A tiny asyncio server on a
thread of its own, so the test's own event loop (a Textual app's) never carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator


class StoreDoor:
    """A TCP door to ``127.0.0.1:target``: ``port`` is the address the store is given."""

    def __init__(self, target: int) -> None:
        """Listen on a free port of 127.0.0.1, open (passing bytes to ``target``)."""
        self.target = target
        self.silent = False
        self.accepted = 0
        """Connections taken while silent (each one is a try that got no answer)."""
        self._passed: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        self.port = int(listening.getsockname()[1])
        self._server: asyncio.Server | None = None
        listens = threading.Event()

        def serve() -> None:
            """The door's own loop: listen, then serve until closed."""
            starting = asyncio.start_server(self._take, sock=listening)
            self._server = self._loop.run_until_complete(starting)
            listens.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        listens.wait(10)

    async def _take(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client: never answered while silent, else passed on to the server."""
        if self.silent:
            self.accepted += 1
            with contextlib.suppress(OSError):
                while await reader.read(65536):  # what it says is swallowed, never answered
                    pass
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._passed.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until either side closes."""
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
        self._passed.discard(writer)

    def go_silent(self) -> None:
        """New connections get no answer; those passed on so far are closed."""

        def close_passed() -> None:
            self.silent = True
            for writer in list(self._passed):
                writer.close()

        self._call(close_passed)

    def open(self) -> None:
        """New connections are passed on again."""
        self._call(lambda: setattr(self, "silent", False))

    def _call(self, action: Callable[[], object]) -> None:
        """Run ``action`` on the door's loop and wait for it."""
        done = threading.Event()

        def run() -> None:
            try:
                action()
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(10)

    def close(self) -> None:
        """Stop listening and end the loop."""

        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._passed):
                writer.close()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextlib.contextmanager
def store_door(target: int) -> Iterator[StoreDoor]:
    """A ``StoreDoor`` to ``target``, closed at the end."""
    door = StoreDoor(target)
    try:
        yield door
    finally:
        door.close()

"""A stop signal stops a command whose output pipe's reader has quit (``... 2>&1 | head -3``,
a log shipper that died).

The relay thread printed "SIGTERM: stopping ..." through rich, which answers a broken pipe with
``SystemExit``: the thread ended before it asked the command to stop, and ``sandbox`` (or a
session) waited for ever, until a second signal or SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.cli_helpers import cli_env

DEADLINE = 30.0
"""Seconds the sandbox has to start, and then to stop after SIGTERM (a loaded machine)."""


def test_sandbox_stops_on_sigterm_after_its_reader_quit(tmp_path: Path) -> None:
    read, write = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", "sandbox", "--port", "0"],
        stdout=write,
        stderr=write,
        stdin=subprocess.DEVNULL,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    os.close(write)
    try:
        with os.fdopen(read, "rb") as reader:  # read until it says it listens, then quit
            started = time.monotonic()
            seen = b""
            while b"Press Ctrl+C to stop.\n" not in seen:
                assert time.monotonic() - started < DEADLINE, seen.decode(errors="replace")
                chunk = reader.read1(4096)
                assert chunk, f"the sandbox ended before it listened: {seen!r}"
                seen += chunk
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=DEADLINE)  # raised TimeoutExpired before: it never stopped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, f"exit {code}"
    assert not list(tmp_path.rglob("crash.log")), "a crash was logged"

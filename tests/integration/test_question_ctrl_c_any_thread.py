"""Ctrl+C at a question ends it whichever of the process's threads the signal lands on.

Ctrl+C reaches the process, not a thread: the kernel hands it to any thread that does not block
it, and ``data clear`` asks its question with polars loaded, whose out-of-core cleanup thread
blocks nothing. A signal taken by that thread set Python's flag but left the main thread asleep
in the question's ``select``: the question ignored Ctrl+C for good (a hang; only kill ended it).
Loaded full runs of ``test_data_cli::test_ctrl_c_at_the_clear_question_ends_it`` hung twice so.
Now the question also waits on Python's wakeup file, which the signal writes to from any thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from pathlib import Path

from tests.integration.cli_helpers import read_until, start_cli_on_terminal, stuck_at


def _other_thread_taking(pid: int, sig: int) -> int:
    """A thread of ``pid`` other than its main one that does not block ``sig``."""
    for name in sorted(os.listdir(f"/proc/{pid}/task")):
        tid = int(name)
        if tid == pid:
            continue
        with open(f"/proc/{pid}/task/{name}/status") as status:
            [blocked] = [line.split()[1] for line in status if line.startswith("SigBlk:")]
        if not int(blocked, 16) & (1 << (sig - 1)):
            return tid
    raise AssertionError(f"no thread but the main one takes signal {sig}")


def test_ctrl_c_taken_by_another_thread_still_ends_the_clear_question(tmp_path: Path) -> None:
    """The SIGINT sent to polars' thread (what the kernel may pick): 'interrupted', exit 130,
    nothing deleted."""
    cache = tmp_path / "cache"
    (cache / "1d").mkdir(parents=True)
    kept = cache / "1d" / "SPY.parquet"
    kept.write_bytes(b"bars")
    proc, master = start_cli_on_terminal(tmp_path, "data", "clear", "--cache-dir", str(cache))
    try:
        read_until(proc, b"to delete them: ")
        tid = _other_thread_taking(proc.pid, signal.SIGINT)
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.tgkill(proc.pid, tid, signal.SIGINT) == 0, os.strerror(ctypes.get_errno())
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"Ctrl+C did not end the question: {stuck_at(proc)}") from None
    finally:
        os.close(master)
    assert proc.returncode == 130 and err.decode().strip() == "interrupted"
    assert kept.exists()

"""``tui-trader sandbox`` as a user runs it: URLs and keys printed, Ctrl+C stops it cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def sandbox_command(*args: str) -> list[str]:
    """The command line for ``tui-trader sandbox`` from this checkout."""
    return [sys.executable, "-m", "tui_trader", "sandbox", *args]


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start the sandbox command; returns the process and its banner (up to "Ctrl+C")."""
    proc = subprocess.Popen(
        sandbox_command("--port", "0", *args),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = []
    for _ in range(20):  # the banner is a handful of lines; EOF ends it early
        line = proc.stdout.readline()
        lines.append(line)
        if "Ctrl+C" in line or not line:
            break
    return proc, "".join(lines)


def test_prints_urls_and_keys_serves_and_stops_on_ctrl_c():
    proc, text = start("--speed", "0", "--faults", "latency=0")
    try:
        export = re.search(
            r"export APCA_API_KEY_ID=(\S+) APCA_API_SECRET_KEY=(\S+) APCA_API_BASE_URL=(\S+)", text
        )
        assert export, text
        key, secret, base = export.groups()
        port = base.rsplit(":", 1)[1]  # one origin: both streams on the REST port
        assert f"ws://127.0.0.1:{port}/stream" in text
        assert f"ws://127.0.0.1:{port}/v2/iex" in text
        account = requests.get(
            base + "/v2/account",
            headers={"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret},
            timeout=5,
        )
        assert account.status_code == 200 and account.json()["cash"] == "100000"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err and "sandbox stopped" in err


def test_a_chosen_secret_is_never_printed():
    proc, banner = start("--secret", "s3cr3t-value")
    try:
        assert "Ctrl+C" in banner
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "s3cr3t-value" not in banner + out + err
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("--faults", "latency"),
        ("--faults", "error_rate=3"),
        ("--hours", "night"),
        ("--speed", "-1"),
        ("--port", "70000"),
        ("--symbols", "spy,,qqq"),
        ("--interval", "7x"),
    ],
)
def test_bad_options_exit_2_with_one_line(args):
    done = subprocess.run(
        sandbox_command(*args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("tui-trader: error:")


def test_a_port_in_use_is_one_line_and_exit_2():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            sandbox_command("--port", port),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=20,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot listen" in done.stderr


def test_more_symbols_than_the_sandbox_simulates_is_one_line_and_exit_2():
    """--symbols takes at most 100: 101 (a pasted universe) is refused at once, saying the cap and
    the count. Before, any number was taken: 3,000 symbols took 900 MB and had not started after
    20 s. 100 are taken."""
    names = [f"S{i:03d}" for i in range(101)]
    done = subprocess.run(
        sandbox_command("--port", "0", "--symbols", ",".join(names)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "at most 100 symbols, got 101" in done.stderr
    from tui_trader.cli.sandbox import sandbox_symbols

    assert len(sandbox_symbols(",".join(names[:100]))) == 100


def test_an_output_that_cannot_be_written_is_said_at_once_and_exits_2():
    """``tui-trader sandbox > /dev/full`` (a log file on a full disk): the address and keys the
    sandbox is for cannot be printed, so it says so at once, in one line, stops serving and exits
    2, as every other command does. Before, it served on with nothing said (on a picked port no
    one could learn) and reported the failed write only when stopped with Ctrl+C."""
    with open(os.devnull.replace("null", "full"), "w") as full:
        done = subprocess.run(
            sandbox_command("--port", "0", "--speed", "0"),
            cwd=ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,  # before: no end until Ctrl+C (the run timed out here)
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        "tui-trader: error: cannot write to standard output (No space left on device): "
    )
    assert "sandbox stopped" in lines[0]

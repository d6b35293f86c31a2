"""The Alpaca key's minute spent by another desk between a ``live paper`` start and its header.

The start waits for a busy minute (``session.key_minute``), but the header the desk prints once
started (the account's equity, cash, buying power) reads the account again. Seen in the
``campaign32`` campaign (run sq7005: three desks on one key, the sandbox's ``rate_hold``): a
desk whose start had just ended met the minute spent at that read; the read held back
(``Throttled``: the last requests are kept for orders and cancels), nothing caught it there,
and the desk ended with ``tui-trader: error: Throttled: ...`` and a traceback in ``crash.log``,
exit 1, its session row left ``running`` (its start had written it) and its finish never run.
Now the header says the account could not be read now and the session runs, as a cycle
skipped on a spent minute does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.alpaca_helpers import pumping, sandbox_env
from tests.integration.cli_helpers import cli_env
from tests.reliability.harness import live_args, query
from tui_trader.sandbox.testing import running_sandbox

LEFT = 5
"""Requests the neighbour leaves of the key's minute: fewer than the reserve kept for orders
and cancels, so the desk's reads after it hold back for the rest of the minute."""

SPENT_AFTER_START = f"""
import os
import sys

import requests

from tui_trader.cli import live_alpaca
from tui_trader.sandbox.testing import AdminClient

build = live_alpaca.build_alpaca_session


def spent_after_the_start(*args, **kwargs):
    session = build(*args, **kwargs)
    key, secret = os.environ["APCA_API_KEY_ID"], os.environ["APCA_API_SECRET_KEY"]
    headers = {{"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}}
    base = os.environ["APCA_API_BASE_URL"]
    admin = AdminClient(base, key, secret)
    admin.set_faults(rate_hold=1)  # however slowly the spending goes, nothing ages out
    with requests.Session() as other:  # another desk on the key spends its minute
        left = "X-RateLimit-Remaining"
        while int(other.get(base + "/v2/clock", headers=headers, timeout=5).headers[left]) > {LEFT}:
            pass
    admin.set_faults(rate_hold=0)
    session.broker.positions()  # the start's last read: its answer tells the desk what is left
    return session


live_alpaca.build_alpaca_session = spent_after_the_start
from tui_trader.cli import main

sys.exit(main(sys.argv[1:]))
"""
"""A ``tui-trader`` whose start is followed, before the header, by another program spending
the key's minute down to ``LEFT`` requests."""


def test_a_minute_spent_right_after_the_start_does_not_end_the_desk(tmp_path: Path) -> None:
    with running_sandbox(faults="rate_limit=200") as sb, pumping(sb):
        env = cli_env(tmp_path) | sandbox_env(sb)
        db = tmp_path / "h.db"
        args = live_args(db, 1, budget=())
        done = subprocess.run(
            [sys.executable, "-c", SPENT_AFTER_START, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=240,
            stdin=subprocess.DEVNULL,
        )
    text = done.stdout + done.stderr
    assert "Throttled" not in done.stderr, done.stderr
    assert "Traceback" not in text
    assert "Account: not read now" in done.stdout, done.stdout
    [(status,)] = query(db, "SELECT status FROM sessions")
    assert status != "running", "the session row was left running"

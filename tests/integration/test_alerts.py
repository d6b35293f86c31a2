"""Alerts reach real local servers (a JSON webhook, an SMTP server) and never hold a cycle up."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.cli_helpers import run_cli
from tests.integration.ops_servers import silent_server, smtp_server, wait_for, webhook
from tui_trader.cli import main
from tui_trader.ops.alerts import (
    AlertNotifier,
    AlertPolicy,
    AlertURLError,
    check_alert_url,
    deliver,
    redact,
)
from tui_trader.ops.session_ops import OpsSettings, attach_ops
from tui_trader.risk.limits import RiskLimits


def _mailto(port: int) -> str:
    """An apprise email URL for the local SMTP server, without TLS or a login."""
    return f"mailto://127.0.0.1:{port}?from=desk@example.com&to=ops@example.com&mode=insecure"


def test_paper_drawdown_halt_is_posted_to_the_webhook(tmp_path: Path, capsys) -> None:
    """The issue's command: a drawdown halt arrives as JSON at the webhook, then the end."""
    with webhook() as hook:
        code = main(
            [
                "paper",
                "--iterations",
                "60",
                "--max-drawdown",
                "0.3",
                "--alert",
                hook.url,
                "--db",
                str(tmp_path / "a.db"),
            ]
        )
        wait_for(lambda: len(hook.bodies) >= 2)
    assert code == 0
    halt = hook.bodies[0]
    assert halt["title"] == "tui-trader LOCAL: drawdown_kill_switch"
    assert "halted trading" in halt["message"] and "(limit 0.30)" in halt["message"]
    assert "equity: " in halt["message"] and "account: local:" in halt["message"]
    assert halt["type"] == "failure"
    assert "session completed" in hook.bodies[-1]["message"]


def test_halt_alert_arrives_as_email_at_a_local_smtp_server(tmp_path: Path) -> None:
    """The same halt, sent with a mailto:// URL, is received by an SMTP server on 127.0.0.1."""
    with smtp_server() as (port, received):
        code = main(
            [
                "paper",
                "--iterations",
                "60",
                "--max-drawdown",
                "0.3",
                "--alert",
                _mailto(port),
                "--db",
                str(tmp_path / "a.db"),
            ]
        )
        wait_for(lambda: len(received) >= 2)
    assert code == 0
    assert "Subject: tui-trader LOCAL: drawdown_kill_switch" in received[0]
    assert "To: ops@example.com" in received[0]
    assert "drawdown_kill_switch" in received[0] and "halted trading" in received[0]


def test_alert_test_command_says_delivered_or_not(tmp_path: Path, capsys) -> None:
    """``alert test`` reports delivery per URL: 0 when it arrived, 1 when nothing listens."""
    with smtp_server() as (port, received):
        assert main(["alert", "test", "--alert", _mailto(port)]) == 0
        wait_for(lambda: len(received) == 1)
    assert "test alert" in received[0]
    assert "delivered: mailto://127.0.0.1" in capsys.readouterr().out
    with webhook() as hook:
        dead = f"json://127.0.0.1:{hook.port}/hook"
    code = main(["alert", "test", "--alert", dead, "--alert-deadline", "5"])
    assert code == 1
    assert f"not delivered: json://127.0.0.1:{hook.port}/hook" in capsys.readouterr().out


def test_alert_test_ends_at_its_deadline_when_the_smtp_server_never_answers(
    tmp_path: Path,
) -> None:
    """An SMTP server that takes the connection and never greets: ``alert test`` says so at
    its 1 s deadline and exits then, not when the socket's 40 s timeout (``cto``) ends."""
    with silent_server() as port:
        url = (
            f"mailto://127.0.0.1:{port}?from=desk@example.com&to=ops@example.com"
            "&mode=insecure&cto=40"
        )
        started = time.monotonic()
        result = run_cli(tmp_path, "alert", "test", "--alert", url, "--alert-deadline", "1")
        took = time.monotonic() - started
    assert result.returncode == 1
    assert f"not delivered: mailto://127.0.0.1:{port}" in result.stdout
    assert "no answer within 1 s" in result.stdout
    assert took < 20, f"alert test took {took:.1f} s after a 1 s deadline"


def test_a_hanging_webhook_never_holds_up_the_cycles(db_path: Path, clock) -> None:
    """While the only delivery hangs, the session's cycles go on; when it fails (here: the
    server drops the connection) it is retried once, then recorded and printed."""
    lines: list[str] = []
    session = make_session(db_path, limits=RiskLimits(max_drawdown_pct=0.3), clock=clock)
    with webhook(hang=True) as hook:
        settings = OpsSettings(
            alerts=(hook.url,), policy=AlertPolicy(deadline=30.0, retries=1, backoff=0.1)
        )
        ops = attach_ops(session, settings, db_path, lines.append)
        halted_at = None
        while halted_at is None:
            session.run_iteration()
            if session.risk.state.halted:
                halted_at = session.iteration
        wait_for(lambda: len(hook.bodies) == 1)  # the halt reached the server, which hangs
        for _ in range(30):
            session.run_iteration()
        assert session.iteration == halted_at + 30
        assert (ops.notifier.delivered, ops.notifier.failed) == (0, 0)  # still in flight
        hook.release.set()  # the server now hangs up without answering
        wait_for(lambda: ops.notifier.failed == 1)
        session.finish("completed")
        ops.close()
    assert ops.notifier.failed == 2  # then the end's (no retry once the session is closing)
    assert any("alert not delivered to json://127.0.0.1" in line for line in lines)
    with sqlite3.connect(db_path) as conn:
        sql = "SELECT event, target, attempts, error FROM alert_deliveries ORDER BY id"
        rows = conn.execute(sql).fetchall()
    assert [r[0] for r in rows] == ["drawdown_kill_switch", "session_end"]
    assert rows[0][1] == f"json://127.0.0.1:{hook.port}/hook"
    assert rows[0][2] == 2 and rows[0][3] == "the server did not accept it"


def test_a_flood_of_costly_fills_neither_drops_nor_delays_a_halt() -> None:
    """Fills pile up behind a server that hangs; the halt that follows is still queued and is
    the next message the server receives, ahead of the fills waiting before it."""
    from tui_trader.engine.notices import SLIPPAGE, Notice

    def notice(event: str, action: str) -> Notice:
        return Notice("live", "alpaca:X", event, 30.0, 5.0, action, 1.0)

    lines: list[str] = []
    with webhook(hang=True) as hook:
        policy = AlertPolicy(deadline=30.0, retries=0, queue_size=3)
        notifier = AlertNotifier((hook.url,), None, lines.append, policy)
        notifier.submit(notice(SLIPPAGE, "recorded the fill"))
        wait_for(lambda: len(hook.bodies) == 1)  # in flight: the server holds it
        for _ in range(4):  # three wait, the fourth finds the queue full
            notifier.submit(notice(SLIPPAGE, "recorded the fill"))
        notifier.submit(notice("drawdown_kill_switch", "halted trading until reset"))
        hook.release.set()  # the server now hangs up at once: each attempt fails fast
        wait_for(lambda: len(hook.bodies) == 5)
        assert notifier.close()
    assert lines.count(f"alert queue full: slippage not sent to {hook.url}") == 1
    assert not any("drawdown_kill_switch not sent" in line for line in lines)
    titles = [body["title"] for body in hook.bodies]
    assert titles[1] == "tui-trader LIVE: drawdown_kill_switch"
    assert titles[2:] == ["tui-trader LIVE: slippage"] * 3


def test_a_dead_alert_url_does_not_hold_back_the_next_one() -> None:
    """The first URL's server takes the halt and never answers; the second URL gets it at
    once (it waited for the first one's whole deadline, retries and pauses)."""
    from tui_trader.engine.notices import Notice

    halt = Notice("live", "alpaca:X", "manual_kill", 0, 0, "halted trading", 1.0)
    with webhook(hang=True) as stuck, webhook() as good:
        policy = AlertPolicy(deadline=60.0, retries=0)
        slow = f"{stuck.url}?rto=60"  # apprise's own read timeout no shorter than ours
        notifier = AlertNotifier((slow, good.url), None, None, policy)
        notifier.submit(halt)
        wait_for(lambda: len(good.bodies) == 1)
        wait_for(lambda: len(stuck.bodies) == 1)  # it arrived there too, and is held
        # the good server has the body before its sender counts the answer: wait for the count
        wait_for(lambda: notifier.delivered == 1)
        assert (notifier.delivered, notifier.failed) == (1, 0)
        stuck.release.set()  # it hangs up: the first delivery fails
        assert notifier.close()
    assert good.bodies[0]["title"] == "tui-trader LIVE: manual_kill"
    assert (notifier.delivered, notifier.failed) == (1, 1)


def test_a_delivery_gives_up_at_its_deadline() -> None:
    """A server that accepts and never answers: the attempt ends at the deadline, said so."""
    with webhook(hang=True) as hook:
        assert deliver(hook.url, "t", "b", deadline=0.3) == "no answer within 0.3 s"
        assert len(hook.bodies) == 1


def test_passwords_and_tokens_in_alert_urls_are_masked(db_path: Path) -> None:
    """A failed delivery's line and row show the URL without its password."""
    lines: list[str] = []
    make_session(db_path)
    with webhook() as hook:
        port = hook.port
    url = f"json://alice:hunter2@127.0.0.1:{port}/hook"
    notifier = AlertNotifier((url,), db_path, lines.append, AlertPolicy(deadline=5, retries=0))
    from tui_trader.engine.notices import Notice

    notifier.submit(Notice("live", "alpaca:X", "manual_kill", 0, 0, "halted trading", 1.0))
    assert notifier.close()
    assert lines and "hunter2" not in lines[0] and "alice:****@127.0.0.1" in lines[0]
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT target FROM alert_deliveries").fetchone()[0]
    assert "hunter2" not in stored
    assert "ABCDEFtoken" not in redact("tgram://123456:ABCDEFtoken/12345")


def test_a_url_apprise_does_not_know_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    """A typo in the scheme is exit 2 before anything runs, the URL masked."""
    with pytest.raises(AlertURLError):
        check_alert_url("jsno://secret@127.0.0.1/hook")
    with pytest.raises(SystemExit) as exit_info:
        main(["paper", "--alert", "jsno://user:pw@127.0.0.1/hook", "--db", str(tmp_path / "a.db")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "not an alert URL apprise understands" in err and "pw" not in err


def test_reconciliation_differences_found_at_start_are_sent(db_path: Path) -> None:
    """A restart whose broker holds other positions than the last snapshot: the difference that
    reconciliation found before the alerts existed is sent once they are attached."""
    first = make_session(db_path, account_key="local:shared")
    for _ in range(30):
        first.run_iteration()
    first.finish("completed")
    restarted = make_session(db_path, account_key="local:shared")  # a new, empty paper broker
    with webhook() as hook:
        ops = attach_ops(restarted, OpsSettings(alerts=(hook.url,)), db_path, print)
        wait_for(lambda: len(hook.bodies) == 1)
        ops.close()
    assert hook.bodies[0]["title"] == "tui-trader LOCAL: reconciliation"
    assert "positions differ from the last snapshot" in hook.bodies[0]["message"]
    assert "recorded vs 0 at the broker" in hook.bodies[0]["message"]

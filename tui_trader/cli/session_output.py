"""Running a session in the terminal: report lines, Ctrl+C, and the closing summary.

``paper``, ``live paper`` and ``live trading`` print the same way: one Phase 4 line per cycle, a
``[RISK]`` line per risk event, notes in yellow, and a summary. The first Ctrl+C (or SIGTERM from
``kill``, a service manager or a container stop, or SIGHUP from a closed terminal) finishes the
cycle and writes the final state; a second one leaves at once (the open transaction is rolled
back, so the database stays whole). How those signals reach the run: ``cli.stop_signals``.
A closed standard output (``| head``) stops the run the same way (``cli.closed_output``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import Counter

from rich.console import Console

from tui_trader.brokers import BrokerError
from tui_trader.cli.closed_output import watch_stdout
from tui_trader.cli.shown_console import shown_markup
from tui_trader.cli.stop_signals import RunStop
from tui_trader.core.domain import Account, IterationReport, RiskEvent, TradingState
from tui_trader.engine.session import TradingSession
from tui_trader.risk.event_text import event_measure
from tui_trader.risk.stops import is_protective
from tui_trader.session.run_result import RunResult
from tui_trader.session.runner import SessionRunner
from tui_trader.session.store_endings import (
    end_on_full_disk,
    end_on_refused_store,
    end_on_row_ended,
    end_on_unwritable_store,
)
from tui_trader.store.pg_refusals import refusal
from tui_trader.store.session_rows import RowEnded
from tui_trader.store.sqlite_errors import is_disk_full, is_io_error, is_locked, is_read_only


def event_line(event: RiskEvent) -> str:
    """One risk event for the terminal (rich markup)."""
    measure = f"{event_measure(event)} " if event.limit else ""
    detail = f" [dim]({shown_markup(event.detail)})[/]" if event.detail and not measure else ""
    action = shown_markup(event.action_taken)
    return f"[bold red][RISK][/] {event.event_type}: {measure}-> {action}{detail}"


def run_in_terminal(
    console: Console,
    session: TradingSession,
    iterations: int,
    every: float,
    tag: str,
    signals: RunStop,
) -> RunResult:
    """Run the session, printing as it goes; returns how it ended after printing the summary.
    ``signals`` is the stop the command's ``ctrl_c`` has called since the start ended (a stop
    signal during the header stops the run before its first cycle)."""
    _print_startup(console, session)

    def on_report(report: IterationReport) -> None:
        sys.stdout.write(report.line() + "\n")
        for event in report.risk_events:
            console.print(event_line(event))
        for note in report.notes:
            console.print(f"[yellow]  note:[/] {shown_markup(note)}")

    runner = SessionRunner(session, iterations, every, on_report)
    watch_stdout().stop_with(runner.stop)  # a closed stdout stops it cleanly, as Ctrl+C does
    signals.attach(runner.stop)
    result = runner.run()
    summary(console, session, result, tag)
    return result


def run_batch_in_terminal(
    console: Console, session: TradingSession, tag: str, signals: RunStop
) -> RunResult:
    """Replay the whole file through the engine's cycle, printing no line per cycle; Ctrl+C
    (the command's ``ctrl_c``, calling ``signals``) stops between cycles. Returns how it
    ended, after the summary."""
    from tui_trader.engine.replay_batch import run_replay

    _print_startup(console, session)
    console.print(f"{tag} Batch replay (no line per cycle); a summary at the end")
    stop = threading.Event()
    watch_stdout().stop_with(stop.set)
    signals.attach(stop.set)
    try:
        run_replay(session, stop)
        session.sync_orders()
        status = "stopped" if stop.is_set() else "end_of_data"
        session.finish(status)
        result = RunResult(status, session.iteration)
    except RowEnded as exc:  # recorded died while suspended: stop, fail closed
        result = end_on_row_ended(session, exc)
    except Exception as exc:
        if (refused := refusal(session.audit.db, exc)) is not None:
            result = end_on_refused_store(session, refused)
        elif is_locked(exc) or is_read_only(exc) or is_io_error(exc):
            result = end_on_unwritable_store(session, exc)
        elif is_disk_full(exc):
            result = end_on_full_disk(session)
        else:
            raise
    _print_held_notes(console, session)
    summary(console, session, result, tag)
    from tui_trader.cli.report_cmd import print_session_report

    print_session_report(console, session.audit.session)  # the same figures as `report`
    return result


def close_store(session: TradingSession) -> None:
    """Close the session's database connection as the command ends. Closing the last connection
    lets SQLite fold its write-ahead log back into the file: left open, the run's last rows lived
    in ``-wal`` beside the database until some later open, and a copy of the database file alone
    (to another machine, a backup by hand) lacked them. A transaction left open (a run that
    failed mid-write) keeps its log, and the next open rolls it back, as before."""
    from tui_trader.store.peewee_names import OperationalError

    with contextlib.suppress(OperationalError):
        session.audit.db.close()


def _print_startup(console: Console, session: TradingSession) -> None:
    """What the session found when it started (dead local sessions, restored halts,
    reconciliation)."""
    for note in session.startup_notes:
        console.print(f"[yellow]note:[/] {shown_markup(note)}")
    for event in session.startup_events:
        console.print(event_line(event))


def _print_held_notes(console: Console, session: TradingSession) -> None:
    """The notes the batch's cycles said (each once per onset), which no cycle line printed:
    why a symbol never traded, for one."""
    held = session.held_notes
    for note in held.kept:
        console.print(f"[yellow]note:[/] {shown_markup(note)}")
    if held.more:
        console.print(
            f"[yellow]note:[/] and {held.more:,} more note(s) (a run without --batch prints each)"
        )


def summary(console: Console, session: TradingSession, result: RunResult, tag: str) -> None:
    """The closing lines: how it ended, equity change, realized PnL, state. When the broker
    does not answer, the last values read stand (and the line says so)."""
    stale = ""
    try:
        account = session.broker.account()
    except BrokerError:
        account = session.last_account or Account(0.0, session.config.start_cash, 0.0)
        stale = " (last known values: the broker does not answer)"
    start = session.config.start_cash
    change = account.equity - start
    colour = "green" if change >= 0 else "red"
    state = session.risk.state
    console.print(
        f"{tag} Session {result.status}: {result.iterations} iterations, "
        f"equity {account.equity:,.2f} "
        f"([{colour}]{change:+,.2f}, {100 * change / start:+.2f}%[/]), "
        f"realized PnL {session.realized_now():+,.2f}, cash {account.cash:,.2f}{stale}"
    )
    if session.learning is not None:
        weights = session.learning.current_weights()
        regimes = session.learning.regimes()
        console.print(
            f"{tag} Learning: weights "
            + " ".join(f"{n}={w:.2f}" for n, w in weights.items())
            + "; regimes "
            + regimes_text(regimes)
        )
    on_the_way = still_working(session)
    if on_the_way:
        console.print(
            f"{tag} Still working at the broker: the session's orders in "
            f"{', '.join(on_the_way)} (sent before it ended, not filled yet); their fills are "
            "recorded by the next start on this database"
        )
    for line in session.stops_left:  # a position left without the stop the session took down
        console.print(f"{tag} [bold red]Stop left down:[/] {shown_markup(line)}")
    if state.state is TradingState.HALTED:
        halt = shown_markup(f"{state.halt_reason}: {state.halt_detail}")  # as any writer stored it
        console.print(f"[bold white on red] HALTED [/] {halt}")
    if result.audit_failed:  # the one line that matters, where errors go
        sys.stdout.flush()
        print(f"tui-trader: error: {result.error}", file=sys.stderr)
    elif result.error:
        console.print(f"[bold red]error:[/] {shown_markup(result.error)}")
    sys.stdout.flush()


def still_working(session: TradingSession) -> list[str]:
    """Symbols whose orders of this session an Alpaca account still works after it ended (a
    market order of the last cycle on its way, a limit not reached): their fills come when no
    session follows them, so the closing lines and the audit trail do not show them yet.
    Protective exits stay at the broker on purpose and are not named; a local account's
    orders end with its session."""
    broker = session.broker
    if getattr(broker, "orders_end_with_session", False):
        return []
    return sorted(
        broker.working_symbols(ignore=lambda o: is_protective(o.client_order_id, o.order_type))
    )


REGIMES_NAMED = 12
"""Symbols whose regime the closing line names one by one; beyond, it counts them by regime."""


def regimes_text(regimes: dict[str, str]) -> str:
    """The regimes for the closing line: each symbol's, up to ``REGIMES_NAMED`` symbols; past
    that, how many symbols are in each regime (a session of 20,000 symbols printed a line of
    280 KB that named each one)."""
    if len(regimes) <= REGIMES_NAMED:
        return ", ".join(f"{symbol} {regime}" for symbol, regime in regimes.items())
    counts = Counter(regimes.values())
    return f"of {len(regimes):,} symbols: " + ", ".join(
        f"{regime} {n:,}" for regime, n in counts.most_common()
    )

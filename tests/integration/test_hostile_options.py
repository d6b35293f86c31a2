"""Options that looked taken but were not what the user meant: a single-value option given twice
(the last silently won), ``1_000`` taken by decimal options, a limit too small to mean anything.
Each is one line on stderr and exit 2, naming the option; what is meant to repeat still does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main

REPEATED: list[tuple[str, list[str], str]] = [
    ("max-drawdown", ["paper", "--max-drawdown", "5", "--max-drawdown", "50"], "--max-drawdown"),
    ("db", ["paper", "--db", "a.db", "--db", "b.db"], "argument --db: given more than once"),
    ("account", ["risk", "reset", "--account", "a", "--account", "b"], "--account: given"),
    ("session", ["status", "--session", "a", "--session", "b"], "--session: given more"),
    ("live-switch", ["live", "paper", "--adopt-positions", "--adopt-positions"], "--adopt-pos"),
    ("fleet-session", ["fleet", "halt", "--session", "a", "--session", "b"], "--session: given"),
]


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in REPEATED], ids=[c[0] for c in REPEATED])
def test_a_single_value_option_given_twice_is_refused(
    place: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    """One line, exit 2, naming the option: the second value was taken silently (a drawdown
    limit of 5% became 50%, the session wrote to b.db)."""
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, words, place)
    assert not (place / "b.db").exists()


def test_options_meant_to_repeat_still_do() -> None:
    """``--alert`` and ``--window`` (append) and ``learn evaluate --data A B`` (a list) keep
    every value, and the parse leaves no bookkeeping among the options."""
    from tui_trader.cli import build_parser

    parser = build_parser()
    paper = parser.parse_args(["paper", "--alert", "json://a", "--alert", "json://b"])
    assert paper.alert == ["json://a", "json://b"]
    windows = ["a:2024-01-02:2024-02-01", "b:2024-02-02:2024-03-01"]
    ev = parser.parse_args(
        [
            "learn",
            "evaluate",
            "--window",
            windows[0],
            "--window",
            windows[1],
            "--data",
            "x.csv",
            "y.csv",
        ]
    )
    assert [w.name for w in ev.window] == ["a", "b"] and len(ev.data) == 2
    assert not any("given" in name for name in vars(ev))


ALERT = ["--alert", "json://127.0.0.1:9/hook"]
ALERT_TEST = ["alert", "test", *ALERT]
NUMBERS: list[tuple[str, list[str], str]] = [
    ("cash-underscore", ["paper", "--start-cash", "1_000"], "--start-cash: not a number: '1_000'"),
    ("rate-underscore", ["paper", "--max-drawdown", "1_0"], "ASCII digits only, no '_'"),
    ("count-underscore", ["paper", "--iterations", "1_000"], "not a whole number: '1_000'"),
    ("tiny-drawdown", ["paper", "--max-drawdown", "5e-324"], "from 0.01 to 100, got '5e-324'"),
    ("tiny-daily-loss", ["paper", "--max-daily-loss", "0.001"], "--max-daily-loss: must be a"),
    ("tiny-position", ["live", "paper", "--max-position", "1e-9"], "percentage from 0.01 to 100"),
    ("stop-underscore", ["paper", "--stop-loss", "1_0"], "--stop-loss: not a number: '1_0'"),
    ("stop-atr-underscore", ["paper", "--stop-loss", "atr:1_0"], "no '_' between them"),
    ("stop-unicode", ["paper", "--stop-loss", "\uff15"], "(use ASCII digits)"),
    ("stop-tiny", ["live", "paper", "--stop-loss", "1e-300"], "from 0.01 to below 100"),
    ("profit-unicode", ["paper", "--take-profit", "\uff18"], "--take-profit: not a number"),
    ("profit-tiny", ["paper", "--take-profit", "0.001"], "percentage from 0.01 to 1000"),
    # past threading.TIMEOUT_MAX: 'alert test' crashed, a session's alert thread died loudly
    ("alert-test-deadline", [*ALERT_TEST, "--alert-deadline", "1e10"], "at most 86,400 seconds"),
    ("paper-alert-deadline", ["paper", *ALERT, "--alert-deadline", "1e10"], "--alert-deadline:"),
    # a dead URL held its first notice for weeks: its failure said only at the session's end
    (
        "alert-retries",
        ["paper", *ALERT, "--alert-retries", "1000000"],
        "--alert-retries: at most 10",
    ),
]


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS])
def test_numbers_follow_one_rule(
    place: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    """``1_000`` is refused by decimal options as by whole-number ones (``float()`` took it), and
    a percentage limit under 0.01% (shown as 0.0%, meaning nothing) names the valid range."""
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, words, place)


def test_a_percentage_may_be_written_with_its_percent_sign() -> None:
    """``5%`` is what a trader writes for five percent: every percentage option takes it as 5
    (it was refused as 'not a number', and the stop rules said 'give a percent')."""
    from tui_trader.cli import build_parser
    from tui_trader.risk.stops import StopRule

    args = build_parser().parse_args(
        ["paper", "--max-drawdown", "5%", "--stop-loss", "3%", "--take-profit", "8%"]
    )
    assert (args.max_drawdown, args.stop_loss, args.take_profit) == (5.0, StopRule(pct=3.0), 8.0)


SYMBOLS: list[tuple[str, list[str], str]] = [
    ("eszett", ["paper", "--symbols", "SPY,\u00df"], "invalid symbol '\u00df' (ASCII letters"),
    ("ligature", ["data", "list", "--symbols", "\ufb00"], "(ASCII letters only)"),
    ("dotless-i", ["sandbox", "--symbols", "\u0131wm"], "--symbols: invalid symbol"),
    ("fullwidth", ["learn", "evaluate", "--symbols", "\uff33PY"], "(ASCII letters only)"),
]


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in SYMBOLS], ids=[c[0] for c in SYMBOLS])
def test_a_symbol_that_only_upper_cases_to_a_ticker_is_refused(
    place: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    """``'ß'.upper()`` is ``SS``, ``'\ufb00'`` (a ligature) ``FF`` and ``'ıwm'`` ``IWM``: such a
    list was taken and the session traded tickers nobody typed (``--symbols ß`` traded SS)."""
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, words, place)

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


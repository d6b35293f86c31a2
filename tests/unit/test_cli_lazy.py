"""``tui-trader --help`` and ``tui-trader paper --help`` load only what they print (issue 17).

Help is what a user runs first and most often; it used to import every subcommand's modules
(polars, the engine, peewee, rich...) and took ~0.35 s. These tests assert on the modules a help
path imports, not on time (a shared machine's timings are noise); ``python -m benchmarks``
measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui_trader.cli import COMMANDS, build_parser, command_action, main

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("textual", "alpaca", "polars", "peewee", "rich", "yfinance", "numpy", "plotly")
"""Libraries a help screen has no use for."""
ENGINE = ("tui_trader.engine", "tui_trader.store", "tui_trader.session", "tui_trader.brokers")
"""Our own heavy layers: the money path and the audit store."""
DECIDERS = ("tui_trader.learning.allocator", "tui_trader.risk.gate", "tui_trader.risk.stops")
"""The learner, the risk manager and the stop rules: ``paper --help`` shows their defaults and
choices from the light modules ``learning.choices`` and ``risk.limits`` (~40 ms less to load)."""


def _imported_by(argv: list[str]) -> tuple[str, set[str]]:
    """The help text and every module imported when ``tui-trader ARGV`` runs in a new process."""
    code = (
        "import json, sys, io, contextlib\n"
        "from tui_trader.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps([out.getvalue(), sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    text, modules = json.loads(done.stdout)
    return text, set(modules)


def _heavy(modules: set[str]) -> list[str]:
    """The heavy modules among ``modules``."""
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in HEAVY or any(m == e or m.startswith(e + ".") for e in ENGINE)
    )


@pytest.mark.parametrize("argv", [["--help"], ["paper", "--help"]])
def test_help_imports_no_heavy_module(argv: list[str]) -> None:
    """The help is printed, and neither Textual, alpaca-py, polars, peewee, rich nor the
    engine was imported to print it."""
    text, modules = _imported_by(argv)
    assert text.startswith("usage: tui-trader")
    assert _heavy(modules) == []


@pytest.mark.parametrize("argv", [["--help"], ["paper", "--help"]])
def test_help_loads_neither_the_learner_nor_the_risk_manager(argv: list[str]) -> None:
    """``paper --help`` prints the learner's and the risk limits' defaults and every
    ``--weights`` choice without loading the learner, the risk gate or the stop rules."""
    text, modules = _imported_by(argv)
    assert sorted(set(DECIDERS) & modules) == []
    if argv[0] == "paper":
        assert "longtrend" in text and "--max-drawdown" in text and "0.03" in text


def test_top_level_help_imports_no_subcommand_module() -> None:
    """``--help`` lists every subcommand from the table alone."""
    text, modules = _imported_by(["--help"])
    assert all(name in text for name in COMMANDS)
    assert not {module for module, _help in COMMANDS.values()} & modules


def test_command_table_matches_what_the_modules_register() -> None:
    """Each subcommand's help line in the table is the one its module registers, and every
    command a module registers is in the table, in ``--help``'s order."""
    full = command_action(build_parser())
    registered = [(a.dest, a.help) for a in full._choices_actions]
    assert registered == [(name, help_text) for name, (_m, help_text) in COMMANDS.items()]


def test_full_and_lazy_help_are_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    """The lazily built ``--help`` prints what the fully registered parser prints."""
    with pytest.raises(SystemExit):
        main(["--help"])
    lazy = capsys.readouterr().out
    assert lazy == build_parser().format_help()


def test_a_chosen_command_gets_its_real_parser(capsys: pytest.CaptureFixture[str]) -> None:
    """``paper --help`` shows paper's own options (its module was loaded on demand), and a bad
    option of a lazily loaded command is still one line and exit code 2."""
    with pytest.raises(SystemExit):
        main(["paper", "--help"])
    assert "--max-drawdown" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["paper", "--no-such-option"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--no-such-option" in err and "Traceback" not in err


def _run_paper(folder: Path, settings: str | None) -> tuple[int, str, str, set[str]]:
    """A local ``paper`` run of one cycle in a fresh process, in a new ``folder`` holding
    ``settings`` as its ``tui-trader.toml`` (none if ``None``), with a home of its own: its
    exit code, what it printed on stdout and stderr, and every module it imported."""
    import os

    folder.mkdir()
    if settings is not None:
        (folder / "tui-trader.toml").write_text(settings)
    code = (
        "import json, sys, io, contextlib\n"
        "from tui_trader.cli import main\n"
        "out, err = io.StringIO(), io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
        "    try:\n"
        f"        code = main(['paper', '--iterations', '1', '--db', {str(folder / 'a.db')!r}])\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code\n"
        "print(json.dumps([code, out.getvalue(), err.getvalue(), sorted(sys.modules)]))\n"
    )
    env = {**os.environ, "HOME": str(folder), "XDG_CONFIG_HOME": str(folder / "config")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        check=True,
        timeout=120,
    )
    exit_code, out, err, modules = json.loads(done.stdout.splitlines()[-1])
    return exit_code, out, err, set(modules)


ALPACA_SESSION = ("tui_trader.session.alpaca", "tui_trader.cli.live_alpaca", "requests")
"""What only an Alpaca session needs: ~0.1 s of CPU to import."""


def test_a_local_paper_run_without_a_settings_file_loads_no_alpaca_session(tmp_path) -> None:
    """The offline default runs without the Alpaca session's code or ``requests`` (they were
    loaded to check a settings file's keys even when there was no file); with a settings file
    every command's options load again, so a key only ``live`` reads is still checked."""
    code, out, _err, modules = _run_paper(tmp_path / "plain", None)
    assert code == 0 and "Session completed: 1 iterations" in out
    assert sorted(set(ALPACA_SESSION) & modules) == []
    code, out, _err, _modules = _run_paper(tmp_path / "good", "requests-per-minute = 120\n")
    assert code == 0 and "Session completed: 1 iterations" in out
    code, out, err, _modules = _run_paper(tmp_path / "bad", "requests-per-minute = -5\n")
    assert code == 2 and "requests_per_minute" in err and "Session" not in out

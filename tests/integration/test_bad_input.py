"""Bad input never hangs, crashes or misleads: one line on stderr, exit 2, at once.

Each case runs the real ``main()`` in a thread under a deadline (so a hang fails the test
instead of stalling it) and checks what a user sees: exit code 2, exactly one stderr line
starting ``tui-trader: error:`` that says what is wrong, no traceback, nothing on stdout, and no
crash.log written. The Alpaca cases point at a port where nothing listens (set-up errors must
come before any connection) or at a sandbox (unknown symbol, untradable symbol, wrong key).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_trader.cli import main
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox

DEADLINE = 20.0
"""Seconds a case may take (imports and a sandbox round trip on a loaded machine): 'at once'."""
NOWHERE = "http://127.0.0.1:9"


def daily_file(path: Path, days: int = 40) -> Path:
    """A daily bar file of SPY: one bar a calendar day."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for d in range(days):
        px = 100 + d % 7
        rows.append(f"2024-{1 + d // 28:02d}-{1 + d % 28:02d}T14:30:00Z,SPY,{px},{px + 1},"
                    f"{px - 1},{px},100")  # fmt: skip
    path.write_text("\n".join(rows) + "\n")
    return path


def odd_symbol_file(path: Path) -> Path:
    """A bar file whose symbol is no ticker."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for d in range(20):
        rows.append(f"2024-01-{1 + d:02d}T14:30:00Z,s p;y,10,11,9,10,100")
    path.write_text("\n".join(rows) + "\n")
    return path


CASES: list[tuple[str, list[str], str]] = [
    # paper: periods, intervals, numbers
    ("period-99999y", ["paper", "--period", "99999y"], "longer than 50 years"),
    ("period-huge-digits", ["paper", "--period", "9" * 5000 + "d"], "longer than 50 years"),
    # argparse quotes what it refuses: a pasted blob must not become a 3,000-character line
    ("stray-blob", ["history", "x" * 3000], "unrecognized arguments: xxx"),
    ("choice-blob", ["paper", "--weights", "x" * 3000], "invalid choice: 'xxx"),
    # a mistyped command or choice names the one meant (Python 3.11's argparse listed them all)
    ("command-typo", ["histroy"], "invalid choice: 'histroy': did you mean 'history'? (choose"),
    ("command-prefix", ["fle"], "invalid choice: 'fle': did you mean 'fleet'?"),
    ("action-typo", ["risk", "shwo"], "did you mean 'show'?"),
    # a command group with no action, as 'risk', 'db' and 'live' (bare 'learn' printed help, exit 0)
    ("learn-bare", ["learn"], "the following arguments are required: COMMAND"),
    ("choice-typo", ["paper", "--weights", "adaptiv"], "did you mean 'adaptive'?"),
    ("flag-given-a-blob", ["live", "paper", "--adopt-positions", "x" * 3000], "unrecognized"),
    # an option only as written out: argparse took a prefix, and --enable was the real-money
    # --enable-live (for the desk and for live trading)
    ("prefix-of-enable-live", ["--enable"], "unrecognized arguments: --enable"),
    ("live-prefix-of-enable-live", ["live", "trading", "--enable"], "unrecognized arguments"),
    ("prefix-of-an-option", ["paper", "--iter", "1"], "unrecognized arguments: --iter 1"),
    ("cache-dir-empty", ["data", "list", "--cache-dir", ""], "--cache-dir: is empty"),
    ("cache-dir-too-long", ["data", "clear", "--cache-dir", "x" * 3000], "name too long"),
    ("warmup-2y-of-1m", ["paper", "--period", "2y", "--interval", "1m"], "bars of warm-up"),
    ("every-1e300", ["paper", "--every", "1e300"], "too large"),
    ("every-two-days", ["paper", "--every", "172800"], "at most 86400 seconds"),
    ("every-negative", ["paper", "--every", "-1"], "must not be negative"),
    ("learning-rate-1e308", ["paper", "--learning-rate", "1e308"], "too large"),
    ("learning-rate-5", ["paper", "--learning-rate", "5"], "--learning-rate must be between"),
    ("start-cash-nan", ["paper", "--start-cash", "nan"], "not a finite number"),
    ("start-cash-inf", ["paper", "--start-cash", "inf"], "not a finite number"),
    # below a cent: "Starting cash: $0.00", then a -100.00% loss without a trade, exit 0
    ("start-cash-1e-300", ["paper", "--start-cash", "1e-300"], "must be at least 0.01 (a cent)"),
    ("sandbox-cash-tenth-cent", ["sandbox", "--cash", "0.001"], "must be at least 0.01 (a cent)"),
    ("slippage-1e13", ["paper", "--slippage-bps", "1e13"], "too large"),
    ("iterations-20-digits", ["paper", "--iterations", "9" * 20], "too large"),
    ("orders-per-day-float", ["paper", "--max-orders-per-day", "1e3"], "not a whole number"),
    ("db-5000-chars", ["paper", "--db", "x" * 5000], "--db: path is too long"),
    ("db-long-folder", ["paper", "--db", "d" * 300 + "/a.db"], "--db: path is too long"),
    ("db-nul", ["paper", "--db", "a\x00b.db"], "control character"),
    # pathlib's expanduser raised RuntimeError on an unknown user: a traceback, exit 1
    ("db-unknown-user", ["paper", "--db", "~nosuchuser4/x.db"], "names no home folder"),
    ("to-unknown-user", ["db", "backup", "--to", "~nosuchuser4/b"], "'~nosuchuser4' is no user"),
    ("replay-unknown-user", ["paper", "--data", "replay:~nosuchuser4/x.csv"], "no home folder"),
    # a name in bytes the locale cannot decode (LC_ALL=C without UTF-8 mode) is no control char
    ("db-not-utf8", ["paper", "--db", "a\udcc3\udcbc.db"], "path holds a byte that is not UTF-8"),
    # non-ASCII digits, which int() and float() would take
    ("interval-fullwidth", ["paper", "--interval", "５m"], "unknown interval"),
    ("interval-arabic-indic", ["paper", "--interval", "٥m"], "unknown interval"),
    ("period-fullwidth", ["paper", "--period", "５d"], "unknown period"),
    ("iterations-fullwidth", ["paper", "--iterations", "５"], "not a whole number"),
    ("seed-fullwidth", ["paper", "--seed", "７"], "not a whole number"),
    ("start-cash-fullwidth", ["paper", "--start-cash", "１000"], "ASCII"),
    ("max-drawdown-devanagari", ["paper", "--max-drawdown", "५"], "ASCII"),
    ("symbols-fullwidth", ["paper", "--symbols", "ＳＰＹ"], "invalid symbol"),
    ("symbols-one-huge", ["paper", "--symbols", "SPY," + "A" * 5000], "invalid symbol 'AAAA"),
    ("symbols-huge-duplicates", ["paper", "--symbols", ",".join(["SPY"] * 2000)], "duplicate"),
    ("symbols-huge-one-empty", ["paper", "--symbols", "SPY,," + "QQQ," * 2000], "empty symbol"),
    ("sandbox-port-fullwidth", ["sandbox", "--port", "８７６５"], "not a whole number"),
    # the backup thread's wait overflowed: a traceback after the summary, no backup (hostile28c)
    (
        "backup-every-1e12",
        ["paper", "--iterations", "1", "--backup-every", "1e12"],
        "at most 10,080 minutes (a week), got '1e12'",
    ),
    # taken: the session backed its whole database up back to back (review29a)
    (
        "backup-every-1e-9",
        ["paper", "--iterations", "1", "--backup-every", "1e-9"],
        "0 (no backups) or at least 1 minute (each backup copies the whole database), got '1e-9'",
    ),
    ("sandbox-speed-1e12", ["sandbox", "--speed", "1e12"], "speed must be from 0 to 100,000"),
    # int() took these: serve listened on 8780 and on 1000
    ("serve-port-fullwidth", ["serve", "--port", "８７８０"], "not a whole number"),
    ("serve-port-underscore", ["serve", "--port", "1_000"], "not a whole number"),
    ("serve-port-hex", ["serve", "--port", "0x10"], "not a whole number"),
    ("pnl-period-huge", ["pnl", "--period", "99999w"], "longer than 50 years"),
    # seven digits were an "unknown period" where six were "longer than 50 years" (hostile28b)
    ("pnl-period-million-days", ["pnl", "--period", "1000000d"], "longer than 50 years"),
    ("pnl-period-5000-digits", ["pnl", "--period", "9" * 5000 + "d"], "longer than 50 years"),
    ("period-million-days", ["paper", "--period", "1000000d"], "longer than 50 years"),
    ("pnl-period-fullwidth", ["pnl", "--period", "７d"], "unknown period"),
    ("learn-seeds", ["learn", "evaluate", "--seeds", "5000"], "at most 1,000"),
    ("learn-rate", ["learn", "evaluate", "--learning-rate", "1e308"], "too large"),
    ("learn-bars", ["learn", "evaluate", "--bars", "999999999"], "at most 1,000,000"),
    # 0 (or 10) bars printed a table of zeros and a FAIL verdict, exit 0
    ("learn-bars-0", ["learn", "evaluate", "--bars", "0"], "--bars must be at least 20"),
    ("learn-bars-10", ["learn", "evaluate", "--bars", "10"], "--bars must be at least 20"),
    # protective stops
    ("stop-loss-word", ["paper", "--stop-loss", "tight"], "give a percent (e.g. 5) or atr:N"),
    ("stop-loss-zero", ["paper", "--stop-loss", "0"], "a percentage from 0.01 to below 100"),
    ("stop-loss-100", ["paper", "--stop-loss", "100"], "a stop at 100% is a price of zero"),
    ("stop-loss-atr-nan", ["paper", "--stop-loss", "atr:nan"], "not a finite number: 'atr:nan'"),
    ("stop-loss-atr-99", ["paper", "--stop-loss", "atr:99"], "from 0.01 to 20 average true"),
    ("take-profit-neg", ["paper", "--take-profit", "-5"], "a percentage from 0.01 to 1000"),
    ("live-stop-loss", ["live", "paper", "--stop-loss", "atr:"], "not a number: 'atr:'"),
    (
        "live-trading-take-profit",
        ["live", "trading", "--enable-live", "--take-profit", "inf"],
        "--take-profit: not a finite number: 'inf'",
    ),
    # replay files that do not fit the settings
    (
        "replay-daily-as-1m",
        ["paper", "--data", "replay:daily.csv", "--interval", "1m", "--period", "1d"],
        "apart, but --interval is 1m",
    ),
    (
        "replay-warmup-too-long",
        ["paper", "--data", "replay:daily.csv", "--period", "60d"],
        "needs 60 bars of warm-up but the file holds 40",
    ),
    (
        "replay-odd-symbol",
        ["paper", "--data", "replay:odd.csv", "--period", "5d"],
        "is not a ticker symbol",
    ),
    # Alpaca set-up errors before any connection (nothing listens at NOWHERE)
    ("live-period-9999y", ["live", "paper", "--period", "9999y"], "longer than 50 years"),
    ("live-interval-3x", ["live", "paper", "--interval", "3x"], "unknown interval '3x'"),
    ("live-every-1e300", ["live", "paper", "--every", "1e300"], "too large"),
    ("live-timeout-huge", ["live", "paper", "--timeout", "1e9"], "at most 600 seconds"),
    (
        "live-requests-per-minute-0",
        ["live", "paper", "--requests-per-minute", "0"],
        "must be greater than zero",
    ),
    (
        "live-requests-per-minute-huge",
        ["live", "trading", "--enable-live", "--requests-per-minute", "1e9"],
        "from 1 to 100,000 requests a minute",
    ),
    (
        "live-requests-per-minute-nan",
        ["live", "paper", "--requests-per-minute", "nan"],
        "not a finite number",
    ),
    ("live-learning-rate", ["live", "paper", "--learning-rate", "1e308"], "too large"),
    ("live-status-timeout", ["live", "status", "--timeout", "０.5"], "ASCII"),
    ("live-status-unreachable", ["live", "status", "--timeout", "1"], "cannot reach Alpaca at"),
    (
        "live-trading-period",
        ["live", "trading", "--enable-live", "--period", "9999y"],
        "longer than 50 years",
    ),
    # the paper-to-live gate's bar: float() took nan (exit 1, "not ready"), -inf and ５
    ("readiness-min-pnl-nan", ["live", "readiness", "--min-pnl", "nan"], "not a finite number"),
    ("readiness-min-pnl-inf", ["live", "readiness", "--min-pnl=-inf"], "not a finite number"),
    ("readiness-min-pnl-fullwidth", ["live", "readiness", "--min-pnl", "５"], "ASCII"),
]


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private working folder with the replay files, private data/log folders, and Alpaca
    variables pointing where nothing listens."""
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("APCA_API_KEY_ID", "PKBADINPUT0000")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "bad-input-secret-000000")
    monkeypatch.setenv("APCA_API_BASE_URL", NOWHERE)
    for name in ("APCA_API_DATA_URL", "APCA_API_STREAM_URL", "APCA_API_DATA_STREAM_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    daily_file(tmp_path / "daily.csv")
    odd_symbol_file(tmp_path / "odd.csv")
    return tmp_path


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    """``main(argv)`` in a thread under ``DEADLINE``: (exit code, stdout, stderr, seconds)."""
    outcome: dict[str, object] = {}

    def call() -> None:
        try:
            outcome["code"] = main(argv)
        except SystemExit as exc:
            outcome["code"] = exc.code
        except BaseException as exc:  # what a user would see as a traceback
            outcome["raised"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    took = time.monotonic() - started
    assert not thread.is_alive(), f"{argv[:3]} still running after {DEADLINE} s (a hang)"
    assert "raised" not in outcome, f"raised {outcome.get('raised')!r}"
    out, err = capsys.readouterr()
    return int(outcome["code"]), out, err, took  # type: ignore[call-overload]


def assert_one_line_exit_2(code: int, out: str, err: str, words: str, home: Path) -> None:
    """What every refusal looks like."""
    assert code == 2, f"exit {code}: {out}{err}"
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tui-trader: error: ") and words in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert "HTTPConnectionPool" not in err and "Max retries" not in err, "raw urllib3 text"
    assert len(lines[0]) < 400, "the line quotes a long value in full"
    assert not list(home.rglob("crash.log")), "a crash was logged"


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_at_once(
    place: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, words, place)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox() as sb:
        yield sb


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        (["--symbols", "ZZZZ"], None, "unknown symbol ZZZZ"),
        (["--symbols", "OLDCO"], None, "OLDCO is not tradable"),
        ([], "PKWRONG0000", "rejected the credentials"),
    ],
    ids=["unknown-symbol", "untradable-symbol", "wrong-key"],
)
def test_live_set_up_refusals_against_the_sandbox(
    place: Path,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    key: str | None,
    words: str,
) -> None:
    """What only the server can say is still one stderr line and exit 2 (was stdout, exit 1)."""
    monkeypatch.setenv("APCA_API_KEY_ID", key or sandbox.key_id)
    monkeypatch.setenv("APCA_API_SECRET_KEY", sandbox.secret)
    monkeypatch.setenv("APCA_API_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("APCA_API_STREAM_URL", sandbox.trading_stream_url)
    monkeypatch.setenv("APCA_API_DATA_STREAM_URL", sandbox.data_stream_url)
    argv = ["live", "paper", "--iterations", "1", "--period", "1d", "--timeout", "2", *extra]
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, words, place)


def test_an_option_reader_failing_unforeseen_is_one_crash_line_not_a_traceback(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An option's reader raising what argparse does not catch (pathlib's RuntimeError on
    '~nosuch' was one) went past main's guard as a traceback: it is now the crash line (exit
    1, details in crash.log), like any failure after the options are read."""
    import tui_trader.cli.session_options as options_cli

    def broken(text: str) -> tuple[str, ...]:
        raise RuntimeError("an unforeseen failure")

    monkeypatch.setattr(options_cli, "session_symbols_arg", broken)
    code, out, err, _ = run_main(["paper", "--symbols", "SPY"], capsys)
    assert code == 1 and out == ""
    assert err.startswith("tui-trader: error: RuntimeError: an unforeseen failure (details in")
    assert err.count("\n") == 1 and list(place.rglob("crash.log"))

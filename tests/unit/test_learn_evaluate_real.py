"""``learn evaluate`` on real-style files: walk-forward, the ablation, baselines and windows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tui_trader.cli import main
from tui_trader.core.domain import Bar
from tui_trader.learning.evaluate import (
    CONFIGURATIONS,
    FROZEN,
    HOLD,
    EvalSettings,
    Market,
    run_config,
    signals_for,
    sim_market,
)
from tui_trader.learning.performance import Window, in_window, max_drawdown_pct, under_water_pct
from tui_trader.learning.setup import LearningSettings
from tui_trader.market.replay import read_bar_file
from tui_trader.market.sim import SimMarket


def _spiked(market: Market, at: int, factor: float) -> Market:
    """The same market with every price from step ``at`` on multiplied by ``factor``."""
    steps = [
        step
        if i < at
        else {
            s: Bar(
                s,
                b.timestamp,
                b.open * factor,
                b.high * factor,
                b.low * factor,
                b.close * factor,
                b.volume,
            )
            for s, b in step.items()
        }
        for i, step in enumerate(market.steps)
    ]
    return replace(market, steps=steps)


@pytest.mark.parametrize("config", CONFIGURATIONS)
def test_walk_forward_never_reads_a_future_bar(config: str) -> None:
    """A spike planted at one step moves nothing before it, in every configuration."""
    market = sim_market(5, ("SPY", "QQQ"), bars=160, warmup=60)
    at = market.warmup + 100
    spiked = _spiked(market, at, 1.5)
    settings = EvalSettings(max_drawdown_pct=100.0)
    plain = run_config(config, market, signals_for(market), settings)
    moved = run_config(config, spiked, signals_for(spiked), settings)
    before = at - market.warmup  # curve index of the spike's step
    assert plain.equity[:before] == moved.equity[:before]
    assert plain.equity[before:] != moved.equity[before:] or config != HOLD


def test_the_ablation_is_the_adaptive_allocator_with_learning_frozen() -> None:
    """``frozen`` is the same code as ``adaptive`` at learning rate 0, and differs from it."""
    market = sim_market(3, ("SPY", "QQQ", "IWM"), bars=252)
    signals = signals_for(market)
    settings = EvalSettings()
    frozen = run_config(FROZEN, market, signals, settings)
    zero = replace(settings, learning=LearningSettings("adaptive", 0.0))
    assert run_config("adaptive", market, signals, zero).equity == frozen.equity
    learning = run_config("adaptive", market, signals, settings)
    assert learning.equity != frozen.equity


def test_hold_buys_once_at_the_next_open_and_keeps_it() -> None:
    """Buy and hold is sized at the first trading close and filled at the next bar's open plus
    the slippage, as the engine's paper broker fills; then it never trades again."""
    market = sim_market(2, ("SPY",), bars=100)
    result = run_config(HOLD, market, signals_for(market), EvalSettings(allocation=0.95))
    bars = [step["SPY"] for step in market.steps]
    shares = 0.95 / bars[market.warmup].close
    price = round(bars[market.warmup + 1].open * (1 + 10 / 10_000), 4)
    assert result.turnover == pytest.approx(shares * price)
    assert result.equity[-1] == pytest.approx(1.0 - shares * price + shares * bars[-1].close)
    assert result.costs_pct == pytest.approx(100 * shares * (price - bars[market.warmup + 1].open))


def test_window_figures_on_a_known_curve() -> None:
    times = [datetime(2020, 1, d, tzinfo=UTC) for d in range(1, 7)]
    equity = [1.0, 1.2, 0.9, 0.6, 0.9, 1.1]
    window = Window("crash", times[1], times[3])
    result = in_window(window, times, equity)
    assert result.bars == 3
    assert result.return_pct == pytest.approx(-40.0)  # 1.0 before the window -> 0.6
    assert result.max_drawdown_pct == pytest.approx(50.0)  # 1.2 -> 0.6
    assert max_drawdown_pct(equity) == pytest.approx(50.0)
    assert under_water_pct(equity) == pytest.approx(4 / 6 * 100)


def _ohlcv_file(path: Path, seed: int, bars: int = 400) -> Path:
    """A one-symbol file in the common Date,Open,High,Low,Close,Volume layout."""
    sim = SimMarket(("X",), seed=seed)
    rows = []
    for _ in range(bars):
        bar = sim.next_bars()["X"]
        rows.append(
            {
                "Date": bar.timestamp.date().isoformat(),
                "Open": bar.open,
                "High": bar.high,
                "Low": bar.low,
                "Close": bar.close,
                "Volume": bar.volume,
            }
        )
    pl.DataFrame(rows).write_csv(path)
    return path


def test_a_one_symbol_ohlcv_file_is_read_as_its_file_name(tmp_path: Path) -> None:
    frame = read_bar_file(_ohlcv_file(tmp_path / "goog.csv", 4, bars=30))
    assert frame.columns[:2] == ["timestamp", "symbol"] or "symbol" in frame.columns
    assert set(frame.get_column("symbol").unique().to_list()) == {"GOOG"}
    assert frame.height == 30


def test_learn_evaluate_on_two_files_with_windows(tmp_path: Path, capsys) -> None:
    a = _ohlcv_file(tmp_path / "aaa.csv", 6)
    b = _ohlcv_file(tmp_path / "bbb.csv", 7)
    times = read_bar_file(a).get_column("timestamp").to_list()
    start, end = times[280].date().isoformat(), times[330].date().isoformat()
    code = main(["learn", "evaluate", "--data", str(a), str(b), "--window", f"mid:{start}:{end}"])
    assert code == 0
    out = capsys.readouterr().out
    assert "walk-forward over 2 file(s)" in out
    assert "aaa.csv" in out and "bbb.csv" in out and "mean over 2 run(s)" in out
    assert "inside the named windows" in out and "│ mid" in out
    for config in ("adaptive", "frozen", "hold"):
        assert f"│ {config}" in out
    assert "verdict aaa.csv:" in out and "verdict ablation:" in out
    assert "window mid:" in out


@pytest.mark.parametrize(
    "window", ["nocolon", "x:2020-13-01:2020-12-31", "x:2021-01-01:2020-01-01", ":2020-01-01:2021"]
)
def test_a_bad_window_is_refused_with_exit_2(window: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["learn", "evaluate", "--seeds", "1", "--window", window])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("days", [("1990-01-01", "1990-12-31"), ("2100-01-01", "2100-12-31")])
def test_a_window_outside_the_traded_bars_is_refused(
    tmp_path: Path, capsys, days: tuple[str, str]
) -> None:
    """A window before or after the file (or inside its warm-up) was left out of the table
    without a word, exit 0: it is one line naming the window and the traded span, exit 2."""
    data = _ohlcv_file(tmp_path / "aaa.csv", 6)
    times = read_bar_file(data).get_column("timestamp").to_list()
    warm = times[10].date().isoformat()  # the warm-up is the first 200 of the 400 bars
    for start, end in (days, (warm, warm)):
        with pytest.raises(SystemExit) as exc:
            main(["learn", "evaluate", "--data", str(data), "--window", f"crash:{start}:{end}"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"--window crash: no bar is traded from {start} to {end}" in err
        first, last = times[200].date().isoformat(), times[-1].date().isoformat()
        assert f"aaa.csv trades {first} to {last}" in err


def test_two_files_of_one_name_are_reported_apart(tmp_path: Path, capsys) -> None:
    """a/x.csv and b/x.csv: each has its own table and verdict, named by its path (both
    showed the mean of the two and the second file's verdict); one file twice is refused."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _ohlcv_file(tmp_path / "a" / "x.csv", 6)
    b = _ohlcv_file(tmp_path / "b" / "x.csv", 7)
    assert main(["learn", "evaluate", "--data", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    verdicts = [
        line for line in out.splitlines() if line.startswith("verdict ") and "x.csv" in line
    ]
    assert [v.split(":")[0] for v in verdicts] == [f"verdict {a}", f"verdict {b}"]
    assert verdicts[0].split(":", 1)[1] != verdicts[1].split(":", 1)[1]
    with pytest.raises(SystemExit) as exc:
        main(["learn", "evaluate", "--data", str(a), str(tmp_path / "a" / ".." / "a" / "x.csv")])
    assert exc.value.code == 2
    assert "the same file is given twice" in capsys.readouterr().err

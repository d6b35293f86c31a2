"""A desk with exits started on an Alpaca account holding a position without its stop puts the
stop in place before it downloads and replays its warm-up history (seconds at every start:
the ``crash28`` campaign measured 3.4-5.6 s from the session's row to its stops), and so even
when that download fails; an ATR stop, whose distance needs that history, still goes out at
the start once the history is in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.broker_protection import buy_and_protect, client, open_stops, spy_held
from tui_trader.market import MarketDataError
from tui_trader.market.alpaca import AlpacaMarketData
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import running_sandbox, wait_until


def _naked_position(sb: Any, db: Path) -> float:
    """A desk with ``--stop-loss 2`` bought SPY and died; its stop was then cancelled at the
    broker (the case of a desk killed between its buy's fill and its stop): the shares held."""
    first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
    [stop] = open_stops(sb)
    held = spy_held(sb)
    first.broker.close()
    simulate_death(first)
    client(sb).cancel_order_by_id(stop.id)
    wait_until(lambda: open_stops(sb) == [], what="the cancel")
    return held


def test_the_stop_is_working_before_the_warm_up_history_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the start asks for its history, the broker already holds the stop, for every
    share held."""
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        held = _naked_position(sb, tmp_path / "w.db")
        seen: list[list[float]] = []
        fetch = AlpacaMarketData.warmup

        def watched(self: AlpacaMarketData) -> Any:
            seen.append([float(o.qty) for o in open_stops(sb)])
            return fetch(self)

        monkeypatch.setattr(AlpacaMarketData, "warmup", watched)
        second = alpaca_session(sb, tmp_path / "w.db", symbols=("SPY",), stop_loss=StopRule(2.0))
        second.broker.close()
        assert seen == [[held]]
        assert [float(o.qty) for o in open_stops(sb)] == [held]
        assert any("had no protective stop" in e.detail for e in second.startup_events)


def test_a_start_whose_history_download_fails_leaves_the_position_protected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alpaca's market data service down while its trading service answers: the start fails
    (no trading on no history), and the position it found without a stop has one; the error
    says the stop stays working (before, it spoke of the history alone: a user could not know
    the start had placed an order that outlives it)."""
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        held = _naked_position(sb, tmp_path / "f.db")

        def down(self: AlpacaMarketData) -> Any:
            raise MarketDataError("loading warm-up history: the data service is down")

        monkeypatch.setattr(AlpacaMarketData, "warmup", down)
        with pytest.raises(MarketDataError) as failed:
            alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",), stop_loss=StopRule(2.0))
        assert [float(o.qty) for o in open_stops(sb)] == [held]
        said = str(failed.value)
        assert said.startswith("loading warm-up history: the data service is down")
        assert "the protective exits at the broker stay working" in said


def test_an_atr_stop_still_goes_out_at_the_start_after_its_history(tmp_path: Path) -> None:
    """``atr:2`` measures its distance on the warm-up's bars: the start places it (not "NOT
    protected" for want of a range)."""
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        held = _naked_position(sb, tmp_path / "a.db")
        second = alpaca_session(
            sb, tmp_path / "a.db", symbols=("SPY",), stop_loss=StopRule(atr=2.0)
        )
        second.broker.close()
        [stop] = open_stops(sb)
        assert float(stop.qty) == held
        assert not any("NOT protected" in e.detail for e in second.startup_events)

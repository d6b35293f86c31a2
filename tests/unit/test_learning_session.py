"""Learning inside a real session: report fields, audit rationale, tables, and restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui_trader.cli import main
from tui_trader.core.clock import FrozenClock
from tui_trader.engine.session import TradingSession
from tui_trader.learning.allocator import AdaptiveAllocator
from tui_trader.learning.setup import LearningSettings
from tui_trader.session.local import LocalSettings, SettingsError, build_local_session
from tui_trader.store.learning_models import LearningWeightRow, RegimeCallRow, ShadowRow
from tui_trader.store.models import LiveOrder
from tui_trader.strategies import FixedWeights
from tui_trader.strategies.family import STRATEGY_NAMES


def session_on(db: Path, weights: str = "adaptive", seed: int = 7) -> TradingSession:
    """A started local session on the simulated market with the chosen weighting."""
    clock = FrozenClock(datetime(2026, 11, 24, 14, 30, tzinfo=UTC), step=timedelta(seconds=1))
    settings = LocalSettings(db=db, seed=seed, learning=LearningSettings(weights=weights))
    return build_local_session(settings, clock)


def run(session: TradingSession, iterations: int) -> list:
    """Run some cycles and finish the session."""
    reports = [session.run_iteration() for _ in range(iterations)]
    session.finish("completed")
    return reports


def test_reports_carry_regimes_and_weights_for_the_desk(tmp_path: Path) -> None:
    session = session_on(tmp_path / "a.db")
    report = run(session, 3)[-1]
    assert set(report.regimes) == {"SPY", "QQQ", "IWM"}
    assert all("/" in label for label in report.regimes.values())
    assert set(report.weights) == set(STRATEGY_NAMES)
    assert abs(sum(report.weights.values()) - 1.0) < 1e-3


def test_every_cycle_writes_weights_regimes_and_shadow_rows(tmp_path: Path) -> None:
    session = session_on(tmp_path / "a.db")
    run(session, 4)
    iterations = {r.iteration for r in LearningWeightRow.select()}
    assert iterations == {1, 2, 3, 4}
    assert RegimeCallRow.select().where(RegimeCallRow.iteration == 4).count() == 3
    assert ShadowRow.select().where(ShadowRow.iteration == 4).count() >= len(STRATEGY_NAMES)


def test_order_rationale_names_the_regime_and_weights(tmp_path: Path) -> None:
    session = session_on(tmp_path / "a.db")
    run(session, 30)
    rationales = [o.rationale for o in LiveOrder.select()]
    assert rationales, "the session should have traded"
    assert all("regime " in r and "weights trend=" in r for r in rationales)


def test_restarted_session_continues_from_the_saved_weights(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first = session_on(db)
    run(first, 15)
    saved = first.allocator.weights.table
    assert isinstance(first.allocator, AdaptiveAllocator)
    assert saved["all"] != pytest.approx(first.allocator.weights.uniform())  # it learned

    second = session_on(db)
    allocator = second.allocator
    assert isinstance(allocator, AdaptiveAllocator) and allocator.restored
    for regime, weights in saved.items():  # warm-up bars did not move the restored weights
        assert allocator.weights.get(regime) == pytest.approx(weights, abs=1e-9)
    report = run(second, 1)[0]
    assert report.weights  # and it keeps learning from there
    assert LearningWeightRow.select().where(LearningWeightRow.session == 2).count() > 0


def test_fresh_database_starts_from_equal_weights(tmp_path: Path) -> None:
    session = session_on(tmp_path / "new.db")
    assert isinstance(session.allocator, AdaptiveAllocator)
    assert not session.allocator.restored


def test_equal_and_single_strategy_modes(tmp_path: Path) -> None:
    equal = session_on(tmp_path / "e.db", "equal")
    assert isinstance(equal.allocator, FixedWeights)
    assert len(equal.strategies) == len(STRATEGY_NAMES)
    assert run(equal, 2)[-1].weights == {}
    alone = session_on(tmp_path / "m.db", "momentum")
    assert [s.name for s in alone.strategies] == ["momentum"]


def test_unknown_weights_mode_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--weights unknown 'best'"):
        session_on(tmp_path / "x.db", "best")


def test_paper_command_accepts_weights_options(tmp_path: Path, capsys) -> None:
    db = tmp_path / "cli.db"
    args = ["paper", "--db", str(db), "--iterations", "3", "--weights", "equal"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Weights: fixed (trend, momentum, meanrev, volatility, longtrend)" in out
    assert main(["paper", "--db", str(db), "--iterations", "2", "--learning-rate", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "learning rate 0.2" in out and "Learning: weights trend=" in out


def test_restarted_session_continues_the_learned_exposure(tmp_path: Path) -> None:
    """The blend's record behind the learned exposure is saved each cycle and restored as it
    was (the warm-up replay does not count its bars twice), never mistaken for a strategy."""
    db = tmp_path / "shared.db"
    first = session_on(db)
    run(first, 15)
    assert isinstance(first.allocator, AdaptiveAllocator)
    saved = first.allocator.exposure.stats
    assert saved.bars > 0

    second = session_on(db)
    allocator = second.allocator
    assert isinstance(allocator, AdaptiveAllocator) and allocator.restored
    got = allocator.exposure.stats
    assert (got.bars, got.total, got.squares) == pytest.approx(
        (saved.bars, saved.total, saved.squares), abs=1e-12
    )
    assert all("(exposure)" not in by_name for by_name in allocator.shadow.stats.values())


def test_reports_say_when_the_drawdown_cuts_the_blends_exposure(tmp_path: Path) -> None:
    """Near its drawdown limit the blend trades a share of its targets (at the limit none): the
    report carries that share and why, so the desk can say why an ACTIVE session sits still.
    The cut starts at the first loss here (``drawdown_start`` 0) so a short run shows it."""
    session = session_on(tmp_path / "a.db")
    assert isinstance(session.allocator, AdaptiveAllocator)
    session.allocator.drawdown_start = 0.0
    reports = run(session, 60)
    cut = [r for r in reports if r.exposure < 1.0]
    assert cut, "the seeded market should draw the account down at some point"
    for report in reports:
        if report.exposure < 1.0:
            assert report.exposure_note.startswith("drawdown ")
            assert report.exposure_note.endswith(f"exposure x{report.exposure}")
        else:
            assert report.exposure_note == ""


def test_a_session_without_learning_reports_full_exposure(tmp_path: Path) -> None:
    """Fixed weights have no drawdown cut: full exposure, no note."""
    report = run(session_on(tmp_path / "a.db", weights="equal"), 2)[-1]
    assert report.exposure == 1.0 and report.exposure_note == ""

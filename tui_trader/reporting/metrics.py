"""A session's performance figures from its equity curve, fills and closed trades (pure Python).

No I/O and no Textual: ``load`` turns database rows into the inputs below, and the terminal, the
desk and the HTML page all draw the same ``PerformanceReport``.

Definitions (each in one place, so that every front end says the same thing):

- **Equity curve**: one point per account snapshot, at its market time, after the starting cash.
  Sessions that snapshot every N cycles (``--snapshot-every``) give a coarser curve.
- **Return**: final equity over the starting cash, minus one. **CAGR**: that growth per
  calendar year (365.25 days) between the first and last points.
- **Daily returns**: the last equity of each market date against the previous date's (the first
  date against the starting cash). **Sharpe**: their mean over their sample standard deviation,
  times sqrt(252), risk-free rate 0. **Sortino**: the mean over the downside deviation (root mean
  square of the negative returns, zeros counted), times sqrt(252).
- **Max drawdown**: the deepest fall of equity below its running peak (the starting cash counts
  as a peak), in percent. **Its duration**: the longest stretch from a peak until equity is back
  at it: from the peak to the last point below it, in time and in points.
- **Exposure**: the share of points whose bar saw a position open at any moment (a position
  closed at a bar's open counts for that bar, as backtesting.py counts it).
- **Trades**: closed round trips. Win rate: share with pnl > 0. Profit factor: gross profit over
  gross loss, in currency. Average win / loss, best / worst: by pnl net of commission.
- **Turnover**: traded value (every fill, both sides) over the average equity.
- **Peer figures** (``PeerFigures``): backtesting.py's own definitions of annualized return,
  volatility and Sharpe, where they differ from ours (see docs/reports.md).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tui_trader.learning.performance import sharpe

TRADING_DAYS = 252
"""Trading days in a year, for annualizing daily figures."""


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """The account's equity at one moment (market time)."""

    time: datetime
    equity: float


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One execution: what traded, at what price, what it cost."""

    time: datetime
    symbol: str
    signed_qty: float
    """Positive for a buy, negative for a sell."""
    price: float
    commission: float
    slippage: float


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One closed round trip, with the strategy that opened it."""

    symbol: str
    strategy: str
    side: str
    quantity: float
    entry_price: float
    exit_price: float
    entry_time: datetime | None
    exit_time: datetime
    pnl: float
    pnl_pct: float
    commission: float
    slippage: float


@dataclass(frozen=True, slots=True)
class GroupStats:
    """The trade figures of one symbol or one strategy."""

    name: str
    trades: int
    win_rate_pct: float | None
    pnl: float
    profit_factor: float | None
    commission: float


@dataclass(frozen=True, slots=True)
class PeerFigures:
    """Figures by backtesting.py's definitions, for side-by-side checks (docs/reports.md).

    Annualized return: the geometric mean daily return compounded over 252 days. Annualized
    volatility: the daily variance compounded the same way. Sharpe: their ratio (risk-free 0).
    Profit factor: summed winning trade returns (%) over summed losing ones, not currency.
    Exposure: closed trades only, from entry bar to exit bar, and the account's opening bar (the
    one before the first decision) counts as a bar.
    """

    return_ann_pct: float | None
    volatility_ann_pct: float | None
    sharpe: float | None
    profit_factor: float | None
    exposure_pct: float | None


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """Every figure of a session's report, and the series behind its charts."""

    start: datetime | None
    end: datetime | None
    start_equity: float
    end_equity: float
    return_pct: float
    cagr_pct: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown_pct: float
    max_drawdown_duration: timedelta
    max_drawdown_points: int
    exposure_pct: float | None
    trades: int
    win_rate_pct: float | None
    profit_factor: float | None
    avg_win: float | None
    avg_loss: float | None
    best_trade: TradeRecord | None
    worst_trade: TradeRecord | None
    turnover: float | None
    traded_value: float
    commissions: float
    slippage: float
    by_symbol: tuple[GroupStats, ...]
    by_strategy: tuple[GroupStats, ...]
    peer: PeerFigures
    equity: tuple[EquityPoint, ...] = field(repr=False)
    drawdown_pct: tuple[float, ...] = field(repr=False)
    """Percent below the running peak at each equity point (0 or negative)."""


def build_report(
    start_equity: float,
    equity: Sequence[EquityPoint],
    trades: Sequence[TradeRecord],
    fills: Sequence[FillRecord],
) -> PerformanceReport:
    """Compute every figure from a session's starting cash, equity curve, trades and fills."""
    points = tuple(sorted(equity, key=lambda p: p.time))
    values = [start_equity] + [p.equity for p in points]
    end_equity = values[-1]
    drawdowns = _drawdowns(values)
    duration, duration_points = _longest_drawdown(start_equity, points)
    daily = daily_returns(start_equity, points)
    pnl = [t.pnl for t in trades]
    wins = [p for p in pnl if p > 0]
    losses = [p for p in pnl if p < 0]
    traded = sum(abs(f.signed_qty) * f.price for f in fills)
    average_equity = sum(values) / len(values) if values else 0.0
    exposure = exposure_pct(points, fills)
    return PerformanceReport(
        start=points[0].time if points else None,
        end=points[-1].time if points else None,
        start_equity=start_equity,
        end_equity=end_equity,
        return_pct=_pct(end_equity / start_equity - 1.0) if start_equity else 0.0,
        cagr_pct=_cagr(start_equity, end_equity, points),
        sharpe=_sharpe(daily),
        sortino=_sortino(daily),
        max_drawdown_pct=max(0.0, -min(drawdowns, default=0.0)),  # never -0.0: '-0.00%'
        max_drawdown_duration=duration,
        max_drawdown_points=duration_points,
        exposure_pct=exposure,
        trades=len(trades),
        win_rate_pct=_pct(len(wins) / len(pnl)) if pnl else None,
        profit_factor=_profit_factor(pnl),
        avg_win=sum(wins) / len(wins) if wins else None,
        avg_loss=sum(losses) / len(losses) if losses else None,
        best_trade=max(trades, key=lambda t: t.pnl) if trades else None,
        worst_trade=min(trades, key=lambda t: t.pnl) if trades else None,
        turnover=traded / average_equity if average_equity > 0 else None,
        traded_value=traded,
        commissions=sum(f.commission for f in fills),
        slippage=sum(f.slippage for f in fills),
        by_symbol=_groups(trades, lambda t: t.symbol),
        by_strategy=_groups(trades, lambda t: t.strategy),
        peer=peer_figures(daily, trades, points),
        equity=points,
        drawdown_pct=tuple(drawdowns[1:]),
    )


def _pct(fraction: float) -> float:
    """A fraction as a percentage."""
    return 100.0 * fraction


def _drawdowns(values: Sequence[float]) -> list[float]:
    """Percent below the running peak, for each value (the first value is the first peak)."""
    out: list[float] = []
    peak = -math.inf
    for value in values:
        peak = max(peak, value)
        out.append(_pct(value / peak - 1.0) if peak > 0 else 0.0)
    return out


def _longest_drawdown(start: float, points: Sequence[EquityPoint]) -> tuple[timedelta, int]:
    """The longest stretch below a peak: from the peak's time to recovery (or the last point)."""
    if not points:
        return timedelta(0), 0
    peak, peak_time, peak_index = start, points[0].time, 0
    longest, longest_points = timedelta(0), 0
    for index, point in enumerate(points):
        if point.equity >= peak:
            peak, peak_time, peak_index = point.equity, point.time, index
            continue
        if point.time - peak_time > longest or (
            point.time - peak_time == longest and index - peak_index > longest_points
        ):
            longest, longest_points = point.time - peak_time, index - peak_index
    return longest, longest_points


def daily_returns(start: float, points: Sequence[EquityPoint]) -> list[float]:
    """Each market date's return: its last equity against the previous date's (or the start)."""
    closes: dict[date, float] = {}
    for point in points:
        closes[point.time.date()] = point.equity
    out: list[float] = []
    previous = start
    for day in sorted(closes):
        value = closes[day]
        if previous > 0:
            out.append(value / previous - 1.0)
        previous = value
    return out


def _mean(values: Sequence[float]) -> float:
    """The arithmetic mean of a non-empty sequence."""
    return sum(values) / len(values)


def _sample_variance(values: Sequence[float]) -> float | None:
    """Variance with one degree of freedom taken (None below two values)."""
    if len(values) < 2:
        return None
    mean = _mean(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _sharpe(daily: Sequence[float]) -> float | None:
    """Mean daily return over its standard deviation, annualized by sqrt(252) (the same
    formula ``learn evaluate`` scores runs with); None where it is undefined."""
    if not _sample_variance(daily):
        return None
    return sharpe(list(daily), TRADING_DAYS)


def _sortino(daily: Sequence[float]) -> float | None:
    """Mean daily return over the downside deviation, annualized by sqrt(252)."""
    if len(daily) < 2:
        return None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in daily) / len(daily))
    if downside == 0:
        return None
    return _mean(daily) / downside * math.sqrt(TRADING_DAYS)


def _cagr(start: float, end: float, points: Sequence[EquityPoint]) -> float | None:
    """Growth per calendar year between the first and the last point (None under a day)."""
    if len(points) < 2 or start <= 0 or end <= 0:
        return None
    days = (points[-1].time - points[0].time).total_seconds() / 86400.0
    if days < 1:
        return None
    return _pct((end / start) ** (365.25 / days) - 1.0)


def _profit_factor(pnl: Sequence[float]) -> float | None:
    """Gross profit over gross loss (None without a losing trade)."""
    loss = -sum(p for p in pnl if p < 0)
    if loss == 0:
        return None
    return sum(p for p in pnl if p > 0) / loss


def exposure_pct(points: Sequence[EquityPoint], fills: Sequence[FillRecord]) -> float | None:
    """Share of points whose bar held a position at any moment, in percent.

    Point i's bar runs from point i-1 (exclusive) to point i (inclusive): it is exposed when a
    position was open at its start, or a fill inside it left one open.
    """
    if not points:
        return None
    ordered = sorted(fills, key=lambda f: f.time)
    held: dict[str, float] = {}
    cursor = 0
    exposed = 0
    for point in points:
        hit = any(abs(q) > 1e-12 for q in held.values())
        while cursor < len(ordered) and ordered[cursor].time <= point.time:
            fill = ordered[cursor]
            held[fill.symbol] = held.get(fill.symbol, 0.0) + fill.signed_qty
            hit = hit or abs(held[fill.symbol]) > 1e-12
            cursor += 1
        exposed += hit
    return _pct(exposed / len(points))


def _groups(
    trades: Sequence[TradeRecord], key: Callable[[TradeRecord], str]
) -> tuple[GroupStats, ...]:
    """Trade figures per key, largest absolute pnl first."""
    grouped: dict[str, list[TradeRecord]] = {}
    for trade in trades:
        grouped.setdefault(key(trade), []).append(trade)
    out = []
    for name, group in grouped.items():
        pnl = [t.pnl for t in group]
        out.append(
            GroupStats(
                name=name,
                trades=len(group),
                win_rate_pct=_pct(sum(p > 0 for p in pnl) / len(pnl)),
                pnl=sum(pnl),
                profit_factor=_profit_factor(pnl),
                commission=sum(t.commission for t in group),
            )
        )
    return tuple(sorted(out, key=lambda g: (-abs(g.pnl), g.name)))


def _closed_trade_exposure(
    points: Sequence[EquityPoint], trades: Sequence[TradeRecord]
) -> float | None:
    """backtesting.py's exposure: points from a closed trade's entry to its exit (both
    included), over the points plus the opening bar; a position still open is left out."""
    if not points:
        return None
    starts, ends = _merged_spans(trades)
    exposed = 0
    for point in points:
        # The last merged span starting at or before the point is the only one that can hold it.
        i = bisect_right(starts, point.time) - 1
        exposed += i >= 0 and point.time <= ends[i]
    return _pct(exposed / (len(points) + 1))


def _merged_spans(trades: Sequence[TradeRecord]) -> tuple[list[datetime], list[datetime]]:
    """The trades' entry-to-exit spans merged into disjoint ones in time order (starts, ends): a
    point lies in a trade's span exactly when it lies in one of these. Each point costs one binary
    search, not a test against every trade (40,000 points x 1,554 trades: ``report`` ~20 s)."""
    starts: list[datetime] = []
    ends: list[datetime] = []
    spans = sorted((t.entry_time, t.exit_time) for t in trades if t.entry_time is not None)
    for start, end in spans:
        if end < start:
            continue  # holds no point
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def peer_figures(
    daily: Sequence[float], trades: Sequence[TradeRecord], points: Sequence[EquityPoint]
) -> PeerFigures:
    """The ``PeerFigures`` of a session's daily returns, trades and exposure over ``points``."""
    # Each trade's return from its pnl and cost basis (4 decimals stored, where pnl_pct keeps 4
    # decimals of a percent: six times coarser for a typical trade).
    returns = [t.pnl / (t.entry_price * t.quantity) for t in trades if t.entry_price * t.quantity]
    loss = -sum(r for r in returns if r < 0)
    profit_factor = sum(r for r in returns if r > 0) / loss if loss else None
    peer_exposure = _closed_trade_exposure(points, trades)
    if not daily:
        return PeerFigures(None, None, None, profit_factor, peer_exposure)
    growth = [1.0 + r for r in daily]
    if any(g <= 0 for g in growth):
        mean_growth = 1.0
    else:
        mean_growth = math.exp(sum(math.log(g) for g in growth) / len(growth))
    annual = mean_growth**TRADING_DAYS - 1.0
    variance = _sample_variance(daily)
    if variance is None:
        return PeerFigures(_pct(annual), None, None, profit_factor, peer_exposure)
    volatility = math.sqrt(
        (variance + mean_growth**2) ** TRADING_DAYS - mean_growth ** (2 * TRADING_DAYS)
    )
    sharpe = annual / volatility if volatility else None
    return PeerFigures(_pct(annual), _pct(volatility), sharpe, profit_factor, peer_exposure)

"""The desk's market clock on a replay: the bar's own time, not a live market's session.

A currency pair's hourly file (bars day and night, Sunday too) read "AFTER 03-03 19:00 ET ·
opens in 14h30m" on the desk bar: US stock-market hours and a countdown to an open that had
happened years before. A replay's bars are history on their own hours: the bar shows each
bar's time and no open or close countdown. The simulated market keeps its session label.
"""

from __future__ import annotations

from pathlib import Path

from tui_helpers import wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.setup_defaults import config_defaults
from tui_trader.tui.widgets.deskbar import DeskBar


def _eurusd_hours(folder: Path) -> Path:
    """EURUSD hourly bars from Sunday 3 March 2024 00:00 UTC, round the clock."""
    rows = ["timestamp,symbol,open,high,low,close,volume"]
    for hour in range(60):
        px = 1.1 + 0.001 * (hour % 7)
        stamp = f"2024-03-{3 + hour // 24:02d}T{hour % 24:02d}:00:00"
        rows.append(f"{stamp},EURUSD,{px},{px},{px},{px},10")
    path = folder / "eurusd.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


async def test_a_replayed_currency_pair_shows_its_bars_time_not_us_market_hours(
    db_path: Path, tmp_path: Path, frozen
) -> None:
    """Five hourly cycles after a 35-bar warm-up: the last bar is Monday 4 March 15:00 UTC,
    and the bar says so, with no PRE/OPEN/AFTER/CLOSED and no "opens in"/"closes in"."""
    fields = config_defaults(
        {
            "data": f"replay:{_eurusd_hours(tmp_path)}",
            "symbols": "EURUSD",
            "interval": "1h",
            "period": "5d",
        }
    )
    app = make_app(db_path, clock=frozen, iterations=5, every=0, setup_defaults=fields)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: not app.screen.query_one("#start").disabled, "the check")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.ended == "completed", "the replay to end")
        bar = app.screen.query_one(DeskBar)
        await wait_for(pilot, lambda: "iter 5" in str(bar.render()), "the last cycle")
        text = str(bar.render())
        assert "replayed bar 2024-03-04 15:00 UTC" in text, text
        for word in ("opens in", "closes in", " ET", "AFTER", "OPEN", "PRE", "CLOSED"):
            assert word not in text, text

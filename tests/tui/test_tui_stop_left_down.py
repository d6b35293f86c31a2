"""The desk says, as its session ends, each position left without the stop the session had
cancelled (``engine.stops_at_finish``): a notice that stays, not only a line in the log."""

from __future__ import annotations

from tui_helpers import capped_desk, start_capped, wait_for

BARS = 3
LINE = (
    "SPY: its stop at 95.00 was cancelled for sell 20 SPY, still working at the broker: the "
    "position has no stop until that sell ends; this desk is stopping"
)


async def test_a_session_ending_with_a_stop_left_down_says_so_in_a_notice(db_path, paced) -> None:
    """The session ends (ctrl+s's stop) having named a position left without its stop: the
    desk shows that line in an error notice titled "Stop left down"."""
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await start_capped(pilot, app, BARS)
        app.handle.session.stops_left = (LINE,)  # as ``finish`` leaves it on an Alpaca account
        app.handle.stop()
        await wait_for(pilot, lambda: not app.running, "the session's end")
        await wait_for(
            pilot,
            lambda: any(n.title == "Stop left down" for n in app._notifications),
            "the notice",
        )
        [notice] = [n for n in app._notifications if n.title == "Stop left down"]
        assert notice.message == LINE and notice.severity == "error"

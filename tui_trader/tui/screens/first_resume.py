"""A screen's first showing: whole, and without Textual's extra restyles (issue 17: first screen
< 1 s).

Textual styles every widget as it mounts, then restyles the whole screen on each ScreenResume,
and a first ``switch_mode`` posts two of them (one as the mode's screen is made, one as the
mode becomes current). On the setup screen those two passes were about a third of the time
from mount to the first frame, and nothing had changed since the widgets were styled. Until a
screen has been suspended once (another screen shown in its place, where the HALTED state or
the theme may change), its resumes skip the restyle; after that every resume restyles as before.

While the app starts Textual batches updates: it renders frames and drops them, and the next
frame draws only what changed since, so the first frames on the terminal were pieces of the
screen (no desk bar, empty fields) until something redrew it all. The first frame after a
dropped one draws the whole screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.app import App


def quitting(app: App) -> bool:
    """Whether the app is on its way out (asked to exit, or shutting down). A screen first
    shown then (f2 and a quit at once, or under load) mounts with some of its widgets never
    mounted: Textual does not wait for them once the app exits, and the dashboard's first draw
    crashed the exit (``No nodes match '#orders-log'``). Such a screen draws nothing."""
    return app._exit or not app.is_running


class StyledOnMount:
    """Mixin for a ``Screen``: no style refresh on resumes before its first suspend."""

    _suspended_once: bool = False
    _frame_dropped: bool = False

    def _on_screen_suspend(self, event: events.ScreenSuspend) -> None:
        """From now on a resume may find stale styles: let Textual restyle."""
        self._suspended_once = True

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Runs before ``Screen._on_screen_resume`` (MRO order): no restyle while fresh."""
        if not self._suspended_once:
            event.refresh_styles = False

    def _compositor_refresh(self) -> None:
        """Textual's frame; the whole screen when the frame before it never reached the
        terminal (made while the app batched its updates)."""
        app = self.app  # type: ignore[attr-defined]
        if app._batch_count:
            self._frame_dropped = True
        elif self._frame_dropped and self is app.screen:
            self._frame_dropped = False
            compositor = self._compositor  # type: ignore[attr-defined]
            compositor._dirty_regions.add(compositor.size.region)
        super()._compositor_refresh()  # type: ignore[misc]

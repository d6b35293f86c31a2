"""The setup screen's live-trading warnings: when they show, what they name, and what a
confirmation holds.

Choosing "Alpaca live" shows the warning (``LiveWarningScreen``: the limits and equity cap,
what a halt does to the account, whether positions are adopted, the paper record's verdict);
its confirmation holds only for the terms it named. Changing the adopt or suspend switch after
it shows it again, one at a time; a start whose limits or cap changed since shows it again
too. Only a desk started with ``--enable-live`` may choose live at all. A mixin of
``SetupScreen`` (``screens.setup``), which holds the form, its checks and the start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widgets import Checkbox

from tui_trader.risk.limits import RiskLimits
from tui_trader.tui.alpaca_status import alpaca_status
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.setup_form import typed_capital, typed_db


class SetupLiveWarnings:
    """The live warnings of ``SetupScreen``: its state is the screen's (see its
    ``__init__``)."""

    app: Any
    defaults: dict[str, str]
    skip_readiness: bool
    live_allowed: bool
    live_confirmed: bool
    _mode: str
    _warned: tuple[bool, bool]
    _asking_switches: bool
    _warned_terms: tuple[RiskLimits, float | None] | None
    query_one: Callable[..., Any]
    values: Callable[[], dict[str, str]]
    revalidate: Callable[[], Any]
    _limits_or_defaults: Callable[[], RiskLimits]

    def _live_switch_on(self) -> bool:
        """Whether "Alpaca live" may be chosen: the switch on, and the desk started with
        ``--enable-live`` (a switch set on some other way, the browser's page included, does
        not count without the flag)."""
        return self.live_allowed and self.query_one("#enable-live", Checkbox).value

    def _warned_switches(self) -> tuple[bool, bool]:
        """The switches the live warning names: adopt positions, suspend on halt."""
        return self.query_one("#adopt", Checkbox).value, self.query_one("#suspend", Checkbox).value

    def _warn_live(
        self,
        limits: RiskLimits,
        adopt: bool,
        answered: Callable[[bool | None], None],
        capital: float | None = None,
    ) -> None:
        """Show the live-trading warning (the limits and the equity cap, what a halt does to the
        account, whether positions are adopted, the paper record's verdict: when it refuses,
        the warning cannot be confirmed); a confirmation records the terms it named."""
        from tui_trader.tui.live_gate import live_decision

        values = self.values()
        capital = capital if capital is not None else typed_capital(values)

        def recorded(confirmed: bool | None) -> None:
            if confirmed:
                self._warned_terms = (limits, capital)
            answered(confirmed)

        warning = LiveWarningScreen(
            limits,
            alpaca_status("live").url,
            adopt_positions=adopt,
            readiness=live_decision(typed_db(values), self.defaults, self.skip_readiness),
            suspend_on_halt=self.query_one("#suspend", Checkbox).value,  # as the plan carries it
            capital=capital,
        )
        self.app.push_screen(warning, recorded)

    def _ask_for_switches(self) -> None:
        """Show the warning again for switches that differ from the confirmed ones, once: while
        it is open, further changes wait for its answer, which looks again. Each change's
        event comes after the change, and every event read the switches as they are then: a
        switch ticked, unticked and ticked again before the desk handled the first event (a
        cancel's put-back followed at once by a new tick, on a loaded machine) stacked a
        warning for each event, and the one confirmed uncovered another."""
        switches = self._warned_switches()
        if self._mode != "live" or not self.live_confirmed or switches == self._warned:
            return
        if self._asking_switches:
            return
        self._asking_switches = True

        def answered(confirmed: bool | None) -> None:
            self._asking_switches = False
            if confirmed:
                self._warned = switches
            else:
                adopt, suspend = self._warned
                self.query_one("#adopt", Checkbox).value = adopt
                self.query_one("#suspend", Checkbox).value = suspend
            self.revalidate()
            if confirmed:  # changed while the warning was open: it named other switches
                self._ask_for_switches()

        self._warn_live(self._limits_or_defaults(), switches[0], answered)

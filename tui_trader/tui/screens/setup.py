"""The session setup screen: every choice a session needs, checked as it is typed.

The screen only collects text and switches; ``setup_form.validate`` decides what is valid and
builds the plan. Enter (or the Start button, focused on arrival) starts the session; Start is
disabled while any field is invalid, and each bad field shows its reason beside it. The
live-trading warnings (when they show, what a confirmation holds) are ``screens.setup_live``'s.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from tui_trader.risk.limits import RiskLimits
from tui_trader.tui.alpaca_status import ADOPT_HINT, adopt_warning, alpaca_status
from tui_trader.tui.screens.confirm import ConfirmScreen
from tui_trader.tui.screens.first_resume import StyledOnMount
from tui_trader.tui.screens.setup_live import SetupLiveWarnings
from tui_trader.tui.setup_carried import CARRIED, CASH_SET, carried_note
from tui_trader.tui.setup_fields import DATA_LABELS, TEXT_FIELDS, WEIGHTS, choice_row
from tui_trader.tui.setup_form import (
    CASH_LABELS,
    DEFAULTS,
    MODE_LABELS,
    MODES,
    FormResult,
    SessionPlan,
    typed_limits,
    validate,
)
from tui_trader.tui.setup_suggest import suggest_cash, suggest_timing
from tui_trader.tui.widgets.desk_footer import DeskFooter
from tui_trader.tui.widgets.deskbar import DeskBar
from tui_trader.tui.widgets.ordered_input import OrderedInput

LIVE_SWITCH_ON = "on: --enable-live was given; off keeps 'Alpaca live' from being chosen"
LIVE_SWITCH_OFF = "off: start the desk with --enable-live to choose 'Alpaca live'"
"""The live switch's words: it can only be turned on by the command line's ``--enable-live``."""
FIRST_CHECK_POLL_S = 0.01
"""How often the first check looks whether the first frame has left for the terminal."""
FIRST_CHECK_WAIT_S = 1.0
"""The longest the first check waits for that (a terminal that stopped reading)."""


def _output_waiting(app: App) -> bool:
    """Whether text still waits in the queue of the thread that writes to the terminal
    (Textual's Linux driver has one; headless, web and Windows drivers none)."""
    writer = getattr(app._driver, "_writer_thread", None)
    queue = getattr(writer, "_queue", None)  # Textual keeps no public handle on it
    return queue is not None and writer.is_alive() and not queue.empty()


class SetupScreen(StyledOnMount, SetupLiveWarnings, Screen[None]):
    """Collects a session plan and hands it to the app to start."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start", id="setup-start", tooltip="Start the session"),
    ]
    AUTO_FOCUS = "#start"

    def __init__(
        self,
        db_path: Path,
        live_enabled: bool = False,
        defaults: dict[str, str] | None = None,
        skip_readiness: bool = False,
    ) -> None:
        """The database path, whether live trading may be chosen, the fields' starting text
        (the settings file's, see ``setup_defaults.config_defaults``) and whether live trading may
        start without a ready paper record (``--skip-readiness``)."""
        super().__init__(id="setup")
        self.defaults = defaults or DEFAULTS
        self.db_path = db_path
        self.live_allowed = live_enabled
        """``--enable-live`` on the command line: without it the switch stays off and cannot be
        turned on here (live needs the flag typed each time, never a click in the form)."""
        self.live_enabled = live_enabled
        self.skip_readiness = skip_readiness
        self.live_confirmed = False
        self._warned = (False, False)
        """Whether the live warning the user confirmed said that positions are adopted and that
        a halt suspends the account: the confirmation holds only while the form says the same."""
        self._asking_switches = False
        """Whether the warning shown again for changed switches is open (one at a time)."""
        self._warned_terms: tuple[RiskLimits, float | None] | None = None
        """The limits and equity cap the confirmed live warning named: a start with others
        shows the warning again (it named what the session would risk)."""
        self._mode = "local"
        self.result = FormResult(None, {})
        self._checked = False
        """Whether the form has been checked once (the fields' first Changed events are not
        edits: the first check, after the first frame, reads every field anyway)."""
        self._check_planned = False
        """Whether the first check is on its way (see ``_compositor_refresh``)."""
        self._check_by = 0.0
        """When the first check runs even if the terminal has not taken the first frame."""

    def compose(self) -> ComposeResult:
        """The form: session, data, risk groups; below it, always in sight, the Start row."""
        yield DeskBar()
        # Not a tab stop of its own: Tab after Start wraps to Mode (a hidden stop there once
        # took Enter and started a second session).
        with VerticalScroll(id="setup-form", can_focus=False):
            yield Static("New session", classes="form-title")
            note = carried_note(self.defaults)
            carried = Static(note, id="carried", classes="field-note", markup=False)
            carried.display = bool(note)
            yield carried
            yield from choice_row("Mode", "mode", [(MODE_LABELS[m], m) for m in MODES], "local")
            yield Static("", id="alpaca-status", classes="field-note", markup=False)
            with Horizontal(classes="field"):
                yield Label("Enable live trading", classes="field-label")
                yield Checkbox(
                    LIVE_SWITCH_ON if self.live_allowed else LIVE_SWITCH_OFF,
                    self.live_allowed,
                    compact=True,
                    id="enable-live",
                    disabled=not self.live_allowed,
                )
            with Horizontal(classes="field", id="adopt-row"):
                yield Label("Adopt positions", classes="field-label")
                adopt = bool(self.defaults.get("adopt_positions"))  # the settings file's
                yield Checkbox(ADOPT_HINT, adopt, compact=True, id="adopt")
            yield from choice_row("Data source", "data", DATA_LABELS, self.defaults.get("data"))
            for name, label, hint in TEXT_FIELDS:
                if name == "learning_rate":  # the weights first, then how they learn
                    yield from choice_row(
                        "Weights", "weights", WEIGHTS, self.defaults.get("weights")
                    )
                value = str(self.db_path) if name == "db" else self.defaults[name]
                with Horizontal(classes="field", id=f"{name}-row"):
                    yield Label(label, classes="field-label")
                    yield OrderedInput(
                        value,
                        placeholder=hint,
                        compact=True,
                        id=name,
                        classes="field-input",
                        select_on_focus=False,
                    )
                    yield Static("", id=f"{name}-error", classes="field-error", markup=False)
            with Horizontal(classes="field"):
                yield Label("Flatten on halt", classes="field-label")
                yield Checkbox(
                    "close the desk's positions when trading halts",
                    bool(self.defaults.get("flatten_on_halt")),
                    compact=True,
                    id="flatten",
                )
            with Horizontal(classes="field", id="suspend-row"):  # Alpaca modes only
                yield Label("Suspend on halt", classes="field-label")
                yield Checkbox(
                    "a halt suspends the account (every process)",
                    bool(self.defaults.get("suspend_on_halt")),  # the settings file's
                    compact=True,
                    id="suspend",
                )
        # Outside the scrolled form: Start and the plan's summary stay in sight at any size,
        # and the form opens at its top (Mode first), not scrolled down to a focused Start.
        with Horizontal(id="start-row"):
            yield Button("Start session", id="start", variant="success")
            yield Static("", id="form-summary", markup=False)
        yield DeskFooter()

    def _compositor_refresh(self) -> None:
        """Textual's frame; the first one that reaches the terminal starts the form's first
        check, which makes the Start button reflect the defaults.

        After that frame: checking makes a session plan, which imports the engine and the store
        (~0.4 s of CPU), and the form is on the screen first (issue 17). A callback "after the
        refresh" is no such moment: while the app starts, Textual batches its updates (frames
        are dropped) and runs those callbacks at once, so the check ran before the first frame
        the terminal got. Starting checks the form again in any case, so nothing unchecked can
        start.
        """
        super()._compositor_refresh()
        app = self.app
        if not self._check_planned and self.is_current and app.is_running and not app._batch_count:
            self._check_planned = True
            self._check_by = time.monotonic() + FIRST_CHECK_WAIT_S
            self.call_later(self._first_check_once_out)

    def _first_check_once_out(self) -> None:
        """The first check, once the first frame has left for the terminal (or after
        ``FIRST_CHECK_WAIT_S`` in any case): the check's imports hold Python's lock, and the
        thread that writes to the terminal waited for them (~0.15 s under load)."""
        if _output_waiting(self.app) and time.monotonic() < self._check_by:
            self.set_timer(FIRST_CHECK_POLL_S, self._first_check_once_out)
            return
        self._first_check()

    def _first_check(self) -> None:
        """The first check of the form, once it is on the screen."""
        self._checked = True
        self.revalidate()

    def _recheck(self) -> None:
        """Check the form again after an edit (from the first check on)."""
        if self._checked:
            self.revalidate()

    def values(self) -> dict[str, str]:
        """Every field's current text, over the settings file's keys that have no field."""
        out = {key: self.defaults[key] for key in CARRIED if key in self.defaults}
        out |= {name: self.query_one(f"#{name}", Input).value for name, _, _ in TEXT_FIELDS}
        out["mode"] = str(self.query_one("#mode", Select).value)
        out["data"] = str(self.query_one("#data", Select).value)
        out["weights"] = str(self.query_one("#weights", Select).value)
        return out

    def revalidate(self) -> FormResult:
        """Validate, show each reason beside its field, and enable Start only when all is well."""
        self.live_enabled = self._live_switch_on()
        adopt, suspend = self._warned_switches()
        self.result = validate(
            self.values(),
            flatten_on_halt=self.query_one("#flatten", Checkbox).value,
            adopt_positions=adopt,
            live_enabled=self.live_enabled,
            live_confirmed=self.live_confirmed and (adopt, suspend) == self._warned,
            suspend_on_halt=suspend,
        )
        errors = self.result.errors
        for name in [n for n, _, _ in TEXT_FIELDS] + ["mode", "data", "weights"]:
            self.query_one(f"#{name}-error", Static).update(errors.get(name, ""))
            widget = self.query_one(f"#{name}")
            widget.set_class(name in errors, "-invalid-field")
        self.query_one("#start", Button).disabled = self.result.plan is None
        values = self.values()
        mode = values["mode"]
        self.query_one("#data-row").display = mode == "local"  # Alpaca modes use Alpaca's data
        self.query_one("#adopt-row").display = mode != "local"  # a local account has no outside
        self.query_one("#suspend-row").display = mode != "local"  # ... and no account to suspend
        for name in ("replay_file", "seed"):  # the local offline market's (values kept)
            self.query_one(f"#{name}-row").display = mode == "local"
        label, hint = CASH_LABELS["local" if mode == "local" else "alpaca"]
        self.query_one("#start_cash-row Label", Label).update(label)
        self.query_one("#start_cash", Input).placeholder = hint
        adaptive = values["weights"] == "adaptive"  # fixed weights have nothing to learn
        for name in ("learning_rate", "weight_floor"):
            self.query_one(f"#{name}-row").display = adaptive or name in errors
        status = self.query_one("#alpaca-status", Static)
        described = alpaca_status(mode).describe() if mode != "local" else ""
        # Missing credentials are the mode's error already: say it once, beside the field.
        status.display = mode != "local" and errors.get("mode") != described
        if status.display:
            status.update(f"Alpaca {mode}: {described}")
        plan = self.result.plan
        if plan is None:
            summary = f"{len(errors)} field(s) need attention"
        else:
            adopting = ", adopting positions" if plan.adopt_positions else ""
            summary = f"ready: Enter starts the session{adopting}"
        self.query_one("#form-summary", Static).update(summary)
        return self.result

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed, "#data")
    @on(Select.Changed, "#weights")
    def _changed(self) -> None:
        """Any edit re-checks the whole form."""
        self._recheck()

    @on(Select.Changed, "#mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        """Choosing live (when enabled) shows the warning; cancelling it goes back."""
        previous, self._mode = self._mode, str(event.value)
        self._suggest_for(previous, self._mode)
        if self._mode != "live":
            self.live_confirmed = False
        elif self._live_switch_on() and not self.live_confirmed:
            limits = self._limits_or_defaults()
            switches = self._warned_switches()

            def answered(confirmed: bool | None) -> None:
                self.live_confirmed = bool(confirmed)
                self._warned = switches
                if not confirmed:  # the mode goes back, and so do the defaults it swapped
                    self._suggest_for("live", previous)
                    self._mode = previous
                    self.query_one("#mode", Select).value = previous
                self.revalidate()

            self._warn_live(limits, switches[0], answered)
        self._recheck()

    def _suggest_for(self, previous: str, mode: str) -> None:
        """Swap the untouched timing and cash defaults from ``previous``'s to ``mode``'s.

        A cancelled live warning swaps them back itself: the mode's put-back comes as a change
        from the mode it returns to, which swaps nothing, and the local form kept Alpaca's
        1m/5d and an empty starting cash ("not a number: ''", the Start refused)."""
        timing = self.query_one("#interval", Input), self.query_one("#period", Input)
        suggest_timing(*timing, previous, mode)
        if not self.defaults.get(CASH_SET):  # the settings file's start_cash stays
            suggest_cash(self.query_one("#start_cash", Input), previous, mode)

    @on(Checkbox.Changed, "#adopt")
    @on(Checkbox.Changed, "#suspend")
    def _warned_switch_changed(self) -> None:
        """Adopting positions changes what a live session may trade, suspending on halt what a
        halt does to the account: after the live warning was confirmed, changing either shows
        the warning again, saying so; cancelling it puts the switches back as confirmed."""
        self._ask_for_switches()

    def _limits_or_defaults(self) -> RiskLimits:
        """The limits typed so far (the defaults where a field is invalid), for the warning."""
        return typed_limits(self.values()) or RiskLimits()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        """Enter in a field starts the session too, if the form is valid."""
        self.action_start()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        """The Start button."""
        self.action_start()

    def action_start(self) -> None:
        """Start the session the form describes, if it is valid."""
        result = self.revalidate()
        plan = result.plan
        if plan is None:
            self.notify("Fix the highlighted fields first.", severity="warning")
            return
        if plan.mode == "live":  # the gate again, on the database the session will write to
            terms = (plan.settings.limits, plan.settings.capital)
            if terms != self._warned_terms:  # edited since the warning: it names them again

                def again(confirmed: bool | None) -> None:
                    if confirmed:
                        self.action_start()

                self._warn_live(terms[0], plan.adopt_positions, again, capital=terms[1])
                return
            from tui_trader.tui.live_gate import gated_plan

            plan, refused = gated_plan(plan, self.defaults, self.skip_readiness)
            if refused:
                self.notify(refused, severity="error", timeout=30)
                return
            # one confirmation, one live session: the next Start (after this session ends, or
            # fails to start) shows the warning and asks for the phrase again
            self._warned_terms = None
        if plan.adopt_positions and plan.mode != "live":  # live: its warning said it
            self._confirm_adoption(plan)
            return
        self.app.start_plan(plan)  # type: ignore[attr-defined]

    def _confirm_adoption(self, plan: SessionPlan) -> None:
        """Adopting positions changes what the desk may trade: ask before starting (the safe
        answer first and focused, as every confirmation here)."""

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.app.start_plan(plan)  # type: ignore[attr-defined]

        question = f"{adopt_warning(True)}\n\nStart the {plan.mode} session adopting positions?"
        self.app.push_screen(
            ConfirmScreen("Adopt positions", question, yes="Start and adopt", no="Go back"),
            answered,
        )

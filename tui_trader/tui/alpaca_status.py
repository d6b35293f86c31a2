"""What the setup screen says about Alpaca: the credentials found, the URL, adopting positions.

Plain text and plain functions (no Textual), apart from the form's field rules in
``setup_form``; the credentials are looked for where the session will look, and only a hint of
the key is ever shown, never the secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui_trader.brokers.alpaca_config import LIVE_URL, PAPER_URL
from tui_trader.brokers.alpaca_env_file import ConfigError, env_file_problem, read_settings
from tui_trader.brokers.env_lines import last_skipped, summary

ADOPT_HINT = "trade shares changed while no session ran"
"""The setup screen's one line on ``--adopt-positions`` (Alpaca modes only; off by default:
such shares are left alone). Short enough for 80 columns; the dialogs say it in full."""


def adopt_warning(adopt: bool) -> str:
    """What adopting positions means, for the dialogs that confirm a session (plain text)."""
    if adopt:
        return (
            "Adopt positions: ON. Shares bought or sold by hand (or by another program) while "
            "no session ran become this desk's own, and it trades them towards its targets: "
            "it may sell them."
        )
    return "Adopt positions: off. Shares changed while no session ran are left alone."


def halt_warning(suspend_on_halt: bool) -> str:
    """What a halt will do to the account (``suspend_on_halt``, the settings file's or
    ``--suspend-on-halt``), for the live warning: one row at 80 columns (plain text)."""
    if suspend_on_halt:
        return "A halt suspends the whole account (every process) until re-armed."
    return "A halt stops only this account's sessions' new orders (no suspend)."


@dataclass(frozen=True, slots=True)
class AlpacaStatus:
    """Whether Alpaca credentials were found, and where orders would go; never the secret."""

    key_found: bool
    secret_found: bool
    key_hint: str
    url: str
    source: str
    problem: str = ""
    """Why the settings could not be read (a ``.env`` that is binary, has an unclosed quote or
    sets a key twice); then no credentials count as found."""
    skipped: str = ""
    """The ``.env`` lines skipped as no setting, by number (``env_lines.summary``): the desk's
    way of saying what the command line warns of on stderr (hostile28c)."""
    env_file_note: str = ""
    """Why no credentials were found in ``.env`` when it is there but no file to read (a
    folder, a broken or looping link, a pipe): the command line's words
    (``alpaca_env_file.env_file_problem``)."""

    def describe(self) -> str:
        """One line for the setup screen."""
        if self.problem:
            return f"{self.problem}; URL {self.url}"
        if self.key_found and self.secret_found:
            found = f"credentials found ({self.source}): key {self.key_hint}, secret set"
        elif self.key_found or self.secret_found:
            missing = "APCA_API_SECRET_KEY" if self.key_found else "APCA_API_KEY_ID"
            found = f"credentials incomplete ({self.source}): {missing} missing"
        else:
            found = "no credentials found (APCA_API_KEY_ID / APCA_API_SECRET_KEY, env or .env)"
            if self.env_file_note:
                found = f"{found}: {self.env_file_note}"
        skipped = f"; {self.skipped}" if self.skipped else ""
        return f"{found}; URL {self.url}{skipped}"


def alpaca_status(
    mode: str, env: dict[str, str] | None = None, dotenv: Path | None = None
) -> AlpacaStatus:
    """Look for Alpaca credentials where the session will (``read_settings``); the URL.

    A ``.env`` the session would refuse is this status's ``problem``, shown beside the mode
    with Start off; the ``ConfigError`` escaped into the setup screen's handlers before."""
    default = LIVE_URL if mode == "live" else PAPER_URL
    dotenv = dotenv if dotenv is not None else Path.cwd() / ".env"  # where the session looks
    try:
        values, where = read_settings(env, dotenv)
    except ConfigError as exc:
        return AlpacaStatus(False, False, "", default, ".env file", problem=str(exc))
    source = where if where == "environment" else f"{where} file"
    key = values.get("APCA_API_KEY_ID", "")
    secret = values.get("APCA_API_SECRET_KEY", "")
    url = values.get("APCA_API_BASE_URL") or default
    hint = f"{key[:4]}…" if len(key) > 4 else ("set" if key else "")
    # nothing found: say why a .env that is there was not read, as the command line does
    note = env_file_problem(dotenv) if not (key or secret) else ""
    skipped = "" if where == "environment" else summary(last_skipped(dotenv))
    return AlpacaStatus(
        bool(key), bool(secret), hint, url, source, skipped=skipped, env_file_note=note
    )

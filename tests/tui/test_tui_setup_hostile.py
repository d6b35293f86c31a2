"""The setup screen's fields under hostile input: a huge paste, control characters, Unicode
digits, a PostgreSQL URL, and the live warning's phrase with lookalikes.

Before: a Database path too long for the system (a paste) raised ``OSError`` out of the form's
check (the desk crashed on the keystroke), as did such a replay file; a control character in
the Database field was taken as a file name; the Seed field took ``７``, ``1_000`` and a number
of 4,000 digits; and the desk started on a PostgreSQL store (``tui-trader --db
postgresql://...``) read the URL shown in its Database field as a file path, so its sessions
went to a SQLite file under a folder named ``postgresql:``.
"""

from __future__ import annotations

import os

import pytest
from textual.widgets import Button, Checkbox, Input, Select, Static
from tui_helpers import wait_for

from tui_trader.store.pg_url import PgUrl
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.setup_form import DEFAULTS, LIVE_PHRASE, validate

SIZE = (120, 36)


async def test_a_huge_paste_in_the_database_field_is_a_reason_not_a_crash(db_path) -> None:
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        error = setup.query_one("#db-error", Static)
        setup.query_one("#db", Input).value = "x" * 5000 + ".db"
        await wait_for(pilot, lambda: "path is too long" in str(error.render()), "the reason")
        assert app.is_running and app.screen is setup
        assert setup.query_one("#start", Button).disabled


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"db": "x" * 300 + "/a.db"}, "db", "path is too long"),
        ({"db": "desk\x1b[2J.db"}, "db", "path holds a control character"),
        ({"data": "replay", "replay_file": "x" * 5000}, "replay_file", "File name too long"),
        ({"data": "replay", "replay_file": "a\x1b[2J.csv"}, "replay_file", "control character"),
        ({"seed": "７"}, "seed", "not a whole number"),
        ({"seed": "1_000"}, "seed", "not a whole number"),
        ({"seed": "9" * 4000}, "seed", "not a whole number"),
    ],
    ids=[
        "db-long-name",
        "db-escape",
        "replay-long",
        "replay-escape",
        "seed-fullwidth",
        "seed-underscore",
        "seed-4000-digits",
    ],
)
def test_each_hostile_field_gets_its_reason(
    changes: dict[str, str], field: str, words: str
) -> None:
    result = validate(dict(DEFAULTS, db="desk.db") | changes)
    assert result.plan is None
    assert words in result.errors[field], result.errors


def test_a_postgresql_database_field_is_the_store_not_a_file() -> None:
    url = "postgresql://trader@db-host:5432/desk"
    plan = validate(dict(DEFAULTS, db=url)).plan
    assert plan is not None
    assert isinstance(plan.settings.db, PgUrl) and plan.settings.db.dsn == url


LOOKALIKES = [
    LIVE_PHRASE + " ",
    " " + LIVE_PHRASE,
    LIVE_PHRASE.lower(),
    LIVE_PHRASE.replace(" ", "\u00a0"),  # no-break spaces
    LIVE_PHRASE.replace("E", "\u0415"),  # Cyrillic Ie
    LIVE_PHRASE.replace("I", "\u0406"),  # Cyrillic I
    "ＹＥＳ Ｉ ＵＮＤＥＲＳＴＡＮＤ",  # fullwidth
    LIVE_PHRASE.replace("S", "S\u200b", 1),  # a zero-width space
]


async def test_only_the_exact_phrase_unlocks_live(db_path) -> None:
    """The confirm button is on for the exact words only, and pressing it some other way
    while a lookalike is typed does not go live."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)  # past the paper record
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        setup.query_one("#enable-live", Checkbox).value = True
        setup.query_one("#mode", Select).value = "live"
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        warning = app.screen
        phrase = warning.query_one("#live-phrase", Input)
        confirm = warning.query_one("#live-confirm", Button)
        for typed in LOOKALIKES:
            phrase.value = LIVE_PHRASE  # the exact words enable it ...
            await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
            phrase.value = typed  # ... and a lookalike disables it again
            await wait_for(pilot, lambda: confirm.disabled, f"disabled for {typed!r}")
            confirm.disabled = False  # pressed some other way: the phrase is checked again
            confirm.press()
            await pilot.pause()
            assert app.screen is warning and not setup.live_confirmed, repr(typed)


@pytest.mark.parametrize("typed", ["[/]", "[/bold]x", "[bold]x", "[link=https://evil.example]x"])
async def test_square_brackets_typed_in_a_field_are_shown_as_typed(db_path, typed: str) -> None:
    """The field's reason quotes what was typed, and shows it as typed: ``[/]`` or ``[/bold]``
    in the Stop loss field was read as markup under it, and a closing tag that matches nothing
    raised MarkupError out of the desk (it ended); ``[bold]x`` lost its brackets."""
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        error = setup.query_one("#stop_loss-error", Static)
        setup.query_one("#stop_loss", Input).value = typed
        await wait_for(pilot, lambda: typed in str(error.render()), "the reason, as typed")
        assert app.is_running and app.screen is setup


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda env: env.mkdir(), "is a folder, not a settings file"),
        (lambda env: env.symlink_to(env.parent / "gone"), "which does not exist"),
        (lambda env: env.symlink_to(env), "is a symbolic link that loops"),
    ],
    ids=["folder", "broken-link", "looping-link"],
)
async def test_a_dotenv_that_is_no_file_is_named_on_the_setup_screen(
    db_path, tmp_path, monkeypatch: pytest.MonkeyPatch, make, said: str
) -> None:
    """Choosing Alpaca paper with ``.env`` a folder or a broken link said only "no credentials
    found"; the command line names what ``.env`` is, and the desk now says the same words."""
    for name in [n for n in os.environ if n.startswith("APCA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    make(tmp_path / ".env")
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        setup.query_one("#mode", Select).value = "paper"
        error = setup.query_one("#mode-error", Static)
        await wait_for(pilot, lambda: said in str(error.render()), "what .env is")
        assert "no credentials found" in str(error.render())
        assert setup.query_one("#start", Button).disabled


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("fifo", "is not a regular file (a device, pipe or socket)"),
        ("loop", "is a link to no file"),
        ("dangling", "is a link to no file"),
        ("folder", "is a folder, not a bar file"),
        ("missing", "no such file: "),
    ],
)
def test_a_replay_file_that_is_no_file_is_named_for_what_it_is(
    tmp_path, kind: str, words: str
) -> None:
    """The replay file field said "no such file" for a pipe, a loop of links or a folder, all
    of which are there (``ls`` shows them): the user looked for a typo. It says what the path
    is, in the words ``tui-trader paper --replay`` uses."""
    path = tmp_path / "bars.csv"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        path.symlink_to(tmp_path / "other.csv")
        (tmp_path / "other.csv").symlink_to(path)
    elif kind == "dangling":
        path.symlink_to(tmp_path / "gone.csv")
    elif kind == "folder":
        path.mkdir()
    result = validate(dict(DEFAULTS, db="desk.db", data="replay", replay_file=str(path)))
    assert result.plan is None
    assert words in result.errors["replay_file"], result.errors
    assert ("no such file" in result.errors["replay_file"]) == (kind == "missing")

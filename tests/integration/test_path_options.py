"""Path options refuse a name a terminal would act on: one line, exit 2, nothing written.

Every option that names a file or folder (``--html``, ``--out``, ``--cache-dir``, ``--to``,
``--backup-dir``, ``--config``, ``db verify|restore FILE``, ``--data replay:FILE``, ``learn
evaluate --data``) goes through ``cli.common.path_text``. Before it, an escape sequence or a
newline in the name was taken, the file or folder made under that name, and the name printed
raw (``report --html $'x\\e[2J.html'`` cleared the user's screen as it said where it wrote).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, place, run_main

__all__ = ["place"]  # the fixture, shared with test_bad_input

ESCAPE = "x\x1b[2J"
"""A name holding the escape sequence that clears a terminal."""

CASES: list[tuple[str, list[str]]] = [
    ("report-html", ["report", "--html", ESCAPE + ".html"]),
    ("report-html-newline", ["report", "--html", "a\nb.html"]),
    ("export-out", ["data", "export", "--symbol", "SPY", "--out", ESCAPE + ".csv"]),
    ("list-cache-dir", ["data", "list", "--cache-dir", ESCAPE]),
    ("clear-cache-dir-newline", ["data", "clear", "--cache-dir", "c\nd"]),
    ("backup-to", ["db", "backup", "--to", "b\x1b]0;title\x07"]),
    ("paper-backup-dir", ["paper", "--backup-dir", "b\tc"]),
    ("verify-file", ["db", "verify", ESCAPE + ".db"]),
    ("restore-file", ["db", "restore", ESCAPE + ".db"]),
    ("paper-config", ["paper", "--config", ESCAPE + ".toml"]),
    ("paper-replay", ["paper", "--data", "replay:" + ESCAPE + ".csv"]),
    ("learn-data", ["learn", "evaluate", "--data", ESCAPE + ".csv"]),
    ("learn-data-not-utf8", ["learn", "evaluate", "--data", "x\udcff.csv"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_a_control_character_in_a_path_option_is_refused(
    place: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    before = sorted(p.name for p in place.iterdir())
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, "holds a control character", place)
    assert "\x1b" not in err and "\t" not in err, "the name was printed raw"
    assert sorted(p.name for p in place.iterdir()) == before, "something was written"


def test_the_cache_variable_is_held_to_the_same_rule(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", ESCAPE)
    code, out, err, _ = run_main(["data", "list"], capsys)
    assert_one_line_exit_2(code, out, err, "$TUI_TRADER_CACHE_DIR: holds a control", place)
    assert "\x1b" not in err


def test_cache_dir_is_the_shared_folder_option(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--cache-dir`` is refused where ``folder_arg`` refuses, before anything runs: a file
    given as the folder is named as such, a blank name is refused (as for --to)."""
    code, out, err, _ = run_main(["data", "clear", "--cache-dir", "daily.csv"], capsys)
    assert_one_line_exit_2(code, out, err, "daily.csv is a file, not a folder", place)
    code, out, err, _ = run_main(["data", "list", "--cache-dir", " "], capsys)
    assert_one_line_exit_2(code, out, err, "--cache-dir: is empty: name a folder", place)


@pytest.mark.parametrize("given", ["--db", "settings", "variable"])
@pytest.mark.parametrize("link", ["file-gone", "folder-gone", "loop"])
def test_a_database_that_is_a_link_to_nothing_is_refused_not_made(
    place: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    given: str,
    link: str,
) -> None:
    """``desk.db`` links to a store moved away, or on a drive not mounted. A session made a
    new, empty database at the link's target and traded from a fresh risk state (the real
    store's halts and peak equity unread); with the target's folder gone too it said "unable
    to open database file", and with a loop "Too many levels of symbolic links". Now one line
    naming the link, exit 2, nothing made, whichever way the path was given."""
    db = place / "desk.db"
    target = place / "mnt" / "store" / "desk.db"
    if link != "loop":
        if link == "file-gone":
            target.parent.mkdir(parents=True)
        db.symlink_to(target)
    else:
        db.symlink_to(place / "other.db")
        (place / "other.db").symlink_to(db)
    argv = ["paper", "--iterations", "2"]
    if given == "--db":
        argv += ["--db", "desk.db"]
    elif given == "settings":
        (place / "tui-trader.toml").write_text('db = "desk.db"\n')
    else:
        monkeypatch.setenv("TUI_TRADER_DB", "desk.db")
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, "desk.db is a link to no file", place)
    assert not target.exists() and not db.exists()

"""What every subcommand shares: exit codes, one-line errors, option parsers, the database path.

Option values are checked here, at the edge, so that the core only ever sees valid settings and
a user who types something wrong gets one line that says what and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from tui_trader.cli.db_paths import (
    db_path_problem,
    dead_link_problem,
    folder_problem,
    quoted,
)
from tui_trader.core.shown import shown_path
from tui_trader.core.symbols import SYMBOL_RE, too_many_symbols
from tui_trader.security.private_files import make_private_dir

if TYPE_CHECKING:
    from tui_trader.store.peewee_names import Database
    from tui_trader.store.pg_url import PgUrl

EXIT_USAGE = 2
EXIT_CRASH = 1

log = logging.getLogger("tui_trader")


class UsageError(Exception):
    """Input the user can fix: printed as one line, exit code 2."""


def warn_unreadable() -> None:
    """One warning line on stderr per hand-edited number a read command showed as unreadable
    (``store.stored_numbers``); nothing when no reader was loaded."""
    numbers = sys.modules.get("tui_trader.store.stored_numbers")
    if numbers is None:
        return
    from tui_trader.core.shown import shown_line

    for note in numbers.take_notes():
        with contextlib.suppress(OSError):
            print(f"tui-trader: warning: {shown_line(note)}", file=sys.stderr)


def warn_env_lines() -> None:
    """One warning line on stderr per ``.env`` line skipped as no setting (``brokers.env_lines``),
    naming the file and the line number, never the line; each once a process."""
    env_lines = sys.modules.get("tui_trader.brokers.env_lines")
    if env_lines is None:  # no .env was read
        return
    from tui_trader.core.shown import shown_line

    for note in env_lines.take_notes():
        with contextlib.suppress(OSError):
            print(f"tui-trader: warning: {shown_line(note)}", file=sys.stderr)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``tui-trader: error: message`` on stderr (one line, redacted) and exit."""
    from tui_trader.core.shown import shown_line
    from tui_trader.security.redact import redact

    line = " ".join(part.strip() for part in redact(message).splitlines() if part.strip())
    line = shown_line(line)
    with contextlib.suppress(OSError):  # stderr's reader gone (2>&1 | head): the code stays
        print(f"tui-trader: error: {line}", file=sys.stderr)
    raise SystemExit(code)


def data_dir() -> Path:
    """The user's data directory for tui-trader (created on demand)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("tui-trader", appauthor=False))


def default_db_path() -> Path:
    """Where the audit database lives unless ``--db`` says otherwise."""
    return data_dir() / "tui_trader.db"


# -- option value parsers (argparse ``type=``): raise ArgumentTypeError for one-line errors -----


def symbols_arg(text: str) -> tuple[str, ...]:
    """``SPY,QQQ,IWM`` into a tuple of upper-case tickers; no empties, no duplicates.

    An error names the first offending symbol (cut short), never the whole list: a list of
    thousands of characters must still be one readable line."""
    typed = [p.strip() for p in text.split(",")]
    foreign = next((p for p in typed if not p.isascii()), None)
    if foreign is not None:  # 'ß'.upper() is 'SS', 'ﬀ' 'FF', 'ı' 'I': a ticker nobody typed
        raise argparse.ArgumentTypeError(f"invalid symbol {_cut(foreign)!r} (ASCII letters only)")
    parts = [p.upper() for p in typed]
    if not text.strip() or any(not p for p in parts):
        where = next((i for i, p in enumerate(parts) if not p), 0) + 1
        raise argparse.ArgumentTypeError(
            f"invalid symbol list {_cut(text)!r}: empty symbol (number {where})"
        )
    bad = [p for p in parts if not SYMBOL_RE.match(p)]
    if bad:
        raise argparse.ArgumentTypeError(f"invalid symbol {_cut(bad[0])!r}")
    seen: set[str] = set()
    for part in parts:  # name it: in a list of fifty the whole list hid it
        if part in seen:
            raise argparse.ArgumentTypeError(f"duplicate symbol {part} in the list")
        seen.add(part)
    return tuple(parts)


def session_symbols_arg(text: str) -> tuple[str, ...]:
    """A trading session's ``--symbols`` (``symbols_arg``), at most ``MAX_SESSION_SYMBOLS``."""
    symbols = symbols_arg(text)
    refusal = too_many_symbols(len(symbols))
    if refusal:
        raise argparse.ArgumentTypeError(refusal)
    return symbols


def period_text(text: str) -> str:
    """``--period`` of a trading command, checked here (``60d``, ``6mo``, ``1y``) and kept as
    typed. Unchecked until the session was built, a settings file's bad ``period`` was refused
    without naming the file, its line or the key."""
    from tui_trader.core.timeframes import TimeframeError, parse_period

    try:
        parse_period(text)
    except TimeframeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def interval_text(text: str) -> str:
    """``--interval`` of a trading command (``1m`` ... ``1d``), checked here, kept as typed."""
    from tui_trader.core.timeframes import TimeframeError, parse_interval

    try:
        parse_interval(text)
    except TimeframeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def data_text(text: str) -> str:
    """``paper --data`` (``sim``, ``yahoo``, ``replay:FILE``), checked here, kept as typed
    (the file itself is read when the session starts)."""
    from tui_trader.market import MarketDataError
    from tui_trader.market.sources import parse_data_spec

    raw = text.strip()
    problem = url_problem(raw, "a data source (sim, yahoo or replay:FILE)")
    if problem:
        raise argparse.ArgumentTypeError(problem)
    if raw.startswith("replay:") and raw.removeprefix("replay:").strip():
        path_text(raw.removeprefix("replay:"))
    try:
        parse_data_spec(text)
    except MarketDataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def url_problem(text: str, what: str) -> str | None:
    """Why a URL (``postgresql://bob:PASSWORD@host/db``, often ``$TUI_TRADER_DB``) is no
    ``what``, without its text, or None. Path options took it as a path: the refusal quoted the
    password, and ``db backup --to``, ``--backup-dir`` and ``--cache-dir`` made folders named
    after it (the password stored in a file name, then printed as the backup's path)."""
    from tui_trader.store.pg_url import looks_like_url

    if not looks_like_url(text.strip()):
        return None
    scheme = text.strip().partition("://")[0]
    return f"is a URL ({scheme}://...), not {what} (the rest is not shown: it may hold a password)"


def path_text(text: str, what: str = "a file") -> str:
    """A path option's text as typed, refused when blank or when it holds a character a
    terminal would act on or cannot show: a control character (an escape sequence, a line
    break, a NUL) or a byte that is not UTF-8. Such a name was taken and then printed raw
    (``report --html $'x\\e[2J.html'`` cleared the screen as it said where it wrote; a newline
    split the one-line answer in two). ``--db`` and the session keys follow the same rule.
    A URL is refused unquoted (``url_problem``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"is empty: name {what}")
    problem = url_problem(text, what)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    if not text.isprintable():
        raise argparse.ArgumentTypeError(
            f"holds a control character or a byte that is not UTF-8: {quoted(text)}"
        )
    problem = home_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def home_problem(text: str) -> str | None:
    """Why a leading ``~user`` cannot be expanded (no such user here), or None. pathlib's
    ``expanduser`` raised ``RuntimeError`` on it: ``--db '~nosuch/x.db'`` and ``--to`` ended in
    a traceback (exit 1), ``$TUI_TRADER_DB`` in a crash log; taken as typed it would make a
    folder named ``~nosuch`` in the working one."""
    raw = text.strip()
    if raw.startswith("~") and os.path.expanduser(raw) == raw:
        user = quoted(raw.split("/", 1)[0])
        return f"names no home folder: {user} is no user on this machine"
    return None


def file_arg(text: str) -> Path:
    """A file an option reads (``--config``, ``db verify FILE``, ``db restore FILE``): checked
    as ``path_text``; whether it exists is the command's to say."""
    return Path(path_text(text))


def output_file_arg(text: str) -> Path:
    """A file an option writes (``report --html``, ``data export --out``): a new file or an
    existing regular one. A pipe made the command wait for a reader forever, and a device was
    written and then made owner-only (``report --html /dev/null`` run as root left the
    machine's ``/dev/null`` at 0600, which broke every other user's programs)."""
    path = Path(path_text(text))
    try:
        mode = path.stat().st_mode
    except OSError:  # not there yet (or unreachable: the writer says why)
        return path
    if stat.S_ISDIR(mode):
        raise argparse.ArgumentTypeError(f"{shown_path(text)} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise argparse.ArgumentTypeError(
            f"{shown_path(text)} is not a regular file (a device, pipe or socket): write to a file"
        )
    if _is_sqlite(path):  # 'report --db desk.db --html desk.db' wrote the page over the store
        raise argparse.ArgumentTypeError(
            f"{shown_path(text)} is a SQLite database (an audit store or its backup?): it would "
            "be written over; name another file"
        )
    return path


def _is_sqlite(path: Path) -> bool:
    """Whether ``path`` begins as every SQLite database does (unreadable: the writer says)."""
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def folder_arg(text: str) -> Path:
    """A folder an option writes into (``db backup --to``, ``--backup-dir``): made if missing,
    refused when empty, when the name is a file, or a link to nothing (a loop of links, a
    target gone). ``db backup --to FILE`` failed as a check (exit 1), and ``--backup-dir FILE``
    started the session, whose every backup then failed; so did a link to nothing."""
    path = Path(path_text(text, "a folder")).expanduser()
    try:
        is_other = path.exists() and not path.is_dir()
        is_dead_link = not path.exists() and path.is_symlink()
    except OSError as exc:  # a name longer than the file system allows
        raise argparse.ArgumentTypeError(f"{shown_path(text)}: {exc.strerror or exc}") from None
    if is_other:
        raise argparse.ArgumentTypeError(f"{shown_path(text)} is a file, not a folder")
    if is_dead_link:  # exists() is False for it, but no folder can be made there
        raise argparse.ArgumentTypeError(
            f"{shown_path(text)} is a link to no folder (its target is gone, or the links lead "
            "back to themselves)"
        )
    return path


def key_arg(text: str) -> str:
    """A session or account key typed by hand (``--session``, ``--account``): not blank, no
    control characters. A blank one fell back to the latest session (``risk reset --account
    ""`` re-armed an account nobody named) or crashed ``fleet halt``; one with an escape
    sequence was stored as an account's key and printed raw by ``risk show``."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: name a key, or leave the option out")
    if not text.isprintable():
        raise argparse.ArgumentTypeError(f"holds a control character: {quoted(text)}")
    return text


def _cut(text: str, most: int = 40) -> str:
    """``text`` cut to ``most`` characters (an ellipsis says it was), for an error line."""
    return text if len(text) <= most else text[: most - 1] + "…"


DB_ENV = "TUI_TRADER_DB"
"""The environment variable naming the audit database when ``--db`` is not given (a file path
or a PostgreSQL URL: set it once for every command of a fleet of desks)."""


def db_arg(text: str) -> Path | PgUrl:
    """``--db``'s value: a PostgreSQL URL (``postgresql://USER@HOST:PORT/DB``) or a file path.
    A URL of another scheme is refused (one line, the password never in it). A leading ``~``
    is the user's home, as on the desk's setup screen: the shell leaves ``--db=~/x.db`` and a
    quoted ``$TUI_TRADER_DB`` as typed, and a folder named ``~`` was made in the working one.
    A path too long or holding a control character (``db_path_problem``) is refused here too."""
    from tui_trader.store.pg_url import looks_like_url, parse_db_url

    if not text.strip():  # ' ' was a database file named ' ' in the working folder
        raise argparse.ArgumentTypeError("is empty: name a database file or URL")
    if looks_like_url(text):
        try:
            return parse_db_url(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    problem = home_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    path = Path(text).expanduser()
    problem = (
        db_path_problem(path) or dead_link_problem(path) or folder_problem(path)
    )  # here, so a settings file's
    if problem:  # 'db' is refused with its line
        raise argparse.ArgumentTypeError(problem)
    return path


def add_db_option(parser: argparse.ArgumentParser, dest: str = "db") -> None:
    """``--db PATH|URL``, defaulting to ``$TUI_TRADER_DB``, then the user's data directory
    (``dest``: another name, for a subcommand whose parent takes ``--db`` too)."""
    parser.add_argument(
        "--db",
        dest=dest,
        type=db_arg,
        default=None,
        metavar="PATH|URL",
        help=f"audit database: a SQLite file or postgresql://USER@HOST:PORT/DB (default: "
        f"${DB_ENV}, else {default_db_path()})",
    )


def open_existing_db(path: Path | PgUrl | str | None) -> Database:
    """Open an existing audit store for a report or an action on it, or say why not in one
    line (a missing file, a file that is not ours, a server that does not answer)."""
    from tui_trader.store.db import StoreError, open_database

    try:
        return open_database(resolve_db(path, must_exist=True))
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def resolve_db(path: Path | PgUrl | str | None, must_exist: bool = False) -> Path | PgUrl:
    """The database to use, checked. A PostgreSQL URL is checked for form here (the server is
    asked when the database is opened). A file path: its folder can be created (0700), the file
    read if required, and an existing file is ours (another program's file is refused
    untouched; the damage scan comes when the database is opened)."""
    from tui_trader.store.ownership import check_database
    from tui_trader.store.pg_url import PgUrl

    source = ""
    if path is None and os.environ.get(DB_ENV):
        path, source = os.environ[DB_ENV], f"${DB_ENV} "
    if isinstance(path, str):
        try:
            path = db_arg(path)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"{source}{exc}") from None
    if isinstance(path, PgUrl):
        return path
    db = path or default_db_path()
    problem = db_path_problem(db)
    if problem:
        raise UsageError(f"--db {problem}")
    problem = dead_link_problem(db)  # the default path has not been through db_arg
    if problem:
        raise UsageError(problem)
    try:
        if must_exist and not db.is_file():
            raise UsageError(f"no database at {db} (run a session first, or pass --db)")
        if db.exists() and db.is_dir():
            raise UsageError(f"--db {db} is a directory, not a database file")
        problem = check_database(db, quick_check=False)
        if problem:
            raise UsageError(problem)
        make_private_dir(db.parent)
    except OSError as exc:
        raise UsageError(f"cannot create the folder for {db}: {exc.strerror}") from None
    return db

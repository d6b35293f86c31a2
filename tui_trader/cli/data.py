"""``tui-trader data``: fetch Yahoo bars into the cache, list it, clear it, export from it.

``data fetch`` downloads what the cache lacks (with a progress bar for several symbols),
``data list`` shows what it holds, ``data clear`` forgets it, ``data export`` writes a cached
range to CSV or Parquet for ``--data replay:FILE``. Every failure is one line and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tui_trader.cli.common import UsageError, output_file_arg, symbols_arg
from tui_trader.cli.yahoo_options import add_cache_dir, add_timeout, cache_dir
from tui_trader.core.shown import shown_path
from tui_trader.core.timeframes import NEW_YORK, Interval, Period, TimeframeError
from tui_trader.core.timeframes import parse_interval as _parse_interval
from tui_trader.core.timeframes import parse_period as _parse_period
from tui_trader.market import MarketDataError

if TYPE_CHECKING:
    pass


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``data`` and its four subcommands."""
    data = subparsers.add_parser(
        "data",
        help="market data cache: fetch, list, clear, export",
        description="Yahoo Finance bars in the local Parquet cache.",
    )
    data.set_defaults(handler=_missing_action)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")

    fetch = actions.add_parser("fetch", help="download the bars the cache lacks")
    fetch.add_argument("--symbols", type=symbols_arg, required=True, help="e.g. SPY,QQQ")
    fetch.add_argument(
        "--interval",
        type=interval_arg,
        default=_parse_interval("1d"),
        help="1m, 2m, 5m, 15m, 30m, 1h or 1d (default 1d)",
    )
    fetch.add_argument(
        "--period",
        type=period_arg,
        default=_parse_period("1y"),
        help="how far back: e.g. 5d, 6mo, 5y (default 1y)",
    )
    add_timeout(fetch)
    add_cache_dir(fetch)
    fetch.set_defaults(handler=run_fetch)

    listing = actions.add_parser("list", help="what the cache holds")
    listing.add_argument("--symbols", type=symbols_arg, default=None, help="only these symbols")
    listing.add_argument("--interval", type=interval_arg, default=None, help="only this interval")
    add_cache_dir(listing)
    listing.set_defaults(handler=run_list)

    clear = actions.add_parser("clear", help="delete cached bars")
    clear.add_argument("--symbols", type=symbols_arg, default=None, help="only these (default all)")
    clear.add_argument("--interval", type=interval_arg, default=None, help="only this interval")
    clear.add_argument(
        "--yes", action="store_true", help="do not ask before clearing every symbol (for scripts)"
    )
    add_cache_dir(clear)
    clear.set_defaults(handler=run_clear)

    export = actions.add_parser("export", help="write cached bars to CSV or Parquet")
    export.add_argument("--symbol", type=symbols_arg, required=True, help="one symbol, e.g. SPY")
    export.add_argument(
        "--interval", type=interval_arg, default=_parse_interval("1d"), help="default 1d"
    )
    export.add_argument(
        "--out", type=output_file_arg, required=True, help="FILE.csv or FILE.parquet"
    )
    export.add_argument("--start", type=date_arg, default=None, help="first day, YYYY-MM-DD")
    export.add_argument("--end", type=date_arg, default=None, help="last day, YYYY-MM-DD")
    export.add_argument("--adjusted", action="store_true", help="export adjusted prices")
    add_cache_dir(export)
    export.set_defaults(handler=run_export)


# -- handlers ------------------------------------------------------------------------------------


def run_fetch(args: argparse.Namespace) -> int:
    """Bring the cache up to date for the symbols, interval and period asked for."""
    from tui_trader.market.calendar import us_equity_calendar
    from tui_trader.market.yahoo import YahooOptions, load_history
    from tui_trader.market.yahoo_plan import check_yahoo_interval, window_start

    interval: Interval = args.interval
    period: Period = args.period
    options = YahooOptions(cache_dir=cache_dir(args), timeout=args.timeout)
    with _market_errors():
        check_yahoo_interval(interval)
        start = window_start(interval, period.bars(interval), options.now(), us_equity_calendar())
        with _progress(len(args.symbols)) as progress:
            history = load_history(args.symbols, interval, start, options, progress=progress)
    for note in history.notes:
        print(f"tui-trader: {note}", file=sys.stderr)
    for symbol in args.symbols:
        stamps = history.frame.filter(history.frame["symbol"] == symbol).get_column("timestamp")
        span = f"{_day(stamps.min())} .. {_day(stamps.max())}" if len(stamps) else "no bars"
        print(f"{symbol:<6} {interval.text:<4} {len(stamps):>7,} bars  {span}")
    print(f"{history.requests} request(s) to Yahoo; cache: {options.cache_dir}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print one line per cached file: range, rows, size on disk and age."""
    from tui_trader.market.cache import BarCache

    cache = BarCache(cache_dir(args))
    interval = args.interval.text if args.interval else None
    with _market_errors():
        entries = cache.entries(args.symbols, interval)
    _say_skipped(cache.skipped)
    if not entries:
        print(f"the cache at {cache.root} is empty")
        return 0
    now = datetime.now(UTC)
    print(f"{'SYMBOL':<7}{'INT':<5}{'FIRST':<18}{'LAST':<18}{'ROWS':>9}{'SIZE':>10}  AGE")
    for e in entries:
        print(
            f"{e.symbol:<7}{e.interval:<5}{_stamp(e.first):<18}{_stamp(e.last):<18}"
            f"{'damaged' if e.rows is None else f'{e.rows:,}':>9}{_size(e.size_bytes):>10}  "
            f"{_age(e.age(now))}"
        )
    total = sum(e.size_bytes for e in entries)
    print(f"{len(entries)} file(s), {_size(total)} in {cache.root}")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    """Delete cached files and say how many."""
    from tui_trader.market.cache import BarCache

    cache = BarCache(cache_dir(args))
    if args.symbols is None and not args.yes:
        _confirm_clear_all(cache.root, args.interval)
    removed = cache.clear(args.symbols, args.interval.text if args.interval else None)
    _say_skipped(cache.skipped)
    print(f"removed {removed} cached file(s) from {cache.root}")
    return 0


def _say_skipped(folders: list[Path]) -> None:
    """One warning line for each folder under a cached file's name that ``data list`` and
    ``data clear`` pass over (``BarCache.entries``): it is not the cache's to show or delete."""
    for folder in folders:
        print(
            f"tui-trader: warning: skipped {shown_path(folder)}: a folder, not a file the cache "
            "wrote (left as it is; remove it by hand if it is not yours)",
            file=sys.stderr,
        )


def _confirm_clear_all(root: Path, interval: Interval | None) -> None:
    """Ask before ``data clear`` without ``--symbols`` empties the cache (every symbol's bars,
    perhaps years of them fetched over hours), as ``db restore`` and ``risk reset`` ask; off a
    terminal, without ``--yes``, refuse."""
    from tui_trader.cli.questions import confirmed_by_typing

    which = f"{interval.text} " if interval else ""
    if not confirmed_by_typing(
        "clear",
        f"This deletes every symbol's cached {which}bars in {shown_path(root)}.",
        "Type 'clear' to delete them: ",
        "refusing to clear every symbol's cached bars without confirmation: run in a terminal, "
        "pass --yes, or name --symbols",
    ):
        raise UsageError("not cleared: nothing was deleted")


def run_export(args: argparse.Namespace) -> int:
    """Write one symbol's cached bars (optionally a date range) to CSV or Parquet."""
    import polars as pl

    from tui_trader.market.yahoo import adjust
    from tui_trader.security.private_files import make_private_dir, replace_privately_with

    if len(args.symbol) != 1:
        raise UsageError("--symbol takes one symbol (export them one at a time)")
    symbol = args.symbol[0]
    out: Path = args.out
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise UsageError(f"--out {out}: use a .csv or .parquet file name")
    if args.start and args.end and args.start > args.end:
        raise UsageError(f"--start {args.start} is after --end {args.end}")
    from tui_trader.market.cache import BarCache

    cache = BarCache(cache_dir(args))
    with _market_errors():
        frame = cache.read(symbol, args.interval.text)
    if frame is None:
        raise UsageError(
            f"nothing cached for {symbol} {args.interval.text} "
            f"(run 'tui-trader data fetch --symbols {symbol} --interval {args.interval.text}')"
        )
    if args.start:
        frame = frame.filter(pl.col("timestamp") >= _ny_midnight(args.start))
    if args.end:
        frame = frame.filter(pl.col("timestamp") < _ny_midnight(args.end + timedelta(days=1)))
    if frame.height == 0:
        span = f"from {args.start or 'the first cached day'} to {args.end or 'the last'}"
        raise UsageError(f"no cached {symbol} {args.interval.text} bars {span}")
    if args.adjusted:
        frame = adjust(frame)

    def write(fh: IO[bytes]) -> None:
        if suffix == ".csv":
            frame.write_csv(fh, datetime_format="%Y-%m-%dT%H:%M:%SZ")
        else:
            frame.write_parquet(fh)

    try:  # whole or not at all: a cut-off file would replay as if whole
        make_private_dir(out.parent)
        replace_privately_with(out, write)  # 0600, renamed over --out once written
    except OSError as exc:  # polars' error has no strerror: the line said 'None'
        why = exc.strerror or (exc.errno and os.strerror(exc.errno)) or _os_words(exc)
        raise UsageError(f"cannot write {out}: {why}") from None
    print(f"wrote {frame.height:,} {symbol} {args.interval.text} bars to {out}")
    return 0


def _os_words(exc: OSError) -> str:
    """The system's words in an error without ``strerror`` (polars: ``File too large (os error
    27)``), without the number."""
    return re.sub(r"\s*\(os error \d+\)", "", str(exc)).strip() or type(exc).__name__


# -- option types --------------------------------------------------------------------------------


def interval_arg(text: str) -> Interval:
    """``--interval``: a bar length the desk understands."""
    try:
        return _parse_interval(text)
    except TimeframeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def period_arg(text: str) -> Period:
    """``--period``: a span of history such as 60d, 6mo, 5y."""
    try:
        return _parse_period(text)
    except TimeframeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def date_arg(text: str) -> date:
    """A ``YYYY-MM-DD`` date within the years bars may have (``market.validate``: 1800 up
    to 2200). ``--end 9999-12-31`` crashed ``data export`` (the day after it overflowed)."""
    from tui_trader.market.validate import END_TIME, FIRST_TIME

    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not FIRST_TIME.date() <= day < END_TIME.date():
        raise argparse.ArgumentTypeError(
            f"{text.strip()} is outside the years bars may have ({FIRST_TIME.year} up to "
            f"{END_TIME.year})"
        )
    return day


# -- helpers -------------------------------------------------------------------------------------


def _missing_action(_args: argparse.Namespace) -> int:
    """``tui-trader data`` alone: say which actions exist."""
    raise UsageError(
        "data needs an action: fetch, list, clear or export (see 'tui-trader data -h')"
    )


@contextmanager
def _market_errors() -> Iterator[None]:
    """Turn a ``MarketDataError`` into the one-line usage error of exit code 2."""
    try:
        yield
    except MarketDataError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def _progress(total: int) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr for several symbols (none when stderr is not a terminal)."""
    from rich.console import Console

    console = Console(stderr=True)
    if total < 2 or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("Yahoo", total=total)

        def update(symbol: str, done: int, _total: int) -> None:
            """Move the bar and name the symbol being fetched."""
            bar.update(task, completed=done, description=f"Yahoo {symbol}".rstrip())

        yield update


def _day(ts: datetime | None) -> str:
    """A bar's New York date."""
    return ts.astimezone(NEW_YORK).strftime("%Y-%m-%d") if ts else "-"


def _stamp(ts: datetime | None) -> str:
    """A bar's New York date and time."""
    return ts.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _ny_midnight(day: date) -> datetime:
    """Midnight New York at the start of ``day``, UTC."""
    return datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(UTC)


def _size(n: int) -> str:
    """Bytes in words: ``812 B``, ``41.2 KB``, ``3.4 MB``."""
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024**2:.1f} MB"


def _age(age: timedelta) -> str:
    """``just now``, ``12 min``, ``5 h``, ``3 d``."""
    seconds = max(age.total_seconds(), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"

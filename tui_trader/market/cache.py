"""The local bar cache: one Parquet file per symbol and interval, plus what range it covers.

Layout under the cache directory (``$TUI_TRADER_CACHE_DIR``, else the platform's user cache
directory for ``tui-trader``)::

    bars/<interval>/<SYMBOL>.parquet   timestamp, symbol, open, high, low, close, adj_close, volume
    bars/<interval>/<SYMBOL>.json      covered_from, covered_to, fetched_at (UTC, ISO 8601)
    yfinance/                          yfinance's own small caches (time zones, cookies)

The JSON sidecar records the span that was *asked for and answered*, not just the first and last
bar: a holiday at the start of a range or a symbol listed after it must not cause a refetch on
every run. Files are written to a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tui_trader.market import MarketDataError
from tui_trader.market.cache_dir import CACHE_ENV, default_cache_dir  # noqa: F401 (re-exported)
from tui_trader.market.time_range import times_in_range

CACHE_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "adj_close", "volume")
CACHE_SCHEMA = {
    "timestamp": pl.Datetime("us", "UTC"),
    "symbol": pl.Utf8,
    "open": pl.Float64,
    "high": pl.Float64,
    "low": pl.Float64,
    "close": pl.Float64,
    "adj_close": pl.Float64,
    "volume": pl.Float64,
}


def empty_bars() -> pl.DataFrame:
    """A bar table with the cache's columns and no rows."""
    return pl.DataFrame(schema=CACHE_SCHEMA)


@dataclass(frozen=True, slots=True)
class Coverage:
    """The span of time a cached file answers for, and when it was last fetched (all UTC)."""

    covered_from: datetime
    covered_to: datetime
    fetched_at: datetime

    def to_json(self) -> str:
        """The sidecar file's text."""
        return json.dumps(
            {
                "covered_from": self.covered_from.isoformat(),
                "covered_to": self.covered_to.isoformat(),
                "fetched_at": self.fetched_at.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Coverage:
        """Parse a sidecar; raises ``ValueError``/``KeyError`` on a damaged one."""
        raw = json.loads(text)
        return cls(
            datetime.fromisoformat(raw["covered_from"]).astimezone(UTC),
            datetime.fromisoformat(raw["covered_to"]).astimezone(UTC),
            datetime.fromisoformat(raw["fetched_at"]).astimezone(UTC),
        )

    def widen(self, start: datetime, end: datetime, fetched_at: datetime) -> Coverage:
        """This span joined with ``[start, end]`` (fetched ranges always touch the old span)."""
        return Coverage(min(self.covered_from, start), max(self.covered_to, end), fetched_at)


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What ``data list`` shows about one cached file."""

    symbol: str
    interval: str
    path: Path
    rows: int | None
    """``None``: the file cannot be read as the cache's table (damaged; ``data clear`` removes
    it)."""
    first: datetime | None
    last: datetime | None
    size_bytes: int
    fetched_at: datetime

    def age(self, now: datetime) -> timedelta:
        """How long ago the file was last fetched."""
        return now - self.fetched_at


class BarCache:
    """Reads, merges and writes the per-symbol Parquet files under one directory."""

    def __init__(self, root: Path | None = None) -> None:
        """Use ``root`` (default: ``default_cache_dir()``); nothing is created until a write."""
        self.root = root if root is not None else default_cache_dir()
        self.skipped: list[Path] = []
        """The folders the last ``entries`` passed over (see it)."""

    @property
    def yfinance_dir(self) -> Path:
        """Where yfinance's own caches are redirected."""
        return self.root / "yfinance"

    def path(self, symbol: str, interval: str) -> Path:
        """The Parquet file of one symbol at one interval."""
        return self.root / "bars" / interval / f"{symbol}.parquet"

    def read(self, symbol: str, interval: str) -> pl.DataFrame | None:
        """The cached bars of a symbol, oldest first, or ``None`` if nothing is cached."""
        path = self.path(symbol, interval)
        if not path.is_file():
            return None
        try:
            frame = pl.read_parquet(path, glob=False)  # a --cache-dir 'c[1]' is a name
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise _damaged(path, symbol, type(exc).__name__) from exc
        problem = schema_problem(frame)
        if problem:  # another table, prices as text, times without a zone: crashes later
            raise _damaged(path, symbol, problem)
        return frame

    def coverage(self, symbol: str, interval: str) -> Coverage | None:
        """The span the cached file answers for, or ``None`` (no file, or a damaged sidecar)."""
        meta = self.path(symbol, interval).with_suffix(".json")
        if not meta.is_file() or not self.path(symbol, interval).is_file():
            return None
        try:
            return Coverage.from_json(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def merge(
        self,
        symbol: str,
        interval: str,
        new: pl.DataFrame,
        start: datetime,
        end: datetime,
        fetched_at: datetime | None = None,
    ) -> pl.DataFrame:
        """Add fetched bars for ``[start, end]`` to the file; new rows win; returns the whole.

        Rows are unique per timestamp and sorted, so merging the same download twice changes
        nothing and a tail fetch that overlaps the cached tail creates no duplicate.
        """
        old = self.read(symbol, interval)
        parts = [p for p in (old, new.select(CACHE_COLUMNS).cast(CACHE_SCHEMA)) if p is not None]
        merged = (
            pl.concat(parts, how="vertical")
            .unique(subset=["timestamp"], keep="last", maintain_order=True)
            .sort("timestamp")
        )
        now = fetched_at or datetime.now(UTC)
        previous = self.coverage(symbol, interval) if old is not None else None
        covered = (
            previous.widen(start, end, now) if previous is not None else Coverage(start, end, now)
        )
        self.write(symbol, interval, merged, covered)
        return merged

    def entries(
        self, symbols: Iterable[str] | None = None, interval: str | None = None
    ) -> list[CacheEntry]:
        """Every cached file (optionally only these symbols or this interval), sorted. A folder
        under a cached file's name (``SPY.parquet/``) is nothing the cache wrote: left out, and
        kept in ``skipped`` for ``data list`` and ``data clear`` to say (before, both passed
        over it without a word: the cache looked empty of SPY, and clearing it left it)."""
        wanted = set(symbols) if symbols else None
        found: list[CacheEntry] = []
        self.skipped = []
        for path in sorted((self.root / "bars").glob("*/*.parquet")):
            symbol, iv = path.stem, path.parent.name
            if (wanted and symbol not in wanted) or (interval and iv != interval):
                continue
            if path.is_dir():  # a folder of that name is nothing the cache wrote
                self.skipped.append(path)
                continue
            found.append(self._entry(symbol, iv, path))
        return found

    def clear(self, symbols: Iterable[str] | None = None, interval: str | None = None) -> int:
        """Delete cached files (all, or only these symbols/interval); returns how many."""
        removed = 0
        for entry in self.entries(symbols, interval):
            for path in (entry.path, entry.path.with_suffix(".json")):
                path.unlink(missing_ok=True)
            removed += 1
        return removed

    def load(
        self,
        symbols: Iterable[str],
        interval: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pl.DataFrame:
        """The cached bars of several symbols in one table, optionally within ``[start, end]``."""
        frames = [f for s in symbols if (f := self.read(s, interval)) is not None]
        if not frames:
            return empty_bars()
        frame = pl.concat(frames, how="vertical")
        if start is not None:
            frame = frame.filter(pl.col("timestamp") >= start)
        if end is not None:
            frame = frame.filter(pl.col("timestamp") <= end)
        return frame

    def _entry(self, symbol: str, interval: str, path: Path) -> CacheEntry:
        """Describe one file from its timestamps, its size and its sidecar; a file that cannot
        be read (garbage, cut short, another table, a named pipe, a loop of links) is described
        as damaged, so that ``data list`` shows it and ``data clear`` removes it (both read
        every file and crashed on one such, and a pipe made them wait for ever)."""
        try:
            if not path.is_file():  # a pipe would block the read; a loop of links cannot open
                raise OSError("not a regular file")
            stamps = pl.read_parquet(path, columns=["timestamp"], glob=False)["timestamp"]
            if not isinstance(stamps.dtype, pl.Datetime) or not times_in_range(stamps):
                raise OSError("no time stamps Python can read")
        except (pl.exceptions.PolarsError, OSError):
            seen = path.lstat()
            return CacheEntry(
                symbol, interval, path, None, None, None, seen.st_size,
                datetime.fromtimestamp(seen.st_mtime, tz=UTC),
            )  # fmt: skip
        covered = self.coverage(symbol, interval)
        fetched = (
            covered.fetched_at if covered else datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        )
        return CacheEntry(
            symbol=symbol,
            interval=interval,
            path=path,
            rows=len(stamps),
            first=stamps.min() if len(stamps) else None,  # type: ignore[arg-type]
            last=stamps.max() if len(stamps) else None,  # type: ignore[arg-type]
            size_bytes=path.stat().st_size,
            fetched_at=fetched,
        )

    def write(self, symbol: str, interval: str, frame: pl.DataFrame, covered: Coverage) -> None:
        """Write the Parquet file and its sidecar, each through a temporary file and a rename."""
        path = self.path(symbol, interval)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".parquet.tmp")
            frame.write_parquet(tmp)
            os.replace(tmp, path)
            meta_tmp = path.with_suffix(".json.tmp")
            meta_tmp.write_text(covered.to_json(), encoding="utf-8")
            os.replace(meta_tmp, path.with_suffix(".json"))
        except OSError as exc:
            raise MarketDataError(f"cannot write the cache at {path}: {exc.strerror}") from exc


def schema_problem(frame: pl.DataFrame) -> str | None:
    """Why ``frame`` is not a cache table (a missing column, a price that is no number, times
    without their UTC zone), or None."""
    for column in CACHE_COLUMNS:
        if column not in frame.columns:
            return f"no column {column!r}"
    stamps = frame.schema["timestamp"]
    if not isinstance(stamps, pl.Datetime) or stamps.time_zone != "UTC":
        return f"time stamps of type {stamps}, not UTC times"
    for column in CACHE_COLUMNS[2:]:
        if not frame.schema[column].is_numeric():
            return f"column {column!r} holds {frame.schema[column]}, not numbers"
    if not times_in_range(frame["timestamp"]):
        return "time stamps outside the years 1 to 9999"
    return None


def _damaged(path: Path, symbol: str, why: str) -> MarketDataError:
    """The one line a damaged cache file is refused with, and how to get rid of it."""
    return MarketDataError(
        f"{path}: damaged cache file ({why}); remove it with "
        f"'tui-trader data clear --symbols {symbol}'"
    )

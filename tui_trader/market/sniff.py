"""What kind of file a bar file is, from its first bytes: Parquet or CSV text, and how the text
is written (separator, decimal comma, encoding).

Price files come from spreadsheets and sites all over the world: comma-, semicolon- or
tab-separated, with ``1,5`` for one and a half in European exports, with a byte order mark,
gzip-compressed, or not text at all (an Excel workbook, a zip archive). Reading such a file with
the wrong separator yields one column and a misleading "missing column" error; reading
``1.234,50`` as a number yields nonsense. So the head of the file is looked at once, before
polars reads it, and a file that is no bar table says what it is in one line.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from tui_trader.market import MarketDataError

HEAD_BYTES = 65_536
"""How much of a file is looked at to tell what it is."""
_SEPARATORS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"(^|[^0-9,])-?[0-9]+,[0-9]+($|[^0-9,])")
"""A number written with a decimal comma (``1,5``) between separators."""
_NOT_TEXT = (
    (b"PK\x03\x04", "a zip archive or an Excel workbook: unzip it, or save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls): save the sheet as CSV"),
    (b"\xff\xfe", "UTF-16 text: save it as UTF-8 CSV"),
    (b"\xfe\xff", "UTF-16 text: save it as UTF-8 CSV"),
)


@dataclass(frozen=True, slots=True)
class FileKind:
    """How to read a bar file: Parquet, or CSV with this separator and decimal mark."""

    parquet: bool
    separator: str = ","
    decimal_comma: bool = False
    """Numbers are written ``1.234,5`` (European): read every column as text and convert."""
    lossy: bool = False
    """Not valid UTF-8 (a Latin-1 export): read with undecodable bytes replaced."""
    skip_rows: int = 0
    """Lines before the header: Excel's ``sep=;`` hint line."""


def sniff(path: Path) -> FileKind:
    """Tell what ``path`` holds from its first ``HEAD_BYTES``; raise ``MarketDataError`` (naming
    the file) for a file that is no bar table: empty, binary, a workbook, an archive."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise MarketDataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(b"PAR1"):
        return FileKind(parquet=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        raise MarketDataError(f"{path}: is not a Parquet file (it lacks Parquet's PAR1 marker)")
    if head.startswith(b"\x1f\x8b"):
        head = _gunzipped_head(path)
    for magic, what in _NOT_TEXT:
        if head.startswith(magic):
            raise MarketDataError(f"{path}: is {what}")
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.strip():
        raise MarketDataError(f"{path}: is empty (no header, no rows)")
    if len(head) >= HEAD_BYTES - 3 and b"\n" not in head and b"\r" not in head:
        # no header is this long; polars would read the whole line (a 194 KB .gz of zeros
        # held 200 MB on one line: 16 s and 1 GB to say a column was missing)
        raise MarketDataError(
            f"{path}: its first line is longer than {HEAD_BYTES:,} bytes: not a bar table"
        )
    if b"\x00" in head:
        raise MarketDataError(f"{path}: is a binary file, not CSV text or Parquet")
    try:
        text, lossy = head.decode("utf-8"), False
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            text, lossy = head[: exc.start].decode("utf-8"), False
        else:
            text, lossy = head.decode("utf-8", errors="replace"), True
    lines = [line for line in text.splitlines() if line.strip()]
    skip = 0
    if lines[0].lower().startswith("sep=") and len(lines[0].strip()) == 5 and len(lines) > 1:
        skip, lines = 1, lines[1:]  # Excel's hint line: the header follows
    separator = _separator(lines[0])
    rows = lines[1:-1] if len(lines) > 2 else lines[1:]  # the last line may be cut short
    decimal_comma = separator != "," and any(
        _DECIMAL_COMMA.search(cell) for row in rows[:200] for cell in row.split(separator)
    )
    return FileKind(False, separator, decimal_comma, lossy, skip)


def _separator(header: str) -> str:
    """The separator the header line uses most (a comma when it has none)."""
    counts = {sep: _unquoted(header).count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: counts[sep])  # ties: the first, a comma
    return best if counts[best] else ","


def _unquoted(line: str) -> str:
    """``line`` without its double-quoted parts (a quoted name may hold a separator)."""
    return re.sub(r'"[^"]*"', "", line)


def _gunzipped_head(path: Path) -> bytes:
    """The first ``HEAD_BYTES`` of a gzip-compressed file, uncompressed (damaged data in them
    raises ``zlib.error``, which is no ``OSError``: it crashed the command, exit 1)."""
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise MarketDataError(f"{path}: is a damaged gzip file ({exc})") from None

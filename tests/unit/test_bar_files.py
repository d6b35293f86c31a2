"""Price files as sites and spreadsheets write them read as the same bars, or are refused.

One small daily series is written in many layouts (Yahoo's, stooq's, an unnamed index column,
European decimal commas, tabs, a byte order mark, CRLF, epoch times, newest first, gzip, ...);
each must read as exactly the bars of the plain file. Files that cannot mean one thing are
refused with the file named and the problem said.
"""

from __future__ import annotations

import calendar
import gzip
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tui_trader.market import MarketDataError
from tui_trader.market.replay import read_bar_file

DAYS = [date(2021, 3, 1) + timedelta(days=i) for i in range(30)]
"""30 calendar days: some day of the month is above 12, as in any real file."""
CLOSES = [round(100 + 3 * ((i * 7) % 5) + 0.25 * i, 2) for i in range(30)]


def _bar(i: int) -> tuple[float, float, float, float, int]:
    """Open, high, low, close and volume of day ``i`` (two decimals, as files hold them)."""
    close = CLOSES[i]
    open_ = CLOSES[i - 1] if i else close
    return (
        open_,
        round(max(open_, close) + 1.5, 2),
        round(min(open_, close) - 1.25, 2),
        close,
        (1_000_000 + 1_000 * i),
    )


def _rows(stamp: Callable[[date], str] = date.isoformat, sep: str = ",") -> list[str]:
    """One text row per day: time, open, high, low, close, volume."""
    return [sep.join([stamp(d), *(str(v) for v in _bar(i))]) for i, d in enumerate(DAYS)]


def _write(path: Path, header: str, rows: list[str], newline: str = "\n") -> Path:
    path.write_text(newline.join([header, *rows]) + newline, newline="")
    return path


def _plain(tmp_path: Path) -> pl.DataFrame:
    """The reference: the series as a plain ``Date,Open,High,Low,Close,Volume`` file."""
    return read_bar_file(_write(tmp_path / "REF.csv", "Date,Open,High,Low,Close,Volume", _rows()))


def _european(i: int, d: date) -> str:
    """A row as a European spreadsheet writes it: dd.mm.yyyy, semicolons, decimal commas,
    dots between thousands."""
    o, h, lo, c, v = _bar(i)
    cells = [f"{x:.2f}".replace(".", ",") for x in (o, h, lo, c)]
    return ";".join([d.strftime("%d.%m.%Y"), *cells, f"{v:,}".replace(",", ".")])


def _epoch(d: date) -> int:
    return calendar.timegm(d.timetuple())


LAYOUTS: dict[str, Callable[[Path], Path]] = {
    "stooq": lambda p: _write(p, "Date,Open,High,Low,Close,Volume", _rows()),
    "upper-case": lambda p: _write(p, "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME", _rows()),
    "mixed-case": lambda p: _write(p, "date,Open,HIGH,low,cLoSe,Volume", _rows()),
    "unnamed-index": lambda p: _write(p, ",Open,High,Low,Close,Volume", _rows()),
    "timestamp": lambda p: _write(p, "timestamp,open,high,low,close,volume", _rows()),
    "datetime": lambda p: _write(p, "Datetime,Open,High,Low,Close,Volume", _rows()),
    "time": lambda p: _write(p, "Time,Open,High,Low,Close,Volume", _rows()),
    "yahoo-with-null-days": lambda p: _write(
        p,
        "Date,Open,High,Low,Close,Adj Close,Volume",
        [
            *(r.rsplit(",", 1)[0] + f",{r.split(',')[4]}," + r.rsplit(",", 1)[1] for r in _rows()),
            "2021-04-05,null,null,null,null,null,null",
        ],
    ),
    "newest-first": lambda p: _write(p, "Date,Open,High,Low,Close,Volume", _rows()[::-1]),
    "semicolon-decimal-comma": lambda p: _write(
        p,
        "Datum;Open;High;Low;Close;Volume".replace("Datum", "Date"),
        [_european(i, d) for i, d in enumerate(DAYS)],
    ),
    "excel-sep-hint": lambda p: _write(
        p,
        "sep=;\nDate;Open;High;Low;Close;Volume",
        [_european(i, d) for i, d in enumerate(DAYS)],
    ),
    "tab": lambda p: _write(p, "Date\tOpen\tHigh\tLow\tClose\tVolume", _rows(sep="\t")),
    "byte-order-mark": lambda p: _write(p, "\ufeffDate,Open,High,Low,Close,Volume", _rows()),
    "crlf": lambda p: _write(p, "Date,Open,High,Low,Close,Volume", _rows(), "\r\n"),
    "quoted-thousands": lambda p: _write(
        p,
        "Date,Open,High,Low,Close,Volume",
        [r.rsplit(",", 1)[0] + f',"{int(r.rsplit(",", 1)[1]):,}"' for r in _rows()],
    ),
    "epoch-seconds": lambda p: _write(
        p, "timestamp,open,high,low,close,volume", _rows(lambda d: str(_epoch(d)))
    ),
    "epoch-ms": lambda p: _write(
        p, "timestamp,open,high,low,close,volume", _rows(lambda d: str(_epoch(d) * 1000))
    ),
    "yyyymmdd": lambda p: _write(
        p, "Date,Open,High,Low,Close,Volume", _rows(lambda d: d.strftime("%Y%m%d"))
    ),
    "month-first": lambda p: _write(
        p, "Date,Open,High,Low,Close,Volume", _rows(lambda d: d.strftime("%m/%d/%Y"))
    ),
    "day-first": lambda p: _write(
        p, "Date,Open,High,Low,Close,Volume", _rows(lambda d: d.strftime("%d/%m/%Y"))
    ),
    "month-name": lambda p: _write(
        p,
        "Date,Open,High,Low,Close,Volume",
        [
            f'"{d.strftime("%b %d, %Y")}",' + r.split(",", 1)[1]
            for d, r in zip(DAYS, _rows(), strict=True)
        ],
    ),
    "two-digit-years": lambda p: _write(
        p, "Date,Open,High,Low,Close,Volume", _rows(lambda d: d.strftime("%d-%b-%y"))
    ),
    "stooq-bulk": lambda p: _write(
        p,
        "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>",
        [
            f"REF,D,{d.strftime('%Y%m%d')},000000," + r.split(",", 1)[1] + ",0"
            for d, r in zip(DAYS, _rows(), strict=True)
        ],
    ),
    "nasdaq-dollars": lambda p: _write(
        p,
        "Date,Close/Last,Volume,Open,High,Low",
        [
            f"{d.strftime('%m/%d/%Y')},${c},{v},${o},${h},${lo}"
            for d, (o, h, lo, c, v) in zip(DAYS, map(_bar, range(30)), strict=True)
        ],
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_reads_as_the_same_bars(tmp_path: Path, layout: str) -> None:
    """Each way of writing the series gives the plain file's bars, row for row."""
    want = _plain(tmp_path)
    path = LAYOUTS[layout](tmp_path / "REF.txt")
    got = read_bar_file(path)
    assert got.columns == want.columns
    assert got.to_dicts() == want.to_dicts()


def test_a_gzip_file_and_a_misnamed_parquet_file_read_too(tmp_path: Path) -> None:
    """A gzip-compressed CSV, and a Parquet file named .csv, read as what they hold."""
    want = _plain(tmp_path)
    plain = (tmp_path / "REF.csv").read_bytes()
    (tmp_path / "REF.csv.gz").write_bytes(gzip.compress(plain))
    assert read_bar_file(tmp_path / "REF.csv.gz").to_dicts() == want.to_dicts()
    pl.read_csv(tmp_path / "REF.csv").write_parquet(tmp_path / "REF.dat")
    assert read_bar_file(tmp_path / "REF.dat").to_dicts() == want.to_dicts()


def test_a_decimal_or_a_null_after_ten_thousand_whole_numbers(tmp_path: Path) -> None:
    """Polars guesses column types from the first 10,000 rows: whole-number prices there, then
    ``100.5`` or a Yahoo ``null`` day further down, must still read (they failed the file)."""
    start = date(1960, 1, 1)
    rows = [f"{start + timedelta(days=i)},100,101,99,100,100,1000" for i in range(12_000)]
    rows[11_000] = f"{start + timedelta(days=11_000)},100.5,101,99,100.25,100.25,1000"
    rows[11_001] = f"{start + timedelta(days=11_001)},null,null,null,null,null,null"
    path = _write(tmp_path / "LONG.csv", "Date,Open,High,Low,Close,Adj Close,Volume", rows)
    frame = read_bar_file(path)
    assert frame.height == 11_999
    assert frame.get_column("close")[11_000] == 100.25


def test_parquet_with_integer_prices_and_a_date_column(tmp_path: Path) -> None:
    """Integer prices become floats, a date32 column midnight UTC."""
    path = tmp_path / "INT.parquet"
    pl.DataFrame(
        {
            "Date": DAYS[:3],
            "Open": [10, 11, 12],
            "High": [12, 13, 14],
            "Low": [9, 10, 11],
            "Close": [11, 12, 13],
            "Volume": [5, 6, 7],
        }
    ).write_parquet(path)
    frame = read_bar_file(path)
    assert frame.get_column("close").to_list() == [11.0, 12.0, 13.0]
    assert frame.get_column("timestamp")[0] == datetime(2021, 3, 1, tzinfo=UTC)
    assert frame.get_column("symbol").unique().to_list() == ["INT"]


def test_time_zone_aware_times_are_taken_at_their_instant(tmp_path: Path) -> None:
    """``09:30:00-05:00`` and ``14:30:00Z`` are the same instant in UTC, across a clock change."""
    rows = [
        "2021-03-12 09:30:00-05:00,10,11,9,10,1",
        "2021-03-15 09:30:00-04:00,10,11,9,10,1",
    ]
    a = read_bar_file(_write(tmp_path / "A.csv", "Date,Open,High,Low,Close,Volume", rows))
    zulu = ["2021-03-12T14:30:00Z,10,11,9,10,1", "2021-03-15T13:30:00Z,10,11,9,10,1"]
    b = read_bar_file(_write(tmp_path / "B.csv", "Date,Open,High,Low,Close,Volume", zulu))
    assert a.get_column("timestamp").to_list() == b.get_column("timestamp").to_list()
    assert a.get_column("timestamp")[1] == datetime(2021, 3, 15, 13, 30, tzinfo=UTC)


def test_a_close_only_file_is_bars_of_open_high_low_close_alike(tmp_path: Path) -> None:
    """``Date,Close``: each bar is open = high = low = close, volume 0 (the convention the
    closes-only series of docs/learning.md were scored with); without Volume, or without High
    and Low, the file's own prices stay and only what is missing is filled."""
    path = _write(tmp_path / "C.csv", "Date,Close", ["2021-03-01,10", "2021-03-02,12"])
    assert read_bar_file(path).select("open", "high", "low", "close", "volume").rows() == [
        (10.0, 10.0, 10.0, 10.0, 0.0),
        (12.0, 12.0, 12.0, 12.0, 0.0),
    ]
    no_volume = _write(tmp_path / "E.csv", "Date,Open,High,Low,Close", ["2021-03-01,1,3,0.5,2"])
    assert read_bar_file(no_volume).select("open", "high", "low", "close", "volume").rows() == [
        (1.0, 3.0, 0.5, 2.0, 0.0)
    ]
    open_close = _write(tmp_path / "F.csv", "Date,Open,Close", ["2021-03-01,1,2"])
    assert read_bar_file(open_close).select("open", "high", "low", "close").rows() == [
        (1.0, 2.0, 1.0, 2.0)
    ]


def test_investing_volumes_and_an_empty_volume_column(tmp_path: Path) -> None:
    """``1.23M`` and ``450K`` volumes are numbers, ``-`` is none (0); a volume column left
    empty (currency data) reads as 0, not as missing volume on every row."""
    rows = [
        '"Mar 01, 2021","10.5","10.0","11.0","9.5","1.23M","+5%"',
        '"Mar 02, 2021","10.0","10.5","10.5","9.0","450K","-4.8%"',
        '"Mar 03, 2021","10.2","10.0","10.4","9.9","-","2%"',
    ]
    path = _write(tmp_path / "INV.csv", "Date,Price,Open,High,Low,Vol.,Change %", rows)
    frame = read_bar_file(path)
    assert frame.get_column("close").to_list() == [10.5, 10.0, 10.2]
    assert frame.get_column("volume").to_list() == [1_230_000.0, 450_000.0, 0.0]
    fx = _write(tmp_path / "FX.csv", "Date,Open,High,Low,Close,Volume", ["2021-03-01,1,2,1,2,"])
    assert read_bar_file(fx).get_column("volume").to_list() == [0.0]


def test_yahoo_prices_are_adjusted_by_the_adjusted_close_and_said_once(tmp_path: Path) -> None:
    """A 2-for-1 split: before it the adjusted close is half the close, so every price of those
    days is halved (no false crash on the split day), and one note says so."""
    rows = [
        "2021-03-01,200,210,190,200,100,10",
        "2021-03-02,200,204,196,202,101,10",
        "2021-03-03,101,103,99,102,102,20",
    ]
    notes: list[str] = []
    path = _write(tmp_path / "S.csv", "Date,Open,High,Low,Close,Adj Close,Volume", rows)
    frame = read_bar_file(path, notes)
    assert frame.get_column("close").to_list() == [100.0, 101.0, 102.0]
    assert frame.get_column("open").to_list() == [100.0, 100.0, 101.0]
    assert frame.get_column("high").to_list() == [105.0, 102.0, 103.0]
    assert len(notes) == 1 and "Adj Close" in notes[0] and "0.5 to 1" in notes[0]


def test_changes_made_while_reading_are_said(tmp_path: Path) -> None:
    """Skipped null days and a newest-first file each give one note naming the file."""
    notes: list[str] = []
    read_bar_file(LAYOUTS["yahoo-with-null-days"](tmp_path / "Y.csv"), notes)
    read_bar_file(LAYOUTS["newest-first"](tmp_path / "N.csv"), notes)
    assert notes == [
        f"{tmp_path / 'Y.csv'}: skipped 1 row(s) without prices (empty or 'null')",
        f"{tmp_path / 'N.csv'}: newest bar first; read in time order",
    ]


def test_a_file_name_that_is_no_ticker_becomes_one(tmp_path: Path) -> None:
    """``^GSPC.csv`` is GSPC, ``s&p 500 daily.csv`` S-P-500-DAI (a ticker the engine takes)."""
    header, rows = "Date,Close", ["2021-03-01,10"]
    assert read_bar_file(_write(tmp_path / "^GSPC.csv", header, rows))["symbol"][0] == "GSPC"
    odd = read_bar_file(_write(tmp_path / "s&p 500 daily.csv", header, rows))
    assert odd["symbol"][0] == "S-P-500-DA"


def _zip(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "Date,Close\n2021-03-01,1\n")
    return path


REFUSED: list[tuple[str, Callable[[Path], Path], str]] = [
    ("empty", lambda p: _write(p, "", []).with_suffix(".csv"), "is empty"),
    ("header-only", lambda p: _write(p, "Date,Open,High,Low,Close,Volume", []), "no rows"),
    ("binary", lambda p: (p.write_bytes(bytes(range(256)) * 8), p)[1], "binary file"),
    ("zip", _zip, "zip archive or an Excel workbook"),
    ("utf16", lambda p: (p.write_bytes("Date,Close\n".encode("utf-16")), p)[1], "UTF-16"),
    (
        "fake-parquet",
        lambda p: (p.with_suffix(".parquet").write_text("Date,Close\n"), p.with_suffix(".parquet"))[
            1
        ],
        "not a Parquet file",
    ),
    (
        "infinite",
        lambda p: _write(p, "Date,Close", ["2021-03-01,1", "2021-03-02,inf"]),
        "infinite or non-positive close, the first at 2021-03-02",
    ),
    (
        "negative",
        lambda p: _write(p, "Date,Close", ["2021-03-01,1", "2021-03-02,-1"]),
        "non-positive close",
    ),
    (
        "partly-null",
        lambda p: _write(p, "Date,Open,High,Low,Close", ["2021-03-01,1,2,1,null"]),
        "NaN, infinite or non-positive close",
    ),
    (
        "duplicate",
        lambda p: _write(p, "Date,Close", ["2021-03-01,1", "2021-03-01,1"]),
        "duplicated timestamp",
    ),
    (
        "out-of-order",
        lambda p: _write(p, "Date,Close", ["2021-03-01,1", "2021-03-03,1", "2021-03-02,1"]),
        "not sorted",
    ),
    (
        "ambiguous-dates",
        lambda p: _write(p, "Date,Close", ["01/02/2021,1", "02/02/2021,1"]),
        "day-first or month-first",
    ),
    (
        "small-numbers-as-time",
        lambda p: _write(p, "Date,Close", ["1,1", "2,1"]),
        "neither dates like 20200102 nor epoch",
    ),
    ("no-close", lambda p: _write(p, "Date,Open", ["2021-03-01,1"]), "missing column(s) close"),
    (
        "unquoted-thousands",
        lambda p: _write(p, "Date,Close,Volume", ["2021-03-01,1,1,234,567"]),
        "a row has more fields than the header line",
    ),
    (
        "wide-closes",
        lambda p: _write(p, "Date,SPY,QQQ", ["2021-03-01,1,2"]),
        "missing column(s) close (it has 'Date', 'SPY', 'QQQ')",
    ),
    # two columns read as one of ours: the first was taken silently (a replay traded SPY)
    (
        "symbol-and-Symbol",
        lambda p: _write(p, "Date,symbol,Symbol,Close", ["2021-03-01,SPY,QQQ,1"]),
        "two columns hold the symbol: 'symbol' and 'Symbol'",
    ),
    (
        "ticker-and-symbol",
        lambda p: _write(p, "Date,ticker,symbol,Close", ["2021-03-01,SPY,QQQ,1"]),
        "two columns hold the symbol: 'ticker' and 'symbol'",
    ),
    (
        "close-and-price",
        lambda p: _write(p, "Date,Close,Price", ["2021-03-01,1,2"]),
        "two columns hold the close: 'Close' and 'Price'",
    ),
    (
        "Date-and-date",
        lambda p: _write(p, "Date,date,Close", ["2021-03-01,2021-03-02,1"]),
        "two columns hold the time: 'Date' and 'date'",
    ),
    # one name twice in the header: polars called the second 'close_duplicated_0', and the
    # first close was traded without a word (so was the first symbol of 'symbol,symbol')
    (
        "close-twice",
        lambda p: _write(p, "Date,close,close", ["2021-03-01,100,5", "2021-03-02,100,5"]),
        "two columns hold the close: 'close' and 'close'",
    ),
    (
        "symbol-three-times",
        lambda p: _write(p, "Date,symbol,symbol,symbol,Close", ["2021-03-01,SPY,QQQ,IWM,1"]),
        "two columns hold the symbol: 'symbol' and 'symbol'",
    ),
    # zoned and unzoned times mixed: said only as "1 row(s) with an unreadable timestamp"
    (
        "zoned-then-unzoned",
        lambda p: _write(
            p,
            "timestamp,close",
            ["2021-03-01T14:30:00Z,1", "2021-03-02T14:30:00Z,1", "2021-03-03T14:30:00,1"],
        ),
        "1 row(s) with an unreadable timestamp, the first at data row 3 ('2021-03-03T14:30:00');"
        " the column mixes times with a zone ('2021-03-01T14:30:00Z') and without "
        "('2021-03-03T14:30:00')",
    ),
    (
        "unzoned-then-zoned",
        lambda p: _write(
            p, "timestamp,close", ["2021-03-01 14:30:00,1", "2021-03-02 14:30:00+00:00,1"]
        ),
        "the first at data row 2 ('2021-03-02 14:30:00+00:00'); the column mixes times",
    ),
    (
        "a-word-for-a-time",
        lambda p: _write(
            p, "timestamp,close", ["2021-03-01,1", "2021-03-02,1", "soon,1", "2021-03-04,1"]
        ),
        "1 row(s) with an unreadable timestamp, the first at data row 3 ('soon')",
    ),
]


@pytest.mark.parametrize(("make", "words"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_files_that_cannot_be_read_right_are_refused(
    tmp_path: Path, make: Callable[[Path], Path], words: str
) -> None:
    """One message naming the file and what is wrong, never a misread."""
    path = make(tmp_path / "BAD.csv")
    with pytest.raises(MarketDataError) as err:
        read_bar_file(path)
    message = str(err.value)
    assert message.startswith(str(path)) and words in message, message
    assert "\n" not in message

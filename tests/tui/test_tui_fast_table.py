"""FastTable draws exactly what DataTable draws: the same segments, styles and mouse metadata."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui_trader.tui.screens.dashboard import POSITION_COLUMNS, _num, _signed_cell
from tui_trader.tui.widgets.fast_table import FastTable


class _TableApp(App[None]):
    """One FastTable with the dashboard's position columns."""

    def compose(self) -> ComposeResult:
        """The table under test."""
        yield FastTable(id="t", cursor_type="none", zebra_stripes=True)


ODD_CELLS = (
    Text("▁▂▃█", style="cyan"),
    Text("left", justify="left", style="bold"),
    Text("mid", justify="center"),
    Text("sp  ", justify="right", style="red"),
    Text("", style="bold"),
    Text("", justify="right"),
    Text.assemble(("A", "bold"), " b"),
    Text("ab", style=Style(italic=True), end=""),
    Text("x\ty"),
    Text("2\nlines"),
)
"""Cells the fast path takes or hands back: styles, spans, justifications, blanks, tabs."""


def _cells(i: int) -> list[Text]:
    """A row like the dashboard's, with blanks, negatives and a value too wide for its column."""
    return [
        ODD_CELLS[i % len(ODD_CELLS)] if i % 2 else Text(f"S{i:03d}", style="bold"),
        _num(i, "g"),
        _num(100.0 + i),
        _num(101.5 + i) if i % 3 else Text(""),
        _num(1234.5 * i),
        _signed_cell(12.3 * (i - 5)),
        _signed_cell(1.1 * (i - 5), pct=True),
        _num(1.2, ".1f") if i % 4 else Text("far too wide for it", justify="right"),
    ]


def _filled(app: App[None], rows: dict[str, list[Text]]) -> FastTable:
    """The app's table with the dashboard's position columns and ``rows`` (by key)."""
    table = app.query_one(FastTable)
    for label, width in POSITION_COLUMNS:
        table.add_column(label, width=width, key=label)
    for key, cells in rows.items():
        table.add_row(*cells, key=key)
    return table


async def test_every_cell_and_line_equals_datatables_own() -> None:
    """Header and rows, even and odd, focused or not: cells and whole lines are equal."""
    app = _TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = _filled(app, {f"S{i:03d}": _cells(i) for i in range(20)})
        await pilot.pause()
        for focused in (False, True):
            if focused:
                table.focus()
                await pilot.pause()
            base = table.rich_style
            for row in range(-1, 20):
                style = table._get_row_style(row, base)
                for column, col in enumerate(table.ordered_columns):
                    width = col.get_render_width(table)
                    table._update_count += 1
                    fast = table._render_cell(row, column, style, width)
                    table._update_count += 1
                    slow = DataTable._render_cell(table, row, column, style, width)
                    assert fast == slow, (focused, row, column)
            fast_lines = [table._render_line(y, 0, 120, base) for y in range(21)]
            table._update_count += 1
            table._line_cache.clear()
            table._cell_render_cache.clear()
            table._render_cell = lambda *a, **k: DataTable._render_cell(table, *a, **k)
            try:
                slow_lines = [table._render_line(y, 0, 120, base) for y in range(21)]
            finally:
                del table._render_cell
            assert [list(s) for s in fast_lines] == [list(s) for s in slow_lines]


async def test_a_new_price_rewrites_only_its_own_cell_with_one_repaint() -> None:
    """Syncing rows where one cell changed replaces that cell alone (the others stay the very
    objects shown) and asks for one repaint; rows that look the same ask for none; a change of
    colour alone is a change; rows that go or come are removed or added."""
    app = _TableApp()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(FastTable)
        for label, width in POSITION_COLUMNS:
            table.add_column(label, width=width, key=label)
        rows = [(str(i), _cells(2 * i)) for i in range(3)]
        table.sync_rows(rows)
        await pilot.pause()
        shown = {(r, c): table.get_cell(r, c) for r, _ in rows for c, _ in POSITION_COLUMNS}
        count = table._update_count
        table.sync_rows([(key, [cell.copy() for cell in cells]) for key, cells in rows])
        assert table._update_count == count  # the same look: no repaint
        new = [(key, [cell.copy() for cell in cells]) for key, cells in rows]
        new[1][1][3] = _num(9.5)
        new[2][1][5] = Text(new[2][1][5].plain, justify="right")  # the same figure, uncoloured
        table.sync_rows(new)
        assert table._update_count == count + 1
        changed = {("1", "Last"), ("2", "Day chg")}
        for (r, c), cell in shown.items():
            now = table.get_cell(r, c)
            assert (now is cell) == ((r, c) not in changed), (r, c)
        assert table.get_cell("1", "Last") == _num(9.5)
        assert table.get_cell("2", "Day chg").style == ""
        table.sync_rows([new[0], ("5", _cells(5))])
        await pilot.pause()
        assert [key.value for key in table.rows] == ["0", "5"]
        assert table.get_cell("5", "Qty") == _num(5, "g")

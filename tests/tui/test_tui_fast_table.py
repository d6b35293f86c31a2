"""FastTable draws exactly what DataTable draws: the same segments, styles and mouse metadata."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

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


async def test_update_cells_changes_values_once_and_checks_keys() -> None:
    """Several cells in one call, one repaint; a missing cell is an error as in update_cell."""
    app = _TableApp()
    async with app.run_test(size=(120, 30)) as pilot:
        table = _filled(app, {str(i): _cells(2 * i) for i in range(3)})
        await pilot.pause()
        count = table._update_count
        table.update_cells([("0", "Qty", Text("7")), ("2", "Last", Text("9.00"))])
        assert table.get_cell("0", "Qty") == Text("7")
        assert table.get_cell("2", "Last") == Text("9.00")
        assert table._update_count == count + 1
        with pytest.raises(CellDoesNotExist):
            table.update_cells([("9", "Qty", Text("1"))])

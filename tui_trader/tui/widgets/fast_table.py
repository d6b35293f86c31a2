"""A ``DataTable`` that draws its one-line text cells for a fraction of the cost.

On the dashboard at 50 symbols the two tables were a third of the UI thread's time: every
``update_cell`` invalidates all of DataTable's render caches, and each visible cell is then drawn
again through Rich's generic pipeline (``Styled(Padding(cell))`` → ``render_lines``, about 80 µs a
cell). ``FastTable`` draws the same cells with the same Rich calls, minus the wrappers: the
cell's text is laid out once per distinct content and width (``console.render_lines``, exactly as
``Padding`` does it) and kept, and the padding and the row's styles are added with
``Segment.apply_style`` as ``Styled`` does. The segments are equal to DataTable's own, so the
screen is the same (``tests/tui/test_tui_fast_table.py`` compares them cell by cell). Anything
else (multi-line or auto-height rows, fixed rows or columns, row labels, non-``Text`` cells)
goes through DataTable's own code.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

INNER_CACHE_SIZE = 4096
"""Laid-out cell texts kept; the cache is emptied when it grows past this (sparklines change
every bar, so old entries are never asked for again)."""

CellKey = tuple[object, ...]


def cell_signature(cell: Text, width: int) -> CellKey:
    """Everything about a ``Text`` that its layout at ``width`` depends on."""
    return (
        cell.plain,
        cell.style,
        tuple(cell.spans),
        cell.justify,
        cell.overflow,
        cell.no_wrap,
        cell.end,
        cell.tab_size,
        width,
    )


def same_look(shown: object, cell: Text) -> bool:
    """Whether a shown cell already looks like ``cell`` (``Text`` equality ignores the base
    style and the justification: ``+0.00`` green and ``+0.00`` plain would compare equal)."""
    return (
        isinstance(shown, Text)
        and shown.style == cell.style
        and shown.justify == cell.justify
        and shown == cell
    )


def plain_line(console: Console, cell: Text, width: int) -> list[Segment] | None:
    """What ``console.render_lines`` makes of a one-style ``Text`` that fits ``width``, without
    the generic wrap and justify machinery; ``None`` for anything else (spans, tabs, line
    breaks, left/center/full justification, empty or too wide)."""
    if cell.spans or cell.justify not in (None, "default", "right"):
        return None
    plain = cell.plain
    if not plain.strip() or "\n" in plain or "\t" in plain:
        return None
    if cell.justify == "right":
        plain = plain.rstrip()
        used = cell_len(plain)
        if used > width:
            return None
        plain = " " * (width - used) + plain
    else:
        used = cell_len(plain)
        if used > width:
            return None
    null = Style.null()
    style = console.get_style(cell.style, default=null) if cell.style else None
    line = [Segment(plain, style)]
    if cell_len(plain) < width:
        line.append(Segment(" " * (width - cell_len(plain)), null))
    return line


class FastTable(DataTable):
    """DataTable with a fast path for one-line ``Text`` cells; looks and behaves the same."""

    def __init__(self, *args, **kwargs) -> None:
        """As DataTable; plus the cache of laid-out cell texts."""
        super().__init__(*args, **kwargs)
        self._inner_lines: dict[CellKey, list[Segment]] = {}
        self._inner_options: dict[int, ConsoleOptions] = {}
        self._cell_lines: dict[CellKey, list[list[Segment]]] = {}
        self._row_styles: dict[tuple[object, ...], Style] = {}

    def notify_style_update(self) -> None:
        """Styles changed: forget the laid-out texts too (the console options may differ)."""
        super().notify_style_update()
        self._inner_lines.clear()
        self._inner_options.clear()
        self._cell_lines.clear()
        self._row_styles.clear()

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """DataTable's row style (header, fixed, zebra), computed once per kind of row: each
        lookup resolves a component class's CSS, twice for every line drawn."""
        kind = (
            -1
            if row_index == -1
            else -2
            if row_index < self.fixed_rows
            else row_index % 2
            if self.zebra_stripes
            else 0
        )
        key = (kind, base_style, self._pseudo_class_state)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def sync_rows(self, rows: list[tuple[str, list[Text]]]) -> None:
        """Bring the table to ``rows`` (key, cells) with the least work: the rows whose keys
        still lead the table keep their place and get only the cells that look different; the
        rest are removed and the new ones appended; one repaint, none if nothing changed.

        Rows that stay are no new rows: no re-measuring, no layout pass (``clear`` and
        ``add_row`` cost both, and a rebuild also scrolled the table back to its top). The
        cells are compared and replaced through the table's own keys: ``update_cell`` and
        ``get_cell`` make and look up new key objects for every cell, and asked for a repaint
        of the whole table each time (a fifth of the dashboard's redraw at 50 symbols).
        """
        current = list(self.rows)
        kept = 0
        for (key, _), old in zip(rows, current, strict=False):
            if key != old.value:
                break
            kept += 1
        for row_key in current[kept:]:
            self.remove_row(row_key)
        columns = list(self.columns)
        data = self._data
        changed = False
        for (_, cells), row_key in zip(rows, current[:kept], strict=False):
            shown = data[row_key]
            for column, cell in zip(columns, cells, strict=False):
                if not same_look(shown[column], cell):
                    shown[column] = cell
                    changed = True
        if changed:
            self._update_count += 1
            self.refresh()
        for key, cells in rows[kept:]:
            self.add_row(*cells, key=key)
        self.settle()

    def settle(self) -> None:
        """Measure added or removed rows now rather than when the app next idles.

        DataTable sets its new virtual size on idle, after the frame that drew the change: that
        is a second layout pass and a second full redraw of the screen for every row that came
        or went. Called right after the rows changed, the new size goes into the same frame.
        """
        if self._updated_cells:
            updated = self._updated_cells.copy()
            self._updated_cells.clear()
            self._update_column_widths(updated)
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(new_rows)

    def _inner_line(self, cell: Text, width: int) -> list[Segment]:
        """The cell's text laid out in ``width`` cells: ``Padding``'s own ``render_lines`` call."""
        key = cell_signature(cell, width)
        line = self._inner_lines.get(key)
        if line is None:
            line = plain_line(self.app.console, cell, width)
        if line is None:
            options = self._inner_options.get(width)
            if options is None:
                options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
                self._inner_options[width] = options
            console = self.app.console
            lines = console.render_lines(cell, options, style=console.get_style("none"), pad=True)
            line = lines[0] if lines else [Segment(" " * width)]
        if key not in self._inner_lines:
            if len(self._inner_lines) >= INNER_CACHE_SIZE:
                self._inner_lines.clear()
            self._inner_lines[key] = line
        return line

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's cell, drawn by the fast path when the cell is one line of ``Text``."""
        is_header_cell = row_index == -1
        if column_index < 0 or (
            not is_header_cell
            and (row_index < self.fixed_rows or column_index < self.fixed_columns)
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if is_header_cell:
            row_key = self._header_row_key
            row_height = self.header_height
        else:
            row_key = self._row_locations.get_key(row_index)
            row = self.rows.get(row_key) if row_key is not None else None
            row_height = row.height if row is not None and not row.auto_height else 0
        pad = self.cell_padding
        if row_height != 1 or width - 2 * pad < 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        _, row_cells = self._get_row_renderables(row_index)
        cell = row_cells[column_index]
        if not isinstance(cell, Text):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            is_header_cell,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre_style = pre_style + component_style
        drawn_key = (cell_signature(cell, width), pre_style, post_style, pad)
        lines = self._cell_lines.get(drawn_key)
        if lines is None:
            inner = self._inner_line(cell, width - 2 * pad)
            if pad:
                blank = Segment(" " * pad, self.app.console.get_style("none"))
                segments = [blank, *inner, blank]
            else:
                segments = list(inner)
            lines = [list(Segment.apply_style(segments, style=pre_style, post_style=post_style))]
            if len(self._cell_lines) >= INNER_CACHE_SIZE:
                self._cell_lines.clear()
            self._cell_lines[drawn_key] = lines
        self._cell_render_cache[cache_key] = lines
        return lines

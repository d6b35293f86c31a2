"""A ``RichLog`` that takes a batch of ``Text`` lines for a fraction of the cost.

On the dashboard at 50 symbols the orders log was half of each redraw's time: a bar brings
dozens of order and fill lines, and ``RichLog.write`` gives each one Rich's generic pipeline
(measure, wrap, render, split into lines) plus its own console options, virtual-size update,
repaint and scroll to the end. ``FastLog.write_lines`` keeps ``write``'s rules (the same width,
the same lines, the same trimming to ``max_lines``) and its Rich calls for each line's
segments; a line that fits as it is skips the wrapping machinery; the options, size, trimming,
repaint and scroll happen once per batch. ``tests/tui/test_tui_fast_log.py`` holds the strips
equal to ``write``'s.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.widgets import RichLog

_JOIN = Text("\n")
"""What Rich joins a text's wrapped lines with (here, always one line)."""


class FastLog(RichLog):
    """RichLog with a batch write for ``Text`` lines; looks and behaves the same."""

    def write_lines(self, lines: Iterable[Text]) -> None:
        """``write`` each line, in order, with one size update, repaint and scroll."""
        if not self._size_known:  # write defers everything until the size is known
            for line in lines:
                self.write(line)
            return
        console = self.app.console
        options = console.options  # what write asks for per line: the same for the batch
        room = self.scrollable_content_region.width
        wrote = untrimmed = False  # untrimmed: lines added that write would have trimmed
        for text in lines:
            wrote = True
            if options.max_width < 1 or not self.wrap or not isinstance(text, Text):
                if untrimmed:
                    self._trim()
                    untrimmed = False
                self.write(text, scroll_end=False)
                continue
            text.expand_tabs()  # as write does, in place
            strip = self._one_line(console, options, text, room)
            if strip is not None:
                self._add([strip])
                untrimmed = True
                continue
            # write's own steps for a line that wraps
            width = Measurement.get(console, options, text).maximum
            width = max(min(width, room), self.min_width)
            segments = console.render(text, options.update_width(width))
            split = list(Segment.split_lines(segments))
            if split:
                self._add(Strip.from_lines(split))
                untrimmed = True
            else:  # write adds a blank line and trims nothing
                if untrimmed:
                    self._trim()
                    untrimmed = False
                self._widest_line_width = max(width, self._widest_line_width)
                self.lines.append(Strip.blank(width))
        if not wrote:
            return
        if untrimmed:
            self._trim()
        self.virtual_size = Size(self._widest_line_width, len(self.lines))
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=False, x_axis=False)

    def _one_line(self, console, options, text: Text, room: int) -> Strip | None:
        """The strip ``write`` makes of ``text`` when it is one line that fits ``room`` cells
        as it is; ``None`` otherwise."""
        plain = text.plain
        if not plain or not plain.isprintable() or text.end != "\n":
            return None
        used = cell_len(plain)
        if used != len(plain) or used > min(room, options.max_width):
            return None
        if (text.justify or options.justify or "default") != "default":
            return None
        # What Text.__rich_console__ renders for a line that wrap leaves whole: the line joined
        # into one text (its own style becomes a span; a text without one joins as itself),
        # rendered, and split where the end falls (here: the last segment, dropped).
        whole = _JOIN.join([text.copy()]) if text.style else text
        return Strip(list(whole.render(console, end="")))

    def _add(self, strips: list[Strip]) -> None:
        """Append strips as ``write`` does; the batch trims to ``max_lines`` once at its end."""
        self.lines.extend(strips)
        for strip in strips:
            self._widest_line_width = max(self._widest_line_width, strip.cell_length)

    def _trim(self) -> None:
        """Keep the newest ``max_lines`` lines, as ``write`` does after each line."""
        if self.max_lines is not None and len(self.lines) > self.max_lines:
            self._start_line += len(self.lines) - self.max_lines
            self.refresh()
            self.lines = self.lines[-self.max_lines :]

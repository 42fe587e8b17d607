"""A Rich table that fits its width without cutting a word with "…" (SPEC §6.5).

Rich narrows the widest columns first, below their longest word, and then cuts that word. Here
each column keeps at least its longest word and the room left goes to the columns in proportion
to how much they would still wrap; only when even the longest words do not fit does Rich decide.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, RenderableType
from rich.table import Table
from rich.text import Text


@dataclass
class FittedTable:
    """Rows of plain text under a header, laid out when the width is known.

    Args:
        title: shown above the table, left-justified.
        header: the column names.
        rows: one list of cell texts per row, as long as `header`.
        right: the names of the columns justified right (numbers).
    """

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    right: set[str] = field(default_factory=set)

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        yield self.table(options.max_width)

    def table(self, width: int | None = None) -> Table:
        """The Rich table, its columns fitted to `width` characters (None: Rich's own widths)."""
        widths = fit_widths(self.header, self.rows, width) if width else None
        table = Table(title=Text(self.title), title_justify="left")
        for index, name in enumerate(self.header):
            table.add_column(
                Text(name),
                justify="right" if name in self.right else "left",
                width=widths[index] if widths else None,
            )
        for row in self.rows:
            table.add_row(*[Text(cell) for cell in row])
        return table


def fit_widths(
    header: Sequence[str], rows: Sequence[Sequence[str]], width: int
) -> list[int] | None:
    """Content widths of the columns of a table `width` characters wide (Rich's default box:
    three characters of border and padding per column, plus one), each at least its longest
    word. When the longest words alone do not fit, the longest are cut, one character at a time,
    so that the fewest cells lose the least; None when not even one character per column fits."""
    columns = [[name, *(row[i] for row in rows)] for i, name in enumerate(header)]
    natural = [max(_line_width(cell) for cell in cells) for cells in columns]
    least = [max(_word_width(cell) for cell in cells) for cells in columns]
    room = width - 3 * len(header) - 1
    if sum(natural) <= room:
        return natural
    if room < len(header):
        return None
    if sum(least) > room:
        return _cut_longest(least, room)
    spare = room - sum(least)
    wants = [n - m for n, m in zip(natural, least, strict=True)]
    total = sum(wants)
    widths = [m + spare * w // total for m, w in zip(least, wants, strict=True)]
    for index in sorted(range(len(widths)), key=lambda i: wants[i], reverse=True):
        if sum(widths) >= room:
            break
        if widths[index] < natural[index]:
            widths[index] += 1  # the rounding's leftovers, to the columns that want most
    return widths


def _cut_longest(widths: list[int], room: int) -> list[int]:
    widths = list(widths)
    while sum(widths) > room:
        widths[widths.index(max(widths))] -= 1
    return widths


def _line_width(text: str) -> int:
    return max((Text(line).cell_len for line in text.splitlines() or [""]), default=0)


def _word_width(text: str) -> int:
    return max((Text(word).cell_len for word in text.split()), default=0)

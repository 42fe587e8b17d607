"""Rich tables that fit their width without cutting a cell with "…" (docs/report.md).

Rich narrows the widest columns first, below their longest word, and then cuts that word. Here
each column keeps at least its longest word (a number keeps its "± x" with it) and the room left
goes first to the number columns, so that a number stays on one line, then to the text columns.
When even the longest words do not fit, the table is split into parts of whole columns, the key
columns (e.g. the trial id) repeated in each; long hyperparameter names give way to short ones
with a legend first. Only a single word wider than the whole width is folded onto two lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.table import Table
from rich.text import Text

BORDER = 3  # characters of border and padding per column in Rich's default box, plus one
# "12.0% ± 1.9": words "12.0%" and "± 1.9"; "0.0% [0.0, 5.4]": words "0.0%" and "[0.0, 5.4]"
_WORD = re.compile(r"± \S+|\[[^\]\s]*,? [^\]\s]*\]|\S+")
_BREAK = re.compile(
    r" (?=± |\[|\(p [=<])"
)  # where a number cell may break: before "± 1.9", "[0.0, 5.4]", "(p = 0.2)"


@dataclass
class FittedTable:
    """Rows of plain text under a header, laid out when the width is known.

    Args:
        title: shown above the table, left-justified.
        header: the column names.
        rows: one list of cell texts per row, as long as `header`.
        right: the names of the columns justified right (numbers): they wrap only before "±".
        keys: how many leading columns every part repeats when the table is split (default 1:
            the first column).
        short: shorter names of some columns (hyperparameters), used with a legend under the
            table when the full names would make it split.
    """

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    right: set[str] = field(default_factory=set)
    keys: int = 1
    short: Mapping[str, str] = field(default_factory=dict)

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        yield from self.renderables(options.max_width)

    def renderables(self, width: int) -> list[RenderableType]:
        """The table (or its parts, with a blank line between) and the legend of short names."""
        header, legend = list(self.header), ""
        right = [name in self.right for name in self.header]
        if self.short and len(split_columns(header, self.rows, width, self.keys, right)) > 1:
            header = [self.short.get(name, name) for name in header]
            legend = short_legend(self.short, self.header)
        parts = split_columns(header, self.rows, width, self.keys, right)
        items: list[RenderableType] = []
        for index, columns in enumerate(parts):
            title = self.title
            if len(parts) > 1:
                title += f" ({index + 1} of {len(parts)})"
            if index:
                items.append(Text(""))
            items.append(self._table(title, header, columns, width))
        if legend:  # wrapped between its "short = full" pairs, never inside one
            pairs = legend.split(", ")
            chunks = [(" ", f"{pair},") for pair in pairs[:-1]] + [(" ", pairs[-1])]
            items.append(Text("\n".join(wrap_chunks(chunks, width, indent=2)), style="dim"))
        return items

    def _table(self, title: str, header: list[str], columns: list[int], width: int) -> Table:
        names = [header[i] for i in columns]
        rows = [[row[i] for i in columns] for row in self.rows]
        right = [self.header[i] in self.right for i in columns]
        widths = fit_widths(names, rows, width, right)
        table = Table(title=Text(title), title_justify="left")
        for index, name in enumerate(names):
            table.add_column(
                Text(name),
                justify="right" if right[index] else "left",
                width=widths[index] if widths else None,
                overflow="fold",  # a word wider than the whole width: folded, never "…"
            )
        for row in rows:
            cells = [
                _number_cell(cell, widths[i]) if widths and right[i] else cell
                for i, cell in enumerate(row)
            ]
            table.add_row(*[Text(cell) for cell in cells])
        return table


def split_columns(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    keys: int = 1,
    right: Sequence[bool] | None = None,
) -> list[list[int]]:
    """The columns of each part of a table `width` characters wide: all in one part when they
    fit with their numbers broken only before "±" and their text wrapped at words; else whole
    columns in order, the first `keys` repeated in every part."""
    right = list(right) if right is not None else [False] * len(header)
    snug = [_snug(name, [row[i] for row in rows], right[i]) for i, name in enumerate(header)]

    def cost(columns: list[int]) -> int:
        return sum(snug[i] for i in columns) + BORDER * len(columns) + 1

    everything = list(range(len(header)))
    if cost(everything) <= width or len(header) <= keys + 1:
        return [everything]
    repeated = everything[:keys]
    parts, current = [], list(repeated)
    for column in everything[keys:]:
        if len(current) > keys and cost([*current, column]) > width:
            parts.append(current)
            current = [*repeated]
        current.append(column)
    parts.append(current)
    return parts


def fit_widths(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    right: Sequence[bool] | None = None,
) -> list[int] | None:
    """Content widths of the columns of a table `width` characters wide, each at least its
    longest word. The room beyond the longest words goes first to the number columns (`right`),
    so that they break only before "±", then to every column in proportion to how much it
    would still wrap. When the longest words alone do not fit, the longest are narrowed (and
    folded), one character at a time; None when not even one character per column fits."""
    right = list(right) if right is not None else [False] * len(header)
    columns = [[name, *(row[i] for row in rows)] for i, name in enumerate(header)]
    natural = [max(_line_width(cell) for cell in cells) for cells in columns]
    least = [_least(cells[0], cells[1:]) for cells in columns]
    room = width - BORDER * len(header) - 1
    if sum(natural) <= room:
        return natural
    if room < len(header):
        return None
    if sum(least) > room:
        return _cut_longest(least, room)
    widths = list(least)
    snug = [_snug(c[0], c[1:], number) for c, number in zip(columns, right, strict=True)]
    numbers = [i for i, number in enumerate(right) if number]
    spare = _share(widths, snug, numbers, room - sum(widths))
    _share(widths, natural, list(range(len(header))), spare)
    return widths


def _share(widths: list[int], natural: list[int], group: list[int], spare: int) -> int:
    """Widen the columns of `group` towards their natural width with `spare` characters, in
    proportion to what each still wants; returns what is left."""
    wants = {i: natural[i] - widths[i] for i in group}
    total = sum(wants.values())
    if total <= spare:
        for i, want in wants.items():
            widths[i] += want
        return spare - total
    for i, want in wants.items():
        widths[i] += spare * want // total
    left = spare - sum(spare * want // total for want in wants.values())
    while left > 0:  # the rounding's leftovers, one at a time to the columns that want most
        i = max(wants, key=lambda j: natural[j] - widths[j])
        widths[i] += 1
        left -= 1
    return 0


def short_names(names: Sequence[str]) -> dict[str, str]:
    """A short name per hyperparameter: its last dotted part, with the layer index of a
    per-layer one (`optimizer.learning_rate` → `learning_rate`, `model.units.0` → `units.0`,
    `optimizer.name` → `optimizer`); the full name where two short names would clash."""
    short = {name: _short(name) for name in names}
    clashes = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {name: name if s in clashes else s for name, s in short.items()}


def short_legend(short: Mapping[str, str], names: Sequence[str]) -> str:
    """ "learning_rate = optimizer.learning_rate, ..." for the names that were shortened."""
    pairs = [f"{short[n]} = {n}" for n in names if n in short and short[n] != n]
    return "short names: " + ", ".join(pairs) if pairs else ""


def wrap_chunks(chunks: list[tuple[str, str]], width: int, indent: int = 4) -> list[str]:
    """Lines at most `width` cells wide, broken only between chunks (each `(separator, text)`),
    the lines after the first indented. A chunk too long for a line of its own breaks at its
    spaces; only a single word longer than a whole line is cut."""
    pad = " " * min(indent, max(width // 4, 0))
    lines: list[str] = []
    line = ""
    for sep, chunk in chunks:
        fits = cell_len(pad + chunk) <= width
        for i, piece in enumerate([chunk] if fits else chunk.split(" ")):
            gap = sep if i == 0 else " "
            if not line:
                line = piece
            elif cell_len(line + gap + piece) <= width:
                line += gap + piece
            else:
                lines.append(line)
                line = pad + piece
            while cell_len(line) > width:  # one word wider than the line: cut, the rest below
                lines.append(line[:width])
                line = pad + line[width:]
    return [*lines, line] if line or not lines else lines


def _short(name: str) -> str:
    parts = name.split(".")
    if len(parts) > 2 and parts[-1].isdigit():
        return ".".join(parts[-2:])
    if parts[-1] == "name" and len(parts) > 1:
        return parts[-2]
    return parts[-1]


def _number_cell(text: str, width: int) -> str:
    """A number cell wider than its column breaks before its "±" or "(p", not inside."""
    if _line_width(text) <= width:
        return text
    return _BREAK.sub("\n", text)


def _cut_longest(widths: list[int], room: int) -> list[int]:
    widths = list(widths)
    while sum(widths) > room:
        widths[widths.index(max(widths))] -= 1
    return widths


def _snug(name: str, cells: Sequence[str], number: bool) -> int:
    """The width a column needs so that a number breaks only before its "±" (text: its
    longest word)."""
    if not number:
        return _least(name, cells)
    lines = [line for cell in cells for line in _BREAK.sub("\n", cell).splitlines()]
    return max(_least(name, cells), *(Text(line).cell_len for line in lines or [""]))


def _least(name: str, cells: Sequence[str]) -> int:
    return max(_word_width(cell) for cell in [name, *cells])


def _line_width(text: str) -> int:
    return max((Text(line).cell_len for line in text.splitlines() or [""]), default=0)


def _word_width(text: str) -> int:
    return max((Text(word).cell_len for word in _WORD.findall(text)), default=0)

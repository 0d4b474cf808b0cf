"""Fitting tables to the terminal: clip names first, then narrow or drop columns.

A table is described by :class:`Column` s; :func:`fit` picks, in a fixed order of
steps, the first layout whose lines fit ``width`` (``None``: no limit, the natural
layout). Each step keeps what the previous ones did, so the output degrades the same
way every time, and golden tests can pin it at any width.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from tracekit._cli._style import Cell, Style, clip

GAP = 2  # spaces between columns
MIN_WIDTH = 60  # the narrowest layout fit() aims for


@dataclasses.dataclass
class Column:
    """One column: its header, its cells, how it may shrink."""

    header: str
    cells: list[Cell]
    right: bool = False  # numbers: right-aligned
    clip_to: int | None = None  # a clippable column's current maximum width
    dropped: bool = False


Step = Callable[[dict[str, Column]], None]


def natural_width(column: Column) -> int:
    width = max([len(column.header), *(len(text) for text, _ in column.cells)])
    return width if column.clip_to is None else min(width, max(column.clip_to, len(column.header)))


def total_width(columns: Sequence[Column]) -> int:
    shown = [c for c in columns if not c.dropped]
    return sum(natural_width(c) for c in shown) + GAP * max(0, len(shown) - 1)


def fit(columns: list[Column], width: int | None, steps: Sequence[Step], grow: str | None = None) -> list[Column]:
    """Apply ``steps`` until the table fits ``width``; then give spare room back to ``grow``."""
    if width is None:
        return columns
    by_name = {c.header.strip(): c for c in columns}
    for step in steps:
        if total_width(columns) <= width:
            break
        step(by_name)
    if grow is not None and by_name[grow].clip_to is not None:
        column = by_name[grow]
        full = max([len(column.header), *(len(text) for text, _ in column.cells)])
        spare = width - total_width(columns)
        if spare > 0:
            column.clip_to = min(full, natural_width(column) + spare)
    return columns


def clip_column(name: str, to: int) -> Step:
    def step(columns: dict[str, Column]) -> None:
        column = columns[name]
        column.clip_to = to if column.clip_to is None else min(column.clip_to, to)

    return step


def drop(*names: str) -> Step:
    def step(columns: dict[str, Column]) -> None:
        for name in names:
            columns[name].dropped = True

    return step


def render(columns: Sequence[Column], style: Style, width: int | None = None) -> list[str]:
    """Header and rows, columns two spaces apart, the last one unpadded (and clipped to ``width``)."""
    shown = [c for c in columns if not c.dropped]
    widths = [natural_width(c) for c in shown]
    rows = len(shown[0].cells) if shown else 0
    lines = []
    for r in range(-1, rows):
        parts = []
        used = 0
        for i, (column, w) in enumerate(zip(shown, widths, strict=True)):
            text, paint = (column.header, "bold") if r < 0 else column.cells[r]
            last = i == len(shown) - 1
            if last and width is not None:
                w = max(1, min(w, width - used))
            if len(text) > w:
                text = clip(text, w, style)
            padded = text.rjust(w) if column.right else text if last else text.ljust(w)
            parts.append(style.paint(padded, paint))
            used += w + GAP
        lines.append("  ".join(parts).rstrip())
    return lines

"""The CLI's character set and colours (:class:`Style`), and the table cell they paint:
the ground floor of the renderers (``_render`` draws tables and trees, ``_fit`` fits them
to the terminal; both use these)."""

from __future__ import annotations

from dataclasses import dataclass

_CODES = {"red": "31", "green": "32", "yellow": "33", "cyan": "36", "dim": "2", "bold": "1"}

Cell = tuple[str, str | None]  # (plain text, style name or None)


@dataclass(frozen=True)
class Style:
    """Colour and character set of one run: ANSI colours on or off, Unicode or ASCII."""

    color: bool = False
    unicode: bool = True

    def paint(self, text: str, style: str | None) -> str:
        """``text`` wrapped in the ANSI code of ``style`` (``red``, ``dim``, ...) when colour is on."""
        if not self.color or not style or not text:
            return text
        return f"\x1b[{_CODES[style]}m{text}\x1b[0m"

    @property
    def bar(self) -> str:
        return "█" if self.unicode else "#"

    @property
    def ellipsis(self) -> str:
        return "…" if self.unicode else "~"

    def branch(self, last: bool) -> str:
        if self.unicode:
            return "└─ " if last else "├─ "
        return "`- " if last else "|- "

    def stem(self, last: bool) -> str:
        return "   " if last else ("│  " if self.unicode else "|  ")


def clip(text: str, width: int, style: Style) -> str:
    """``text`` cut to ``width`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= width else text[: max(0, width - 1)] + style.ellipsis

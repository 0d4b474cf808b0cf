"""What the store writes is always writable: one bad value never costs a batch.

Spans made by tracekit are clean when they reach the store (``tracekit._clean`` is
the gate where values enter a span). Spans can also carry values that bypassed it --
set through ``Span.otel_span``, made by another OpenTelemetry producer, read from an
older store -- so the store checks again, per span and per row, and replaces what
SQLite or JSON cannot take by a marker instead of rolling back the whole batch:

- JSON columns are encoded by :func:`encode_json`: no NaN (not JSON), no lone
  surrogate (SQLite refuses to bind it), no int too long for ``str()``;
- a row that SQLite still refuses (an int beyond 64 bits, a type it cannot bind) is
  written on its own with its values made safe (:func:`insert_rows`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tracekit import _clean

logger = logging.getLogger("tracekit")

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_INT64 = (-(2**63), 2**63 - 1)

#: what SQLite raises for a value it cannot bind (never a locked or full database)
ROW_ERRORS: tuple[type[BaseException], ...] = (
    OverflowError,
    UnicodeError,
    ValueError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
)


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a surrogate code point (lone or paired), which SQLite cannot
    bind. A strict UTF-8 encode fails exactly on those, and runs 4-6x faster than the
    regular expression ``clean_text`` uses (1.3 KB: ~1 µs against ~6 µs, CPython 3.11):
    this runs on every span's encoded attributes on the export thread, under the GIL."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def storable(value: Any, _depth: int = 0) -> Any:
    """``value`` as plain JSON data every reader accepts (a copy; markers in place)."""
    t = type(value)
    if t is str:
        return _clean.clean_text(value)
    if value is None or t is bool:
        return value
    if t is int:
        return value if value.bit_length() <= 14_000 else _clean.big_int_marker(value)
    if t is float:
        return value if value - value == 0.0 else repr(value)
    if _depth > 32:
        return "<max depth>"
    if isinstance(value, (bytes, bytearray, memoryview)):
        from tracekit._binary import bytes_placeholder

        return bytes_placeholder(value)
    if isinstance(value, Mapping):
        return {_clean.clean_key(k): storable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v, _depth + 1) for v in value]
    if isinstance(value, (str, int, float)):  # subclasses: their plain value
        return storable(_plain(value), _depth)
    return _clean.safe_str(value)


def _plain(value: str | int | float) -> Any:
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__index__(value)
    return float.__float__(value)


def encode_json(value: Any) -> str:
    """``value`` as JSON text SQLite and every JSON reader accept (see the module doc)."""
    try:
        text = _encode(value)
        if not has_surrogate(text):
            return text
    except (TypeError, ValueError, RecursionError):
        pass
    return _encode(storable(value))


def text(value: Any) -> str:
    """A name or message column: clean text."""
    if type(value) is str:
        return value if value.isascii() else _clean.clean_text(value)
    return _clean.safe_str(value)


def safe_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """``row`` with each value one SQLite binds: clean text, ints clamped to 64 bits."""
    out: list[Any] = []
    for value in row:
        if value is None or type(value) is float:
            out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(min(max(int.__index__(value), _INT64[0]), _INT64[1]))
        elif type(value) is str:
            out.append(_clean.clean_text(value))
        else:
            out.append(_clean.safe_str(value))
    return tuple(out)


def insert_rows(conn: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """``executemany``, falling back row by row when a value cannot be bound.

    The statements are ``INSERT OR REPLACE``/``INSERT`` of distinct keys inside the
    caller's transaction, so writing again the rows a failed ``executemany`` had
    written already changes nothing.
    """
    rows = list(rows)
    try:
        conn.executemany(sql, rows)
        return
    except ROW_ERRORS:
        pass
    if sql.startswith("INSERT INTO"):  # rows the failed executemany wrote are there now
        sql = "INSERT OR REPLACE INTO" + sql[len("INSERT INTO") :]
    for row in rows:
        try:
            conn.execute(sql, row)
        except ROW_ERRORS as exc:
            logger.warning("tracekit: a span value could not be stored (%s); stored with it replaced", type(exc).__name__)
            conn.execute(sql, safe_row(row))

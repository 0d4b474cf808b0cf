"""Values every encoder accepts: the one gate where app data enters a span.

A value that no encoder downstream can take -- a lone surrogate (SQLite, protobuf
and UTF-8 reject it), an int too large for ``str()`` (Python 3.11+ refuses more than
4,300 digits) or for OTLP's int64, NaN (not JSON), a NUL in a name (PostgreSQL, behind
an MLflow server, rejects it), an object whose ``__str__`` raises -- is replaced *in
place* here by a marker, so that one bad value never costs its span or its batch.

Everything here is total (never raises) and cheap on ordinary data: ASCII text is
one C-level ``isascii()`` call, a small int one comparison.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: a UTF-16 code unit that is half of a pair: alone, it cannot be encoded as UTF-8
_SURROGATE = re.compile("[\ud800-\udfff]")
#: control characters that names and keys must not carry (NUL ends a C string, and
#: PostgreSQL text refuses it); tab, newline and carriage return are kept
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: span and event names longer than this are cut (with the truncation mark)
MAX_NAME = 1000
#: attribute keys longer than this are cut: MLflow trace tag keys may hold 250 characters
MAX_KEY = 250
#: ints beyond this many bits (~4,200 digits) have no decimal text in Python 3.11+
_MAX_INT_BITS = 14_000
_INT64 = (-(2**63), 2**63 - 1)
#: sequences longer than this are not OpenTelemetry arrays: they become (bounded) JSON
_MAX_ARRAY = 10_000
REPLACEMENT = "\ufffd"
CUT_MARK = "...[truncated {} chars]"


def clean_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (a valid pair is joined)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    # UTF-16 round trip: a proper pair decodes to its character, a lone half to U+FFFD
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def big_int_marker(value: int) -> str:
    """The marker for an int whose decimal text Python refuses to build."""
    digits = int(value.bit_length() * 0.30103) + 1
    return f"<int of about {digits} digits>"


def safe_str(value: object) -> str:
    """``str(value)``, clean; a marker when ``__str__`` (and ``__repr__``) raise."""
    try:
        if type(value) is int and value.bit_length() > _MAX_INT_BITS:
            return big_int_marker(value)
        text = str(value)
    except Exception:
        try:
            text = repr(value)
        except Exception:
            return f"<unrepresentable {type(value).__qualname__}>"
    if type(text) is not str:  # a str subclass returned by __str__: take its plain text
        text = str.__str__(text)
    return clean_text(text)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARK.format(len(text) - limit)


def clean_name(value: object, limit: int = MAX_NAME) -> str:
    """A span or event name: text without control characters, at most ``limit`` characters."""
    text = value if type(value) is str else safe_str(value)
    if not text.isascii():
        text = clean_text(text)
    if not text.isprintable():
        text = _CONTROL.sub(REPLACEMENT, text)
    return _clip(text, limit) if len(text) > limit else text


def clean_key(key: object) -> str:
    """An attribute key (see :func:`clean_name`), at most :data:`MAX_KEY` characters."""
    if type(key) is str and len(key) <= MAX_KEY and key.isascii() and key.isprintable():
        return key  # the common case
    return clean_name(key, MAX_KEY)


def _clean_number(value: Any) -> Any:
    """An int or float as OTLP, the store and MLflow take it, or None when it is neither."""
    t = type(value)
    if t is int:
        if _INT64[0] <= value <= _INT64[1]:
            return value
        # beyond int64 (OTLP's int_value): the digits as text, or a marker past Python's limit
        return big_int_marker(value) if value.bit_length() > _MAX_INT_BITS else str(value)
    if t is float:
        return value if math.isfinite(value) else repr(value)  # 'nan', 'inf', '-inf'
    return None

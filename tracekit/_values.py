"""Attribute values every exporter can encode: the gate where app data becomes a span
attribute (names, keys and text are cleaned in ``_clean``; other values become bounded
JSON through ``_serialize``). It sits above both, so neither imports the other back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from tracekit import _config
from tracekit._clean import _MAX_ARRAY, _clean_number, clean_key, clean_text, safe_str
from tracekit._serialize import dumps


def span_attribute_value(value: Any) -> Any:
    """``value`` as an attribute value every exporter can encode (see ``_clean``)."""
    t = type(value)
    # the common cases, without isinstance chains or a configuration lookup
    if t is str:
        if value.isascii():
            return value
    elif t is bool:
        return value
    elif t is int:
        if abs(value) <= 0x7FFFFFFFFFFFFFFF:  # int64, as OTLP carries it
            return value
    elif t is float and value - value == 0.0:  # finite: inf - inf and nan - nan are nan
        return value
    return attribute_value(value, _config.get().max_attribute_length)


def attribute_value(value: Any, max_length: int) -> Any:
    """``value`` as an OpenTelemetry attribute value every exporter can encode.

    str, bool, finite floats and int64 ints are kept (text cleaned of lone surrogates);
    homogeneous sequences of them become lists; anything else becomes bounded JSON text
    (``max_length`` characters, see ``_serialize.dumps``).
    """
    t = type(value)
    if t is str:
        return value if value.isascii() else clean_text(value)
    if t is bool:
        return value
    if t is int or t is float:
        return _clean_number(value)
    if t is dict:
        return _json_text(value, max_length)
    if t is list or t is tuple:
        items = _array(value)
        return items if items is not None else _json_text(value, max_length)
    if isinstance(value, Enum):
        value = value.value
        if isinstance(value, Enum):  # an enum whose value is an enum: JSON below
            value = safe_str(value)
    if isinstance(value, str):
        return clean_text(str.__str__(value))
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return _clean_number(int.__index__(value))
    if isinstance(value, float):
        return _clean_number(float.__float__(value))
    if isinstance(value, (list, tuple)) or (
        isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray, memoryview))
    ):
        items = _array(value)
        if items is not None:
            return items
    return _json_text(value, max_length)


def _json_text(value: Any, max_length: int) -> str:
    text: str = dumps(value, max_length)[0]
    return text


def _array(value: Sequence[Any]) -> list[Any] | None:
    """A homogeneous sequence as a list of clean values, or None (then it becomes JSON)."""
    try:
        if not 0 < len(value) <= _MAX_ARRAY:
            return None
        items = list(value)
    except Exception:
        return None
    if all(isinstance(v, str) for v in items):
        return [clean_text(v if type(v) is str else str.__str__(v)) for v in items]
    if all(isinstance(v, bool) for v in items):
        return [bool(v) for v in items]
    if all(type(v) is int or type(v) is float for v in items):
        clean = [_clean_number(v) for v in items]
        # a value that became text would mix types: then the whole list is JSON
        return clean if not any(type(v) is str for v in clean) else None
    return None


def clean_attributes(attributes: object, max_length: int) -> dict[str, Any]:
    """A mapping of attributes with clean keys and values (None values dropped).

    Never raises: a mapping whose iteration fails gives what was read before.
    """
    out: dict[str, Any] = {}
    if not isinstance(attributes, Mapping):
        return out
    try:
        for key, value in attributes.items():
            if value is not None:
                out[clean_key(key)] = attribute_value(value, max_length)
    except Exception:  # an odd mapping type: keep what was read
        pass
    return out

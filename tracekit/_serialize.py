"""Safe, bounded JSON for span inputs and outputs.

Whatever the app passes -- pydantic models, dataclasses, enums, bytes, datetimes,
sets, cyclic structures, objects whose ``__repr__`` raises, lone surrogates, ints too
long for ``str()``, mocks that fabricate attributes, huge values -- becomes valid JSON
of at most ``limit`` characters, and this module never raises.

The common case is one call into the C JSON encoder (the fast path); only odd data
(cycles, non-string keys, NaN, huge ints) takes the pure-Python walk, which has a node
budget; only oversized text, or text that may hold binary payloads (``_binary``), is
post-processed.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import threading
from collections.abc import Mapping
from typing import Any

from tracekit import _binary, _errors
from tracekit._clean import big_int_marker, clean_text

TRUNCATION_MARK = "...[truncated {} chars]"
_MAX_DEPTH = 64
_MAX_ITEMS = 1000
#: the Python walk visits at most this many values: an object that fabricates
#: attributes or items on access costs milliseconds, never seconds
_MAX_NODES = 100_000
#: ... and converts at most this many objects the JSON encoder does not know (each
#: runs the app's code: model_dump, to_dict, repr). Per thread, reset by each dumps().
_MAX_CONVERSIONS = 10_000
_BUDGET_MARK = "<not serialized: over the size budget>"
_budget = threading.local()
_PLAIN = (dict, list, tuple, str, int, float, bool, type(None))


_STR_TYPES = (("uuid", "UUID"), ("decimal", "Decimal"), ("pathlib", "PurePath"))


def _safe_repr(obj: object) -> str:
    try:
        text = repr(obj)
    except Exception:
        return f"<unrepresentable {type(obj).__qualname__}>"
    return text if type(text) is str else str.__str__(text)


def _default(obj: Any) -> Any:
    """``json.dumps`` hook for everything the encoder does not know. Never raises."""
    left = getattr(_budget, "left", _MAX_CONVERSIONS) - 1
    _budget.left = left
    if left < 0:
        _budget.short = True
        return _BUDGET_MARK
    try:
        return _convert(obj)
    except Exception:  # a property or __getattr__ of the app's object raised
        return _safe_repr(obj)


def _plain(value: Any) -> bool:
    """Whether a conversion hook gave plain data. A mock (or any object that
    fabricates attributes) returns another fabricated object: following it would
    recurse until the recursion limit, each step costlier than the last."""
    return isinstance(value, _PLAIN)


def _convert(obj: Any) -> Any:
    if isinstance(obj, type):
        return _safe_repr(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _binary.bytes_placeholder(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        try:
            dumped = model_dump(mode="json", warnings=False)
        except Exception:
            return _safe_repr(obj)
        return dumped if _plain(dumped) else _safe_repr(obj)
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name, None) for f in dataclasses.fields(obj)}
    # datetime, uuid, decimal and pathlib are looked up, not imported: an object of
    # theirs means its module is loaded already, and `import tracekit` stays lighter
    # (uuid alone pulls in platform: ~3 ms)
    modules = sys.modules
    datetime = modules.get("datetime")
    if datetime is not None:
        if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
            return obj.isoformat()
        if isinstance(obj, datetime.timedelta):
            return obj.total_seconds()
    if isinstance(obj, (set, frozenset)):
        items = list(obj)
        try:
            items.sort()
        except TypeError:
            pass
        return items
    for module, name in _STR_TYPES:
        cls = getattr(modules.get(module), name, None)
        if cls is not None and isinstance(obj, cls):
            return str(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        try:
            converted = to_dict()
        except Exception:
            return _safe_repr(obj)
        if _plain(converted):
            return converted
    return _safe_repr(obj)


class _Walk:
    """One pass of the total Python walk, with its node budget."""

    __slots__ = ("left", "path", "short")

    def __init__(self) -> None:
        self.left = _MAX_NODES
        self.path: set[int] = set()
        self.short = False  # some value was left out for the budget

    def value(self, obj: Any, depth: int) -> Any:
        self.left -= 1
        if self.left < 0:
            self.short = True
            return _BUDGET_MARK
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj if obj.bit_length() <= 14_000 else big_int_marker(obj)
        if isinstance(obj, float):
            return obj if obj == obj and obj not in (float("inf"), float("-inf")) else str(obj)
        if depth > _MAX_DEPTH:
            return "<max depth>"
        path = self.path
        if id(obj) in path:
            return "<cycle>"
        if isinstance(obj, (dict, list, tuple)):
            path.add(id(obj))
            try:
                if isinstance(obj, dict):
                    out: dict[str, Any] = {}
                    for k, v in obj.items():
                        if self.left <= 0:
                            self.short = True
                            out["..."] = _BUDGET_MARK
                            break
                        out[self.key(k)] = self.value(v, depth + 1)
                    return out
                items: list[Any] = []
                for v in obj:
                    if self.left <= 0:
                        self.short = True
                        items.append(_BUDGET_MARK)
                        break
                    items.append(self.value(v, depth + 1))
                return items
            finally:
                path.discard(id(obj))
        converted = _default(obj)
        if converted is obj or isinstance(converted, str):
            return converted
        path.add(id(obj))
        try:
            return self.value(converted, depth + 1)
        finally:
            path.discard(id(obj))

    @staticmethod
    def key(k: Any) -> str:
        if isinstance(k, str):
            return k
        if isinstance(k, int) and not isinstance(k, bool) and k.bit_length() > 14_000:
            return big_int_marker(k)
        if isinstance(k, (int, float, bool)):
            return str(k)
        return _safe_repr(k)


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` into plain JSON data: the slow, total path.

    Cycles become ``"<cycle>"``, non-string keys are stringified, NaN and infinities
    become strings, ints too long for ``str()`` a marker, nesting deeper than 64 levels
    is cut, and at most 100,000 values are visited (the rest become a marker).
    """
    _reset_budget()
    return _Walk().value(obj, 0)


def _reset_budget() -> None:
    _budget.left = _MAX_CONVERSIONS
    _budget.short = False


def _clip(obj: Any, max_str: int, max_items: int = _MAX_ITEMS) -> Any:
    """``obj`` with strings cut to ``max_str`` characters and lists and objects to
    ``max_items`` entries, each cut visibly (the documented marks)."""
    if isinstance(obj, str):
        if len(obj) > max_str:
            return obj[:max_str] + TRUNCATION_MARK.format(len(obj) - max_str)
        return obj
    if isinstance(obj, dict):
        if len(obj) > max_items:
            kept = {k: _clip(v, max_str, max_items) for k, v in list(obj.items())[:max_items]}
            kept["..."] = f"[{len(obj) - max_items} more keys]"
            return kept
        return {k: _clip(v, max_str, max_items) for k, v in obj.items()}
    if isinstance(obj, list):
        if len(obj) > max_items:
            return [_clip(v, max_str, max_items) for v in obj[:max_items]] + [f"...[{len(obj) - max_items} more items]"]
        return [_clip(v, max_str, max_items) for v in obj]
    return obj


#: one encoder for every call: json.dumps with options builds a new JSONEncoder each time
_ENCODER = json.JSONEncoder(default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _encode(obj: Any) -> tuple[str, bool]:
    """JSON text of ``obj``, and whether the walk's budget left something out."""
    try:
        return _ENCODER.encode(obj), False
    except Exception:
        # cycles, non-string keys, NaN, ints too long for str(): walk it in Python
        _reset_budget()
        walk = _Walk()
        return json.dumps(walk.value(obj, 0), ensure_ascii=False, separators=(",", ":")), walk.short


def _shrink_steps(limit: int) -> list[tuple[int, int]]:
    """(longest string, most entries) to try in turn, gentlest first."""
    steps = []
    max_str = max(limit // 2, 16)
    while max_str >= 16:
        steps.append((max_str, _MAX_ITEMS))
        max_str //= 4
    return steps + [(16, n) for n in (250, 60, 15, 3, 1)]


def dumps(obj: Any, limit: int) -> tuple[str, bool]:
    """Encode ``obj`` as JSON text of at most ``limit`` characters.

    Returns ``(text, truncated)``. The text is always valid JSON that any encoder
    downstream accepts (lone surrogates become U+FFFD). Binary payloads are replaced by
    a placeholder giving their MIME type and size (see ``_binary``). When the text is
    too long, long strings inside it are clipped with a visible ``...[truncated N
    chars]`` mark, long lists with a ``...[N more items]`` item and large objects with a
    ``"...": "[N more keys]"`` entry (so the JSON stays valid and keeps its shape); as
    a last resort the result is ``{"truncated": true, "original_length": N, "preview":
    "..."}``.
    """
    try:
        _reset_budget()
        text, short = _encode(obj)
        short = short or _budget.short
        text = clean_text(text)
        if _binary.may_hold_blobs(text):
            text = _binary.strip_text(text)
        if len(text) <= limit:
            return text, short
        data = json.loads(text)
        for max_str, max_items in _shrink_steps(limit):
            clipped = json.dumps(_clip(data, max_str, max_items), ensure_ascii=False, separators=(",", ":"))
            if len(clipped) <= limit:
                return clipped, True
        preview = text[: max(limit - 100, 0)]
        while True:
            # escaping can lengthen the preview: shrink until the whole object fits
            result = json.dumps({"truncated": True, "original_length": len(text), "preview": preview})
            if len(result) <= limit or not preview:
                return result, True
            preview = preview[: len(preview) * 3 // 4]
    except Exception:
        _errors.report("serialize")
        return json.dumps(f"<unserializable {type(obj).__qualname__}>"), False

"""Safe, bounded JSON for span inputs and outputs.

Whatever the app passes -- pydantic models, dataclasses, enums, bytes, datetimes,
sets, cyclic structures, objects whose ``__repr__`` raises, huge values -- becomes
valid JSON of at most ``limit`` characters, and this module never raises.

The common case is one call into the C JSON encoder (the fast path); only odd data
(cycles, non-string keys, NaN) takes the pure-Python walk, and only oversized or
base64-laden text is post-processed.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import sys
from collections.abc import Mapping
from typing import Any

from tracekit import _errors

TRUNCATION_MARK = "...[truncated {} chars]"
_MAX_DEPTH = 64
_MAX_ITEMS = 1000

# A data URL, or a long run of base64 characters (1 KiB and more) that mixes cases
# and digits the way encoded binary does. Neither can contain '"' or '\\', so the
# substitution is safe on the encoded JSON text itself.
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,([A-Za-z0-9+/]+={0,2})")
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{1024,}={0,2}")


def _b64_size(text: str) -> int:
    return len(text) * 3 // 4 - text.count("=", len(text) - 2)


def _replace_data_url(m: re.Match[str]) -> str:
    return f"<base64 {m.group(1)}, {_b64_size(m.group(2))} bytes>"


def _replace_b64(m: re.Match[str]) -> str:
    run = m.group(0)
    # prose and identifiers can be long too; encoded binary mixes all three classes
    if not (any(c.isdigit() for c in run[:256]) and any(c.isupper() for c in run[:256])):
        return run
    return f"<base64 {_b64_size(run)} bytes>"


def _placeholder_blobs(text: str) -> str:
    if "base64," in text:
        text = _DATA_URL.sub(_replace_data_url, text)
    if len(text) >= 1024:
        text = _B64_RUN.sub(_replace_b64, text)
    return text


_STR_TYPES = (("uuid", "UUID"), ("decimal", "Decimal"), ("pathlib", "PurePath"))


def _safe_repr(obj: object) -> str:
    try:
        return repr(obj)
    except Exception:
        return f"<unrepresentable {type(obj).__qualname__}>"


def _default(obj: Any) -> Any:
    """``json.dumps`` hook for everything the encoder does not know."""
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump) and not isinstance(obj, type):
        try:
            return model_dump(mode="json", warnings=False)
        except Exception:
            return _safe_repr(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name, None) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return f"<bytes {len(obj)} bytes>"
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
    if callable(to_dict) and not isinstance(obj, type):
        try:
            return to_dict()
        except Exception:
            pass
    return _safe_repr(obj)


def to_jsonable(obj: Any, _depth: int = 0, _path: set[int] | None = None) -> Any:
    """Convert ``obj`` into plain JSON data: the slow, total path.

    Cycles become ``"<cycle>"``, non-string keys are stringified, NaN and infinities
    become strings, and nesting deeper than 64 levels is cut.
    """
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else str(obj)
    if _depth > _MAX_DEPTH:
        return "<max depth>"
    path = _path if _path is not None else set()
    if id(obj) in path:
        return "<cycle>"
    if isinstance(obj, (dict, list, tuple)):
        path.add(id(obj))
        try:
            if isinstance(obj, dict):
                return {
                    (k if isinstance(k, str) else _safe_repr(k) if not isinstance(k, (int, float, bool)) else str(k)):
                    to_jsonable(v, _depth + 1, path)
                    for k, v in obj.items()
                }
            return [to_jsonable(v, _depth + 1, path) for v in obj]
        finally:
            path.discard(id(obj))
    try:
        converted = _default(obj)
    except Exception:
        converted = _safe_repr(obj)
    if converted is obj or isinstance(converted, str):
        return converted
    path.add(id(obj))
    try:
        return to_jsonable(converted, _depth + 1, path)
    finally:
        path.discard(id(obj))


def _clip(obj: Any, max_str: int) -> Any:
    if isinstance(obj, str):
        if len(obj) > max_str:
            return obj[:max_str] + TRUNCATION_MARK.format(len(obj) - max_str)
        return obj
    if isinstance(obj, dict):
        return {k: _clip(v, max_str) for k, v in obj.items()}
    if isinstance(obj, list):
        if len(obj) > _MAX_ITEMS:
            return [_clip(v, max_str) for v in obj[:_MAX_ITEMS]] + [f"...[{len(obj) - _MAX_ITEMS} more items]"]
        return [_clip(v, max_str) for v in obj]
    return obj


#: one encoder for every call: json.dumps with options builds a new JSONEncoder each time
_ENCODER = json.JSONEncoder(default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _encode(obj: Any) -> str:
    try:
        return _ENCODER.encode(obj)
    except (TypeError, ValueError, RecursionError):
        # cycles, non-string keys, NaN: walk it in Python
        return json.dumps(to_jsonable(obj), ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any, limit: int) -> tuple[str, bool]:
    """Encode ``obj`` as JSON text of at most ``limit`` characters.

    Returns ``(text, truncated)``. Base64 blobs are replaced by a placeholder giving
    their size. When the text is too long, long strings inside it are clipped with a
    visible ``...[truncated N chars]`` mark (so the JSON stays valid and readable);
    as a last resort the result is a JSON object holding a preview.
    """
    try:
        text = _placeholder_blobs(_encode(obj))
        if len(text) <= limit:
            return text, False
        data = json.loads(text)
        max_str = max(limit // 2, 16)
        while max_str >= 16:
            clipped = json.dumps(_clip(data, max_str), ensure_ascii=False, separators=(",", ":"))
            if len(clipped) <= limit:
                return clipped, True
            max_str //= 4
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

"""Build a small instance that validates against a JSON schema.

Used for structured outputs (``response_format`` / ``text.format`` /
``output_config.format`` / ``responseJsonSchema``) and for tool-call arguments,
so that ``chat.completions.parse``, ``responses.parse`` and strict tools parse
the fake answer with the caller's own pydantic model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["instance_from_schema"]

# Deep or recursive schemas (a tree node holding a list of nodes) would recurse
# forever; past this depth optional parts are left out.
_MAX_DEPTH = 6

_STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "duration": "P1D",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
}


def instance_from_schema(schema: Any) -> Any:
    """Return a minimal value valid for ``schema``.

    Strings become ``"text"`` (or a value of their ``format``), integers ``1``,
    numbers ``1.0``, booleans ``True``, arrays one item, objects every property,
    enums their first value. ``$ref`` into ``$defs`` / ``definitions`` is
    followed; Gemini's upper-case ``type`` names are accepted.

    >>> instance_from_schema({"type": "object", "properties": {"n": {"type": "integer"}}})
    {'n': 1}
    """
    root = schema if isinstance(schema, Mapping) else {}
    return _build(schema, root, 0)


def _resolve_ref(ref: str, root: Mapping[str, Any]) -> Any:
    if not ref.startswith("#/"):
        return {}
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return {}
        node = node[part]
    return node


def _build(schema: Any, root: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(schema, Mapping):
        return "text"
    if isinstance(schema.get("$ref"), str):
        return _build(_resolve_ref(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "default" in schema and depth > _MAX_DEPTH:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            non_null = [o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
            if depth > _MAX_DEPTH and len(non_null) < len(options):
                return None
            return _build(non_null[0] if non_null else options[0], root, depth + 1)
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: dict[str, Any] = {}
        for part in all_of:
            value = _build(part, root, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
            else:
                return value
        return merged

    kind = schema.get("type")
    if isinstance(kind, list):
        non_null_kinds = [k for k in kind if str(k).lower() != "null"]
        kind = non_null_kinds[0] if non_null_kinds else "null"
    if kind is None:
        kind = "object" if "properties" in schema else ("array" if "items" in schema else "string")
    kind = str(kind).lower()
    if schema.get("nullable") is True and depth > _MAX_DEPTH:
        return None

    if kind == "string":
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _STRING_FORMATS:
            return _STRING_FORMATS[fmt]
        min_length = schema.get("minLength")
        if isinstance(min_length, int) and min_length > 4:
            return "x" * min_length
        return "text"
    if kind == "integer":
        return _number(schema, 1)
    if kind == "number":
        return float(_number(schema, 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        min_items = schema.get("minItems")
        count = min_items if isinstance(min_items, int) else 1
        if depth > _MAX_DEPTH and not min_items:
            return []
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return [_build(item, root, depth + 1) for item in prefix]
        item = _build(schema.get("items", {}), root, depth + 1)
        return [item for _ in range(max(count, 1 if depth <= _MAX_DEPTH else 0))]
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return {}
        required = schema.get("required")
        required_names = set(required) if isinstance(required, list) else set(properties)
        result: dict[str, Any] = {}
        for name, sub in properties.items():
            if depth > _MAX_DEPTH and name not in required_names:
                continue
            result[str(name)] = _build(sub, root, depth + 1)
        return result
    return "text"


def _number(schema: Mapping[str, Any], fallback: int | float) -> int | float:
    """``fallback`` unless the schema's bounds exclude it."""
    minimum = schema.get("minimum")
    exclusive = schema.get("exclusiveMinimum")
    maximum = schema.get("maximum")
    value = fallback
    if isinstance(minimum, (int, float)) and value < minimum:
        value = minimum
    if isinstance(exclusive, (int, float)) and not isinstance(exclusive, bool) and value <= exclusive:
        value = exclusive + 1
    if isinstance(maximum, (int, float)) and value > maximum:
        value = maximum
    return value

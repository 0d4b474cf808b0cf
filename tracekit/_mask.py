"""The ``mask`` hook's contract, and :func:`mask_fields` for per-field masking.

The hook is called once per recorded inputs/outputs value as ``mask(key, value)``:
``key`` is the attribute (``"mlflow.spanInputs"`` or ``"mlflow.spanOutputs"``) and
``value`` is the *whole* value in its JSON shape -- dicts, lists, strings, numbers,
booleans, None -- exactly what would be recorded (an SDK response object arrives as
the dict it serializes to, base64 payloads as their placeholders). What the hook
returns is recorded instead. A hook that raises records a marker, never the value.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from tracekit import _serialize
from tracekit._redact import MARKER

__all__ = ["MASK_FAILED", "apply", "mask_fields"]

logger = logging.getLogger("tracekit")

#: what is recorded when the app's mask raises (the value itself never is)
MASK_FAILED = "[REDACTED: mask failed]"
_failed_logged: set[str] = set()


def plain(value: Any) -> Any:
    """``value`` as the JSON data tracekit would record (never raises)."""
    text, _ = _serialize.dumps(value, sys.maxsize)
    return json.loads(text)


def apply(mask: Callable[[str, Any], Any], key: str, value: Any) -> Any:
    """Run the app's ``mask`` on the JSON shape of ``value``; a failing mask fails closed."""
    data = plain(value)
    try:
        return mask(key, data)
    except Exception as exc:
        kind = type(exc).__name__
        if kind not in _failed_logged:
            _failed_logged.add(kind)
            logger.warning("tracekit: the mask raised %s; the value is recorded as %r", kind, MASK_FAILED)
        return MASK_FAILED


def mask_fields(*names: str, replacement: Any = MARKER) -> Callable[[str, Any], Any]:
    """A ``mask`` that replaces every field called one of ``names``, at any depth.

    Names match dict keys case-insensitively; glob patterns work too (``"*_ssn"``).
    The walk goes through nested dicts and lists, and into strings that hold JSON
    (an LLM's tool-call ``arguments``), so a field is masked wherever it appears in a
    span's inputs or outputs.

    >>> import tracekit
    >>> mask = tracekit.mask_fields("ssn", "email")
    >>> mask("mlflow.spanInputs", {"user": {"name": "Ann", "SSN": "123-45-6789"}})
    {'user': {'name': 'Ann', 'SSN': '[REDACTED]'}}
    >>> tracekit.configure(mask=mask)  # doctest: +SKIP
    """
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError("mask_fields() needs one or more field names")
    exact = frozenset(n.lower() for n in names if not any(c in n for c in "*?["))
    patterns = tuple(n.lower() for n in names if any(c in n for c in "*?["))

    def matches(key: str) -> bool:
        lowered = key.lower()
        return lowered in exact or any(fnmatch.fnmatchcase(lowered, p) for p in patterns)

    def may_hold(text: str) -> bool:
        if patterns:
            return True
        lowered = text.lower()
        return any(name in lowered for name in exact)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: replacement if isinstance(k, str) and matches(k) else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and value[:1] in ("{", "[") and may_hold(value):
            try:
                parsed = json.loads(value)
            except ValueError:
                return value
            masked = walk(parsed)
            return value if masked == parsed else json.dumps(masked, ensure_ascii=False)
        return value

    def mask(key: str, value: Any) -> Any:
        return walk(value)

    mask.__doc__ = f"tracekit.mask_fields{names!r}"
    return mask

"""A before/after proof for refactors: with ``TK_SPAN_DUMP=path`` set, every span that ends
during each test is written to a JSON file, keyed by test node id, without the values that
change from run to run (ids, timestamps, durations, ports, temporary paths).

Known noise: tests whose spans depend on timing or chance (where an async cancel lands,
head sampling at a rate) differ between two runs of the same code.

Compare two dumps with ``python scripts/compare_span_dumps.py BEFORE AFTER``.
Loaded by tests/conftest.py; it does nothing unless the variable is set.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

ENV = "TK_SPAN_DUMP"

# Attribute keys whose values differ between runs of the same test.
_VARYING_KEYS = re.compile(r"(^|\.)(id|ids|port|pid)$|_id$|_ms$|_ns$|time|duration")
# Values that embed run-varying pieces: ports, temp paths, hex ids, object addresses.
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_TMP = re.compile(r"/tmp/[^\s\"',)]*")
_HEX = re.compile(r"\b(0x)?[0-9a-f]{16,}\b")
_ADDR = re.compile(r" at 0x[0-9a-f]+")
# the fake server numbers its responses: concurrent calls take the numbers in any order
_FAKE_ID = re.compile(r"(fake[-_])\d+")
# LangGraph puts fresh UUIDs into its run metadata (checkpoint namespaces, task ids)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# a Mock's repr carries its id() in decimal
_MOCK_ID = re.compile(r"id='\d+'")


def scrub(value: Any) -> Any:
    """``value`` with run-varying pieces (ports, temporary paths, ids) replaced."""
    if isinstance(value, str):
        value = _PORT.sub(r"\1:PORT", value)
        value = _TMP.sub("/tmp/PATH", value)
        value = _ADDR.sub(" at 0xADDR", value)
        value = _FAKE_ID.sub(r"\1N", value)
        value = _UUID.sub("UUID", value)
        value = _MOCK_ID.sub("id='N'", value)
        return _HEX.sub("HEX", value)
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def stable(attributes: Any) -> dict[str, Any]:
    """Attributes without the keys whose values vary between runs, values scrubbed.
    A stack trace keeps its last line only: its frames name files and lines that a
    refactor moves."""
    out = {k: scrub(v) for k, v in sorted((attributes or {}).items()) if not _VARYING_KEYS.search(k)}
    if isinstance(out.get("exception.stacktrace"), str):
        out["exception.stacktrace"] = out["exception.stacktrace"].rstrip().rsplit("\n", 1)[-1]
    return out


def span_record(span: ReadableSpan, names: dict[int, str]) -> dict[str, Any]:
    """One span as plain data with run-varying values left out."""
    parent = names.get(span.parent.span_id) if span.parent is not None else None
    attributes = stable(span.attributes)
    events = [{"name": e.name, "attributes": stable(e.attributes)} for e in span.events]
    return {
        "name": span.name,
        "kind": span.kind.name,
        "parent": parent,
        "status": span.status.status_code.name,
        "status_description": scrub(span.status.description),
        "attributes": attributes,
        "events": events,
    }


def records(spans: list[ReadableSpan]) -> list[dict[str, Any]]:
    names = {s.context.span_id: s.name for s in spans if s.context is not None}
    return [span_record(s, names) for s in spans]


def write(path: str, dump: dict[str, list[dict[str, Any]]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dump, f, indent=1, sort_keys=True, default=repr)


def target() -> str | None:
    return os.environ.get(ENV) or None

"""W3C Trace Context (``traceparent``), both directions, with no OpenTelemetry import.

Outward: :func:`format_traceparent` builds the header a traced SDK call sends so that a
gateway (MLflow AI Gateway, LiteLLM Proxy) files its own spans under the client's LLM
span. Inward: :func:`extract` reads the header a caller sent, so that a server-side
span (the LiteLLM callback, ``tracekit proxy``, an app's own HTTP handler) continues the
caller's trace: ``tracekit.start_span(..., parent=request.headers)``.

Parsing follows https://www.w3.org/TR/trace-context/#traceparent-header: version 00
exactly as specified; a higher version is read by its first four fields (as the spec
asks) and anything malformed is ignored (the span then starts a new trace).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


class RemoteParent(NamedTuple):
    """The caller's span, as named by its ``traceparent`` header."""

    trace_id: int
    span_id: int
    sampled: bool
    tracestate: str | None = None


#: how many traces :func:`context_sent` remembers (the newest; ~100 bytes each)
_SENT_CAPACITY = 20_000
_sent: OrderedDict[int, None] = OrderedDict()
_sent_lock = threading.Lock()


def format_traceparent(trace_id: int, span_id: int, sampled: bool = True) -> str:
    """The ``traceparent`` value naming ``span_id`` of ``trace_id`` (version 00)."""
    return f"00-{trace_id:032x}-{span_id:016x}-{'01' if sampled else '00'}"


def note_context_sent(trace_id: int) -> None:
    """Remember ``trace_id`` as a trace whose context left the process to a writer that
    may add spans to it (:func:`context_sent`): the app took a span's ``traceparent``
    itself, or an LLM call went through a gateway. The MLflow exporter files such traces
    explicitly (their spans may reach the server first from the other side)."""
    with _sent_lock:
        _sent[trace_id] = None
        if len(_sent) > _SENT_CAPACITY:
            _sent.popitem(last=False)


def context_sent(trace_id: int) -> bool:
    """True when a ``traceparent`` naming a span of ``trace_id`` was made in this process
    (among the last ``_SENT_CAPACITY`` traces that sent one)."""
    return trace_id in _sent


def parse_traceparent(value: Any) -> RemoteParent | None:
    """A :class:`RemoteParent` from a ``traceparent`` value; None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _TRACEPARENT_RE.match(value.strip().lower())
    if match is None:
        return None
    version, trace_hex, span_hex, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None  # ff is forbidden; version 00 has exactly four fields
    trace_id, span_id = int(trace_hex, 16), int(span_hex, 16)
    if trace_id == 0 or span_id == 0:
        return None
    return RemoteParent(trace_id, span_id, bool(int(flags, 16) & 0x01))


def _header(headers: Any, name: str) -> Any:
    """``name`` from a header mapping of any shape (dict, httpx/requests/starlette headers,
    WSGI-style ``HTTP_TRACEPARENT``, a list of pairs), case-insensitively."""
    if isinstance(headers, Mapping):
        for key in (name, name.title(), name.upper(), "HTTP_" + name.upper()):
            try:
                value = headers.get(key)
            except Exception:
                value = None
            if value is not None:
                return value
        items: Any = headers.items()
    else:
        items = headers
    try:
        for key, value in items:
            if isinstance(key, bytes):
                key = key.decode("latin-1")
            if str(key).lower() == name:
                return value.decode("latin-1") if isinstance(value, bytes) else value
    except Exception:
        return None
    return None


def extract(carrier: Any) -> RemoteParent | None:
    """The remote parent named by ``carrier``: a ``traceparent`` string, or headers
    (any mapping or list of pairs) holding ``traceparent`` (and ``tracestate``).
    None when there is none or it is malformed: never raises."""
    if carrier is None:
        return None
    if isinstance(carrier, RemoteParent):
        return carrier
    if isinstance(carrier, (str, bytes)):
        value = carrier.decode("latin-1") if isinstance(carrier, bytes) else carrier
        return parse_traceparent(value)
    parent = parse_traceparent(_header(carrier, TRACEPARENT))
    if parent is None:
        return None
    state = _header(carrier, TRACESTATE)
    return parent._replace(tracestate=state) if isinstance(state, str) and state else parent

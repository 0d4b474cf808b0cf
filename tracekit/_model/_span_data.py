"""One finished span as a plain, frozen value: :class:`SpanData`, and how it is built.

The local store, the CLI and the MLflow reader all hand out these objects, so that a
span looks the same wherever it was read from. Everything here is pure: no I/O, no
OpenTelemetry state, and the OpenTelemetry SDK is imported only for type checking.

Trace ids are shown in MLflow's form ``tr-<32 lowercase hex>``; functions that take a
trace id also accept the bare 32-hex OpenTelemetry form.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = [
    "TRACE_ID_PREFIX",
    "SpanData",
    "decode_json",
    "format_trace_id",
    "jsonable",
    "make_span_data",
    "normalize_trace_id",
    "otel_trace_hex",
    "span_data_from_readable",
]

TRACE_ID_PREFIX = "tr-"
_HEX32 = re.compile(r"[0-9a-f]{32}")


# --- trace ids ---------------------------------------------------------------------
def normalize_trace_id(trace_id: str) -> str:
    """Return ``trace_id`` in the ``tr-<32 hex>`` form; accept the bare hex form too.

    >>> normalize_trace_id("0AF7651916CD43DD8448EB211C80319C")
    'tr-0af7651916cd43dd8448eb211c80319c'

    Raises ``ValueError`` when it is neither form.
    """
    return TRACE_ID_PREFIX + otel_trace_hex(trace_id)


def otel_trace_hex(trace_id: str) -> str:
    """Return the 32 lowercase hex digits of an OTel trace id given in either form.

    >>> otel_trace_hex("tr-0af7651916cd43dd8448eb211c80319c")
    '0af7651916cd43dd8448eb211c80319c'
    """
    text = trace_id.strip().lower()
    text = text.removeprefix(TRACE_ID_PREFIX)
    if not _HEX32.fullmatch(text):
        raise ValueError(f"not a trace id: {trace_id!r} (expected tr-<32 hex> or <32 hex>)")
    return text


def format_trace_id(trace_id: int) -> str:
    """Format an OpenTelemetry integer trace id as ``tr-<32 hex>``.

    >>> format_trace_id(1)
    'tr-00000000000000000000000000000001'
    """
    return f"{TRACE_ID_PREFIX}{trace_id:032x}"


# --- values ------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """Turn an OpenTelemetry attribute value into a JSON-able one.

    OTel hands sequences back as tuples and (since 1.3x) allows bytes and mappings;
    tuples become lists so that a span read back from the store equals the span
    converted straight from the SDK.
    """
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def decode_json(value: Any) -> Any:
    """Decode a JSON-string attribute; a value that is not valid JSON is returned as is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _plain_string(value: Any) -> str | None:
    """A string attribute that MLflow's own SDK may have JSON-quoted (``"\\"CHAIN\\""``)."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith('"'):
        decoded = decode_json(value)
        if isinstance(decoded, str):
            return decoded
    return value if isinstance(value, str) else str(value)


def _usage_from_attributes(attributes: Mapping[str, Any]) -> dict[str, int] | None:
    """Token usage of one span: ``mlflow.chat.tokenUsage``, else the ``gen_ai.usage.*`` keys."""
    raw = attributes.get(attr.TOKEN_USAGE)
    if raw is not None:
        decoded = decode_json(raw)
        if isinstance(decoded, Mapping):
            usage = {k: int(v) for k, v in decoded.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            return usage or None
    # The server fills usage from the GenAI keys when the mlflow key is absent; so do we.
    usage = {}
    for key, gen_ai_key in (
        (attr.USAGE_INPUT, attr.GEN_AI_USAGE_INPUT),
        (attr.USAGE_OUTPUT, attr.GEN_AI_USAGE_OUTPUT),
        (attr.USAGE_CACHE_READ, attr.GEN_AI_USAGE_CACHE_READ),
        (attr.USAGE_CACHE_CREATION, attr.GEN_AI_USAGE_CACHE_CREATION),
        (attr.USAGE_REASONING, attr.GEN_AI_USAGE_REASONING),
    ):
        value = attributes.get(gen_ai_key)
        if isinstance(value, int) and not isinstance(value, bool):
            usage[key] = value
    if not usage:
        return None
    if attr.USAGE_INPUT in usage or attr.USAGE_OUTPUT in usage:
        usage[attr.USAGE_TOTAL] = usage.get(attr.USAGE_INPUT, 0) + usage.get(attr.USAGE_OUTPUT, 0)
    return usage


# --- spans -------------------------------------------------------------------------
@dataclass(frozen=True)
class SpanData:
    """One finished span, read back from any source.

    ``attributes`` holds the raw values (JSON strings stay strings); ``inputs`` and
    ``outputs`` are the decoded ``mlflow.spanInputs`` / ``mlflow.spanOutputs``.

    >>> s = SpanData(trace_id="tr-" + "1" * 32, span_id="a" * 16, parent_id=None,
    ...              name="answer", span_type="CHAIN", start_time_ns=0,
    ...              end_time_ns=2_500_000, status="OK")
    >>> s.duration_ms
    2.5
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    start_time_ns: int
    end_time_ns: int | None
    status: str  # "OK" | "ERROR" | "UNSET"
    status_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    inputs: Any = None
    outputs: Any = None
    events: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float | None:
        """Wall time of the span in milliseconds, or ``None`` if it has not ended."""
        if self.end_time_ns is None:
            return None
        return (self.end_time_ns - self.start_time_ns) / 1e6

    @property
    def model(self) -> str | None:
        """The model that served the call (served model first, then requested)."""
        for key in (attr.LLM_MODEL, attr.GEN_AI_RESPONSE_MODEL, attr.GEN_AI_REQUEST_MODEL):
            value = self.attributes.get(key)
            if value:
                return _plain_string(value)
        return None

    @property
    def token_usage(self) -> dict[str, int] | None:
        """This span's own token usage (``input_tokens``, ``output_tokens``, ...), if any."""
        return _usage_from_attributes(self.attributes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the span, with ``inputs``/``outputs`` decoded."""
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "span_type": self.span_type,
            "start_time_ns": self.start_time_ns,
            "end_time_ns": self.end_time_ns,
            "duration_ms": self.duration_ms,
            "status": self.status,
            "status_message": self.status_message,
            "model": self.model,
            "token_usage": self.token_usage,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "attributes": self.attributes,
            "events": self.events,
            "resource": self.resource,
        }


def make_span_data(
    *,
    trace_id: str,
    span_id: str,
    parent_id: str | None,
    name: str,
    start_time_ns: int,
    end_time_ns: int | None,
    status: str,
    status_message: str | None,
    attributes: dict[str, Any],
    events: list[dict[str, Any]],
    resource: dict[str, Any] | None = None,
) -> SpanData:
    """Build a :class:`SpanData`, deriving type, inputs and outputs from the attributes."""
    span_type = _plain_string(attributes.get(attr.SPAN_TYPE)) or "UNKNOWN"
    return SpanData(
        trace_id=normalize_trace_id(trace_id),
        span_id=span_id,
        parent_id=parent_id,
        name=name,
        span_type=span_type,
        start_time_ns=start_time_ns,
        end_time_ns=end_time_ns,
        status=status,
        status_message=status_message or None,
        attributes=attributes,
        inputs=decode_json(attributes.get(attr.SPAN_INPUTS)),
        outputs=decode_json(attributes.get(attr.SPAN_OUTPUTS)),
        events=events,
        resource=resource or {},
    )


def span_data_from_readable(span: ReadableSpan) -> SpanData:
    """Convert a finished OpenTelemetry SDK span into a :class:`SpanData`.

    Pure: reads the span, never keeps a reference to it.

    >>> from opentelemetry.sdk.trace import ReadableSpan
    >>> from opentelemetry.trace import SpanContext
    >>> ctx = SpanContext(trace_id=1, span_id=2, is_remote=False)
    >>> span_data_from_readable(ReadableSpan("x", ctx, start_time=0, end_time=1)).span_id
    '0000000000000002'
    """
    ctx = span.context
    if ctx is None:  # the SDK always sets it on recorded spans; guard the Optional type
        raise ValueError(f"span {span.name!r} has no context")
    parent = span.parent
    events = [
        {
            "name": event.name,
            "timestamp_ns": event.timestamp,
            "attributes": {k: jsonable(v) for k, v in (event.attributes or {}).items()},
        }
        for event in span.events
    ]
    return make_span_data(
        trace_id=format_trace_id(ctx.trace_id),
        span_id=f"{ctx.span_id:016x}",
        parent_id=f"{parent.span_id:016x}" if parent is not None else None,
        name=span.name,
        start_time_ns=span.start_time or 0,
        end_time_ns=span.end_time,
        status=span.status.status_code.name,
        status_message=span.status.description,
        attributes={k: jsonable(v) for k, v in (span.attributes or {}).items()},
        events=events,
        resource={k: jsonable(v) for k, v in span.resource.attributes.items()},
    )

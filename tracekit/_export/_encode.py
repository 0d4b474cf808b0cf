"""Pure conversions between spans and OTLP request bodies.

Nothing here does I/O or keeps state: each function maps its arguments to a new
value, so each has its own unit tests (``tests/export/test_encode.py``).
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from tracekit._model import SpanData

__all__ = [
    "encode_otlp",
    "gunzip",
    "gzip_body",
    "mlflow_ready",
    "readable_from_data",
]


def encode_otlp(spans: Sequence[ReadableSpan]) -> bytes:
    """Serialize ``spans`` as one OTLP ``ExportTraceServiceRequest`` (protobuf bytes).

    Uses the OpenTelemetry OTLP encoder, never a hand-written one.
    """
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    data: bytes = encode_spans(spans).SerializeToString()
    return data


def gzip_body(body: bytes) -> bytes:
    """Gzip an HTTP body (level 6: most of the gain for a fraction of level 9's time)."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def gunzip(body: bytes) -> bytes:
    """Undo :func:`gzip_body`."""
    return gzip.decompress(body)


def _promoted_attributes(attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The attributes with trace metadata copied to trace tags, or None when nothing changes.

    The MLflow server (3.17) turns ``mlflow.traceTag.<key>`` on the root span into a
    trace tag but ignores ``mlflow.traceMetadata.<key>``: over OTLP only ``user.id``
    and ``session.id`` reach the trace's metadata, and arbitrary metadata can only be
    written by ``StartTraceV3``, which also overwrites the trace's timing and state.
    So metadata travels as tags (a tag already set under the same key wins).
    """
    prefix = attr.TRACE_METADATA_PREFIX
    extra = {
        attr.TRACE_TAG_PREFIX + key[len(prefix) :]: value
        for key, value in attributes.items()
        if key.startswith(prefix) and attr.TRACE_TAG_PREFIX + key[len(prefix) :] not in attributes
    }
    if not extra:
        return None
    merged = dict(attributes)
    merged.update(extra)
    return merged


def mlflow_ready(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """The spans as the MLflow server should receive them (see :func:`_promoted_attributes`);
    a root without an explicit trace name is named after itself.

    Spans that need no change are passed through as the same objects.
    """
    out: list[ReadableSpan] = []
    for span in spans:
        attributes = span.attributes or {}
        merged = _promoted_attributes(attributes)
        if span.parent is None and attr.TRACE_NAME not in attributes:
            # The trace list's name column (mlflow 3.17 reads it from this tag on the root;
            # MLflow's own client sets it from the root span's name).
            merged = dict(attributes) if merged is None else merged
            merged[attr.TRACE_NAME] = span.name
        out.append(span if merged is None else _with_attributes(span, merged))
    return out


def _with_attributes(span: ReadableSpan, attributes: Mapping[str, Any]) -> ReadableSpan:
    from opentelemetry.sdk.trace import ReadableSpan

    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _otel_value(value: Any) -> Any:
    """A JSON-read attribute value back as an OpenTelemetry attribute value."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if (
        isinstance(value, list)
        and all(isinstance(v, (str, bool, int, float)) for v in value)
        and len({type(v) for v in value}) <= 1
    ):
        return list(value)
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


def readable_from_data(span: SpanData, scope_name: str = "tracekit") -> ReadableSpan:
    """Rebuild an SDK ``ReadableSpan`` from a stored :class:`~tracekit._model.SpanData`.

    The inverse of ``span_data_from_readable`` for what OTLP carries: ids, parent,
    name, times, status, attributes, events and resource (``tracekit export`` uses it
    to ship the local store's traces).
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

    from tracekit._model import otel_trace_hex

    trace_id = int(otel_trace_hex(span.trace_id), 16)
    flags = TraceFlags(TraceFlags.SAMPLED)
    context = SpanContext(trace_id, int(span.span_id, 16), is_remote=False, trace_flags=flags)
    parent = SpanContext(trace_id, int(span.parent_id, 16), is_remote=False, trace_flags=flags) if span.parent_id else None
    code = StatusCode[span.status] if span.status in StatusCode.__members__ else StatusCode.UNSET
    events = [
        Event(
            name=str(event.get("name", "")),
            attributes={k: _otel_value(v) for k, v in (event.get("attributes") or {}).items()},
            timestamp=event.get("timestamp_ns"),
        )
        for event in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=Resource({k: _otel_value(v) for k, v in span.resource.items()}),
        attributes={k: _otel_value(v) for k, v in span.attributes.items()},
        events=events,
        status=Status(code, span.status_message if code is StatusCode.ERROR else None),
        start_time=span.start_time_ns,
        end_time=span.end_time_ns,
        instrumentation_scope=InstrumentationScope(scope_name),
    )

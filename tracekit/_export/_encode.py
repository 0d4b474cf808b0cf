"""Pure conversions between spans and OTLP request bodies.

Nothing here does I/O or keeps state: each function maps its arguments to a new
value, so each has its own unit tests (``tests/export/test_encode.py``).
"""

from __future__ import annotations

import gzip
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
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

    Uses the OpenTelemetry OTLP encoder, never a hand-written one. One span the
    encoder refuses (a lone surrogate protobuf cannot encode as UTF-8, an int beyond
    int64, a value type it does not know -- values that bypassed tracekit's gate) never
    costs the batch: that span is sent with its values cleaned in place
    (:func:`encodable`).
    """
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    data = _encode_cleanly(spans)
    if data is not None:
        return data
    fixed = [span for span in (encodable(s) for s in spans) if span is not None]
    encoded: bytes = encode_spans(fixed).SerializeToString()
    return encoded


#: opentelemetry-exporter-otlp-proto-common (1.45) logs "Failed to encode key ..." at
#: ERROR there and drops the attribute, instead of raising
_ENCODER_LOGGER = "opentelemetry.exporter.otlp.proto.common._internal"


def _encode_cleanly(spans: Sequence[ReadableSpan]) -> bytes | None:
    """The OTLP body of ``spans``, or None if the encoder raised or dropped a value."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    me = threading.get_ident()
    dropped: list[logging.LogRecord] = []

    def catch(record: logging.LogRecord) -> bool:
        if record.thread == me:  # this encoding's complaint: handled here, not logged
            dropped.append(record)
            return False
        return True

    logger = logging.getLogger(_ENCODER_LOGGER)
    logger.addFilter(catch)
    try:
        data: bytes = encode_spans(spans).SerializeToString()
    except Exception:
        return None
    finally:
        logger.removeFilter(catch)
    return None if dropped else data


def encodable(span: ReadableSpan) -> ReadableSpan | None:
    """``span`` itself if the OTLP encoder takes it, else a copy with clean names and
    values (``tracekit._clean``'s gate), else one holding only its identity and a
    ``tracekit.unstorable`` marker; None (logged) if even that fails."""
    candidates: tuple[Callable[[], ReadableSpan], ...] = (
        lambda: span,
        lambda: _cleaned(span, keep_values=True),
        lambda: _cleaned(span, keep_values=False),
    )
    for make in candidates:
        try:
            candidate = make()
        except Exception:
            continue
        if _encode_cleanly([candidate]) is not None:
            return candidate
    logging.getLogger("tracekit").warning("tracekit: span %r could not be encoded for OTLP; left out", span.name)
    return None


def _cleaned(span: ReadableSpan, *, keep_values: bool) -> ReadableSpan:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status

    from tracekit import _clean, _values

    def values(attributes: Any) -> dict[str, Any]:
        return _values.clean_attributes(attributes or {}, 1_000_000)

    if keep_values:
        attributes = values(span.attributes)
        events = [Event(_clean.clean_name(e.name), values(e.attributes), e.timestamp) for e in span.events]
    else:
        attributes = {attr.UNSTORABLE: "<span attributes could not be encoded>"}
        events = []
    status = span.status
    if status.description is not None:
        status = Status(status.status_code, _clean.safe_str(status.description))
    return ReadableSpan(
        name=_clean.clean_name(span.name),
        context=span.context,
        parent=span.parent,
        resource=Resource(values(span.resource.attributes), span.resource.schema_url) if span.resource else None,
        attributes=attributes,
        events=events,
        links=span.links if keep_values else (),
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


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
    tag_prefix = attr.TRACE_TAG_PREFIX
    odd = [k for k in (*attributes, *extra) if k.startswith(tag_prefix) and not _TAG_KEY.fullmatch(k, len(tag_prefix))]
    if not extra and not odd:
        return None
    merged = dict(attributes)
    merged.update(extra)
    for key in odd:
        # The server (3.17) silently drops a tag whose key has a character outside
        # MLflow's key alphabet (a NUL, U+FFFD, an emoji): such characters become "_".
        fixed = tag_prefix + _TAG_KEY_BAD.sub("_", key[len(tag_prefix) :])
        value = merged.pop(key)
        merged.setdefault(fixed, value)
    return merged


#: MLflow's alphabet for tag keys (``mlflow.utils.validation``): word characters, ``/.- :``
_TAG_KEY = re.compile(r"[/\w.\- :]*")
_TAG_KEY_BAD = re.compile(r"[^/\w.\- :]")


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

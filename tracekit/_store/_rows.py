"""The store's rows: spans encoded for the ``spans`` table, traces summarized for the
``traces`` table, and rows read back into the model.

An SDK span is first read into a :data:`PlainSpan` (builtins only: a few µs), then
encoded (the JSON of its attributes, events and resource, its summary): the same two
steps whether the store is written in this process or by the store writer process
(``_writer``), which receives the plain spans and does the encoding itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit import _errors
from tracekit._model import (
    CONTINUES_REMOTE,
    PREVIEW_CHARS,
    TRACE_ID_PREFIX,
    SpanData,
    TraceInfo,
    _usage_from_attributes,
    decode_json,
    is_summary_key,
    jsonable,
    make_span_data,
    summarize_spans,
    trace_facts,
)
from tracekit._store._storable import encode_json, has_surrogate, storable, text

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan


_SPAN_COLUMNS = "trace_id, span_id, parent_id, name, start_ns, end_ns, status, status_message, attributes, events, resource"
_TRACE_COLUMNS = (
    "trace_id, name, start_ns, end_ns, status, tags, metadata, session_id, user_id,"
    " token_usage, span_count, request_preview, response_preview"
)


_SUMMARY_PREFIXES = (attr.TRACE_TAG_PREFIX, attr.TRACE_METADATA_PREFIX, "gen_ai.usage.")  # is_summary_key, inlined
_SUMMARY_KEYS = frozenset({attr.SESSION_ID, attr.USER_ID, attr.TOKEN_USAGE, attr.SPAN_TYPE, attr.REMOTE_PARENT})
_IN_CHUNK = 500  # trace ids per "IN (...)" query, well under SQLite's parameter limit
_INSERT_TRACE = (
    "INSERT OR REPLACE INTO traces (trace_id, name, start_ns, end_ns, status, tags, metadata,"
    " session_id, user_id, input_tokens, output_tokens, total_tokens, token_usage, span_count,"
    " request_preview, response_preview, updated_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Built once: json.dumps with keyword arguments builds a new encoder on every call.
_encode_strict = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
# Anything else (odd events, values that bypassed tracekit's gate) goes through
# encode_json: unknown types as text, NaN and lone surrogates replaced in place.
_encode_lenient = encode_json
_dumps = encode_json


def _encode_attributes(attributes: Any) -> tuple[str, dict[str, Any]]:
    """The attributes as JSON, once, and the plain dict that was encoded.

    OTel values are str/bool/int/float or tuples of them (JSON arrays already); bytes
    and mappings, which newer SDKs allow, NaN and lone surrogates take the slower path through ``storable``.
    """
    plain = dict(attributes) if attributes else {}
    try:
        encoded = _encode_strict(plain)
        if not has_surrogate(encoded):
            return encoded, plain
    except (TypeError, ValueError, RecursionError):
        pass
    # NaN, a lone surrogate, bytes, mappings: the whole map made storable, in place
    plain = storable(plain)
    return _encode_strict(plain), plain


class _Light:
    """What the trace summary reads of one span: its ``summary`` attributes and, for a
    root, the raw texts of its inputs and outputs (for the previews)."""

    __slots__ = ("end", "inputs", "message", "name", "outputs", "parent_id", "span_id", "start", "status", "summary", "trace_id")

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        parent_id: str | None,
        name: str,
        start: int,
        end: int | None,
        status: str,
        message: str | None,
        summary: dict[str, Any],
        texts: Mapping[str, Any],
    ) -> None:
        """``texts``: the span's full attributes; only a root keeps its input/output texts."""
        self.trace_id, self.span_id, self.parent_id, self.name = trace_id, span_id, parent_id, name
        self.start, self.end, self.status, self.message = start, end, status, message
        # a root, or this process's top span of a trace continued from a caller
        root = parent_id is None or summary.get(attr.REMOTE_PARENT) is True
        self.summary = summary
        self.inputs = texts.get(attr.SPAN_INPUTS) if root else None
        self.outputs = texts.get(attr.SPAN_OUTPUTS) if root else None

    def span_data(self) -> SpanData:
        return SpanData(
            trace_id=self.trace_id,
            span_id=self.span_id,
            parent_id=self.parent_id,
            name=self.name,
            span_type="",
            start_time_ns=self.start,
            end_time_ns=self.end,
            status=self.status,
            status_message=self.message,
            attributes=self.summary,
        )


def _encode_batch(
    spans: Sequence[ReadableSpan | SpanData | PlainSpan],
) -> tuple[list[tuple[Any, ...]], dict[str, dict[str, _Light]]]:
    """Rows for the ``spans`` table, and per trace its spans' summary view."""
    rows: list[tuple[Any, ...]] = []
    traces: dict[str, dict[str, _Light]] = {}
    resources: dict[int, tuple[Any, dict[str, Any]]] = {}  # id(resource) -> (resource, attributes)
    resource_json: dict[int, str] = {}  # id(resource attributes dict) -> JSON, for this batch
    for span in spans:
        try:
            if isinstance(span, tuple):
                row, light = _plain_row(span, resource_json)
            elif isinstance(span, SpanData):
                row, light = _span_row(span), _light_of(span)
            else:
                row, light = _plain_row(plain_of(span, resources), resource_json)
        except Exception:
            # one span that cannot be encoded never costs the batch: it is stored
            # with what could be read of it, its attributes replaced by a marker
            _errors.report("store.encode_span")
            row, light = _fallback_row(span)
        rows.append(row)
        traces.setdefault(light.trace_id, {})[light.span_id] = light  # a repeated span: the last wins
    return rows, traces


#: attribute key sets seen -> their summary keys (spans of one kind share their keys)
_summary_keys_cache: dict[tuple[str, ...], tuple[str, ...]] = {}


def _summary_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    found = _summary_keys_cache.get(keys)
    if found is None:
        found = tuple(k for k in keys if k.startswith(_SUMMARY_PREFIXES) or k in _SUMMARY_KEYS)
        if len(_summary_keys_cache) >= 512:
            _summary_keys_cache.clear()
        _summary_keys_cache[keys] = found
    return found


#: a span as plain builtins (picklable in C, cheap to build): trace id, span id, parent
#: id, name, start, end, status name, status message, attributes (a plain dict),
#: events (``(name, timestamp, attributes)`` tuples) and the resource's attributes
#: (one dict shared by the batch's spans of one resource)
PlainSpan = tuple[Any, ...]


def plain_of(span: ReadableSpan, resources: dict[int, tuple[Any, dict[str, Any]]]) -> PlainSpan:
    """What the store reads of an SDK span, as builtins: a few µs, no encoding.

    ``resources`` (per batch) keeps one attributes dict per resource object, so that
    the batch's spans share it (pickle sends it once, the row encoder encodes it once).
    """
    ctx = span.context
    if ctx is None:  # the SDK always sets it on recorded spans; guard the Optional type
        raise ValueError(f"span {span.name!r} has no context")
    resource = span.resource
    cached = resources.get(id(resource))
    if cached is None or cached[0] is not resource:
        cached = (resource, {k: jsonable(v) for k, v in resource.attributes.items()})
        resources[id(resource)] = cached
    parent = span.parent
    attributes = span.attributes
    events = span.events
    return (
        f"{TRACE_ID_PREFIX}{ctx.trace_id:032x}",
        f"{ctx.span_id:016x}",
        f"{parent.span_id:016x}" if parent is not None else None,
        span.name,
        span.start_time or 0,
        span.end_time,
        span.status.status_code.name,
        span.status.description or None,
        dict(attributes) if attributes else {},
        [(e.name, e.timestamp, dict(e.attributes) if e.attributes else {}) for e in events] if events else None,
        cached[1],
    )


def _plain_row(plain: PlainSpan, resource_json: dict[int, str]) -> tuple[tuple[Any, ...], _Light]:
    """The ``spans`` row of a :data:`PlainSpan`, and its summary view (``resource_json``:
    the batch's encoded resources, by the id of their dict)."""
    trace_id, span_id, parent_id, name, start, end, status, message, attributes, events, resource = plain
    attributes_json, plain_attributes = _encode_attributes(attributes)
    summary = {k: jsonable(plain_attributes[k]) for k in _summary_keys(tuple(plain_attributes))}
    if events:
        events_json = _dumps(
            [
                {"name": e_name, "timestamp_ns": e_time, "attributes": {k: jsonable(v) for k, v in e_attributes.items()}}
                for e_name, e_time, e_attributes in events
            ]
        )
    else:
        events_json = "[]"
    encoded_resource = resource_json.get(id(resource))
    if encoded_resource is None:
        encoded_resource = resource_json[id(resource)] = _dumps(resource)
    if message is not None:
        message = text(message)
    name = text(name)
    row = (
        trace_id,
        span_id,
        parent_id,
        name,
        start,
        end,
        status,
        message,
        attributes_json,
        events_json,
        encoded_resource,
        _encode_lenient(summary) if summary else "{}",
    )
    return row, _Light(trace_id, span_id, parent_id, name, start, end, status, message, summary, plain_attributes)


def _light_of(span: SpanData, attributes: dict[str, Any] | None = None) -> _Light:
    """The summary view of a span (``attributes``: its full attributes, if not its own)."""
    attributes = span.attributes if attributes is None else attributes
    return _Light(
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.name,
        span.start_time_ns,
        span.end_time_ns,
        span.status,
        span.status_message,
        {k: v for k, v in attributes.items() if is_summary_key(k)},
        attributes,
    )


_TRACE_NAME_TAG = attr.TRACE_NAME[len(attr.TRACE_TAG_PREFIX) :]


def _trace_row_of(spans: Sequence[_Light], now_ns: int) -> tuple[Any, ...]:
    """The ``traces`` row summarizing ``spans`` (all the stored spans of one trace).

    The rules are ``summarize_spans``'s (a lone span is summarized directly, as it
    would be there); the previews are cut from the root's raw input/output texts,
    never decoded and re-encoded (a JSON string attribute previews as its text).
    """
    root = next((s for s in spans if s.parent_id is None), None)
    if root is None:  # a fragment continuing a caller's trace ends with its local top span
        root = next((s for s in spans if s.summary.get(attr.REMOTE_PARENT) is True), None)
    previews = (_raw_preview(root.inputs), _raw_preview(root.outputs)) if root is not None else (None, None)
    if len(spans) == 1:
        [one] = spans
        tags, metadata, session_id, user_id = trace_facts([one.summary])
        if root is not None and root.parent_id is not None:
            metadata = {**metadata, CONTINUES_REMOTE: root.parent_id}
        usage = _usage_from_attributes(one.summary)
        status = ("ERROR" if one.status == "ERROR" else "OK") if root is not None else "IN_PROGRESS"
        return _row(
            one.trace_id,
            tags.get(_TRACE_NAME_TAG) or one.name,
            one.start,
            one.end,
            status,
            tags,
            metadata,
            session_id,
            user_id,
            usage,
            1,
            *previews,
            now_ns,
        )
    info = summarize_spans([s.span_data() for s in spans])
    return _row(
        info.trace_id,
        info.name,
        info.start_time_ns,
        info.end_time_ns,
        info.status,
        info.tags,
        info.metadata,
        info.session_id,
        info.user_id,
        info.token_usage,
        info.span_count,
        *previews,
        now_ns,
    )


def _row(
    trace_id: str,
    name: str,
    start: int,
    end: int | None,
    status: str,
    tags: dict[str, str],
    metadata: dict[str, str],
    session_id: str | None,
    user_id: str | None,
    usage: dict[str, int] | None,
    span_count: int,
    request_preview: str | None,
    response_preview: str | None,
    now_ns: int,
) -> tuple[Any, ...]:
    counts = usage or {}
    return (
        trace_id,
        name,
        start,
        end,
        status,
        _dumps(tags) if tags else "{}",
        _dumps(metadata) if metadata else "{}",
        session_id,
        user_id,
        counts.get(attr.USAGE_INPUT),
        counts.get(attr.USAGE_OUTPUT),
        counts.get(attr.USAGE_TOTAL),
        _dumps(usage) if usage else None,
        span_count,
        request_preview,
        response_preview,
        now_ns,
    )


def _raw_preview(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw
        if raw.startswith('"'):
            decoded = decode_json(raw)
            if isinstance(decoded, str):
                text = decoded
    else:
        text = _encode_lenient(raw)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def _fallback_row(span: Any) -> tuple[tuple[Any, ...], _Light]:
    """The row of a span whose encoding failed: its ids, name, times and status, with
    ``tracekit.unstorable`` in place of its attributes (the batch's other spans are
    stored as they are)."""
    if isinstance(span, tuple):
        trace_id, span_id, parent_id, name, start, end, status = span[:7]
    elif isinstance(span, SpanData):
        trace_id, span_id, parent_id = span.trace_id, span.span_id, span.parent_id
        name, start, end, status = span.name, span.start_time_ns, span.end_time_ns, span.status
    else:
        ctx = span.context
        trace_id, span_id = f"{TRACE_ID_PREFIX}{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
        parent_id = f"{span.parent.span_id:016x}" if span.parent is not None else None
        name, start, end = span.name, span.start_time or 0, span.end_time
        status = span.status.status_code.name
    attributes = {attr.UNSTORABLE: "<span attributes could not be encoded>"}
    row = (trace_id, span_id, parent_id, text(name), start, end, str(status), None, _dumps(attributes), "[]", "{}", "{}")
    light = _Light(trace_id, span_id, parent_id, text(name), start, end, str(status), None, {}, {})
    return row, light


def _span_row(span: SpanData) -> tuple[Any, ...]:
    summary = {k: v for k, v in span.attributes.items() if is_summary_key(k)}
    return (
        span.trace_id,
        span.span_id,
        span.parent_id,
        text(span.name),
        span.start_time_ns,
        span.end_time_ns,
        span.status,
        span.status_message,
        _dumps(span.attributes),
        _dumps(span.events),
        _dumps(span.resource),
        _dumps(summary),
    )


def _span_data(row: Sequence[Any]) -> SpanData:
    return make_span_data(
        trace_id=row[0],
        span_id=row[1],
        parent_id=row[2],
        name=row[3],
        start_time_ns=row[4],
        end_time_ns=row[5],
        status=row[6],
        status_message=row[7],
        attributes=json.loads(row[8]),
        events=json.loads(row[9]),
        resource=json.loads(row[10]),
    )


def _refresh_trace(conn: sqlite3.Connection, trace_id: str, now_ns: int) -> None:
    """Recompute one trace's summary row from its stored spans.

    Only the root span's full attributes are read (for the request/response
    previews); the other spans contribute their small ``summary`` column.
    """
    rows = conn.execute(
        "SELECT trace_id, span_id, parent_id, name, start_ns, end_ns, status, status_message,"
        " CASE WHEN parent_id IS NULL OR instr(summary, ?) > 0 THEN attributes ELSE summary END"
        " FROM spans WHERE trace_id = ?",
        (f'"{attr.REMOTE_PARENT}"', trace_id),
    ).fetchall()
    spans = []
    for r in rows:
        attributes = json.loads(r[8])  # the root's full attributes, else the summary column
        root = r[2] is None or attributes.get(attr.REMOTE_PARENT) is True
        spans.append(
            _Light(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                {k: v for k, v in attributes.items() if is_summary_key(k)} if root else attributes,
                attributes,
            )
        )
    conn.execute(_INSERT_TRACE, _trace_row_of(spans, now_ns))


def _trace_info(row: Sequence[Any]) -> TraceInfo:
    return TraceInfo(
        trace_id=row[0],
        name=row[1],
        start_time_ns=row[2],
        end_time_ns=row[3],
        status=row[4],
        tags=json.loads(row[5]),
        metadata=json.loads(row[6]),
        session_id=row[7],
        user_id=row[8],
        token_usage=json.loads(row[9]) if row[9] else None,
        span_count=row[10],
        request_preview=row[11],
        response_preview=row[12],
    )

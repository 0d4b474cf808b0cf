"""Read a trace back from an MLflow server over REST, as a :class:`tracekit._model.Trace`.

``GET /api/3.0/mlflow/traces/get?trace_id=tr-...&allow_partial=true`` returns the
trace info and its spans in OTLP-like JSON: ids in base64, attribute values typed
(``string_value``, ``int_value``, ``kvlist_value``, ...), and JSON-string attributes
such as ``mlflow.spanInputs`` already decoded by the server. The conversion
functions here are pure (``span_from_json``, ``trace_from_json``).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tracekit._model import SpanData, Trace, make_span_data, normalize_trace_id, summarize_spans
from tracekit._redact import redact_text

if TYPE_CHECKING:
    from tracekit._config import Settings

__all__ = ["read_trace", "span_from_json", "trace_from_json"]


def _id_hex(value: str | None, width: int) -> str | None:
    if not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return value.lower() if len(value) == width else None
    return raw.hex().rjust(width, "0")


def any_value(value: Mapping[str, Any] | None) -> Any:
    """An OTLP ``AnyValue`` in proto-JSON form (snake or camel case) as a Python value."""
    if not value:
        return None
    for key, item in value.items():
        name = key.replace("Value", "_value") if key.endswith("Value") else key
        if name == "string_value":
            return item
        if name == "bool_value":
            return bool(item)
        if name == "int_value":
            return int(item)
        if name == "double_value":
            return float(item)
        if name == "bytes_value":
            return item
        if name == "array_value":
            return [any_value(v) for v in (item or {}).get("values", [])]
        if name == "kvlist_value":
            return {kv.get("key", ""): any_value(kv.get("value")) for kv in (item or {}).get("values", [])}
    return None


def _attribute(value: Any) -> Any:
    """Shape a read-back value like the local store keeps it: structures as JSON text,
    lists of primitives as lists."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and not all(isinstance(v, (str, int, float, bool)) for v in value):
        return json.dumps(value, ensure_ascii=False)
    return value


def _status(status: Mapping[str, Any] | None) -> tuple[str, str | None]:
    code = (status or {}).get("code")
    text = str(code or "").upper()
    if code in (1,) or text.endswith("OK"):
        name = "OK"
    elif code in (2,) or text.endswith("ERROR"):
        name = "ERROR"
    else:
        name = "UNSET"
    return name, (status or {}).get("message") or None


def span_from_json(span: Mapping[str, Any]) -> SpanData:
    """One span of a ``traces/get`` answer as :class:`SpanData`."""
    attributes = {a["key"]: _attribute(any_value(a.get("value"))) for a in span.get("attributes", [])}
    status, message = _status(span.get("status"))
    end = span.get("end_time_unix_nano")
    events = [
        {
            "name": e.get("name", ""),
            "timestamp_ns": int(e.get("time_unix_nano", 0)),
            "attributes": {a["key"]: any_value(a.get("value")) for a in e.get("attributes", [])},
        }
        for e in span.get("events", [])
    ]
    return make_span_data(
        trace_id=_id_hex(span.get("trace_id"), 32) or "",
        span_id=_id_hex(span.get("span_id"), 16) or "",
        parent_id=_id_hex(span.get("parent_span_id"), 16),
        name=str(span.get("name", "")),
        start_time_ns=int(span.get("start_time_unix_nano", 0)),
        end_time_ns=int(end) if end is not None else None,
        status=status,
        status_message=message,
        attributes=attributes,
        events=events,
    )


def _iso_ns(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        return None


def trace_from_json(payload: Mapping[str, Any]) -> Trace:
    """A ``traces/get`` answer (``{"trace": {"trace_info": ..., "spans": [...]}}``) as a Trace.

    Spans are summarized as the local store would; the server's own view (state,
    tags, metadata, session, user, token usage, previews) then wins where it has one.
    """
    body = payload.get("trace", payload)
    info_json: Mapping[str, Any] = body.get("trace_info", {})
    spans = sorted((span_from_json(s) for s in body.get("spans", [])), key=lambda s: (s.start_time_ns, s.span_id))
    trace_id = normalize_trace_id(info_json.get("trace_id") or (spans[0].trace_id if spans else ""))
    metadata = {str(k): str(v) for k, v in (info_json.get("trace_metadata") or {}).items()}
    tags = {str(k): str(v) for k, v in (info_json.get("tags") or {}).items()}
    usage = None
    if "mlflow.trace.tokenUsage" in metadata:
        try:
            decoded = json.loads(metadata["mlflow.trace.tokenUsage"])
            usage = {k: int(v) for k, v in decoded.items() if isinstance(v, (int, float))}
        except (ValueError, AttributeError):
            usage = None
    if spans:
        info = summarize_spans(spans)
    else:
        from tracekit._model import TraceInfo

        info = TraceInfo(
            trace_id=trace_id,
            name="",
            start_time_ns=_iso_ns(info_json.get("request_time")) or 0,
            end_time_ns=None,
            status="IN_PROGRESS",
        )
    state = str(info_json.get("state") or info.status)
    info = dataclasses.replace(
        info,
        trace_id=trace_id,
        name=tags.get("mlflow.traceName") or info.name,
        status="IN_PROGRESS" if state in ("IN_PROGRESS", "STATE_UNSPECIFIED") else state,
        tags=tags,
        metadata=metadata,
        session_id=metadata.get("mlflow.trace.session") or info.session_id,
        user_id=metadata.get("mlflow.trace.user") or info.user_id,
        token_usage=usage or info.token_usage,
        request_preview=info_json.get("request_preview") or info.request_preview,
        response_preview=info_json.get("response_preview") or info.response_preview,
    )
    return Trace(info=info, spans=spans)


def read_trace(settings: Settings, trace_id: str) -> Trace | None:
    """The trace ``trace_id`` from the MLflow server in ``settings``; None when it has none.

    Raises ``RuntimeError`` with the reason when the server cannot be asked.
    """
    from tracekit._export._http import TransportError, mlflow_client

    client = mlflow_client(settings.export_timeout)
    try:
        result = client.request(
            "GET",
            f"{settings.tracking_uri}/api/3.0/mlflow/traces/get",
            params={"trace_id": normalize_trace_id(trace_id), "allow_partial": "true"},
        )
    except TransportError as exc:
        raise RuntimeError(redact_text(f"cannot read trace {trace_id} from {settings.tracking_uri}: {exc}")) from None
    finally:
        client.close()
    if result.status == 404:
        return None
    if result.status != 200:
        raise RuntimeError(redact_text(f"cannot read trace {trace_id} from {settings.tracking_uri}: {result.reason()}"))
    return trace_from_json(result.json())

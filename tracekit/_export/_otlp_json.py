"""OTLP/JSON: a trace as the JSON body an OTLP/HTTP endpoint accepts, for sharing.

The OTLP specification's JSON mapping differs from protobuf's own JSON in one way that
matters: trace and span ids are lowercase hex strings, not base64 (MLFLOW_SERVER.md
notes the server misreads them otherwise). Field names are lowerCamelCase and 64-bit
integers are decimal strings, as protobuf's JSON mapping writes them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["from_otlp_json", "to_otlp_json"]

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _ids(spans: list[dict[str, Any]], convert: Any) -> None:
    for span in spans:
        for key in _ID_KEYS:
            if span.get(key):
                span[key] = convert(span[key])
        for link in span.get("links", []):
            for key in ("traceId", "spanId"):
                if link.get(key):
                    link[key] = convert(link[key])


def _all_spans(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [span for rs in body.get("resourceSpans", []) for ss in rs.get("scopeSpans", []) for span in ss.get("spans", [])]


def to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """``spans`` as one OTLP ``ExportTraceServiceRequest`` in the OTLP/JSON mapping."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    body: dict[str, Any] = MessageToDict(encode_spans(spans))
    _ids(_all_spans(body), lambda value: base64.b64decode(value).hex())
    return body


def from_otlp_json(body: dict[str, Any]) -> bytes:
    """The protobuf bytes of an OTLP/JSON body (the inverse of :func:`to_otlp_json`)."""
    import copy

    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    body = copy.deepcopy(body)
    _ids(_all_spans(body), lambda value: base64.b64encode(bytes.fromhex(value)).decode())
    message = ExportTraceServiceRequest()
    ParseDict(body, message)
    data: bytes = message.SerializeToString()
    return data

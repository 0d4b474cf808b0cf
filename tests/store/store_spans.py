"""SDK spans with fixed ids and times, as the pipeline hands them to exporters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, Status, StatusCode

from tracekit import _attributes as attr

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z, a fixed origin for all spans
MS = 1_000_000

SpanFactory = Callable[..., ReadableSpan]


def make_span(
    trace: int,
    span: int,
    parent: int | None = None,
    *,
    name: str = "span",
    span_type: str = "CHAIN",
    start_ms: float = 0,
    end_ms: float = 10,
    error: str | None = None,
    usage: dict[str, int] | None = None,
    inputs: Any = None,
    outputs: Any = None,
    attributes: dict[str, Any] | None = None,
    events: tuple[Event, ...] = (),
) -> ReadableSpan:
    """A finished SDK span as the pipeline hands it to exporters."""
    attrs: dict[str, Any] = {attr.SPAN_TYPE: span_type}
    if usage is not None:
        attrs[attr.TOKEN_USAGE] = json.dumps(usage)
    if inputs is not None:
        attrs[attr.SPAN_INPUTS] = json.dumps(inputs)
    if outputs is not None:
        attrs[attr.SPAN_OUTPUTS] = json.dumps(outputs)
    attrs.update(attributes or {})
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id=trace, span_id=span, is_remote=False),
        parent=SpanContext(trace_id=trace, span_id=parent, is_remote=False) if parent else None,
        resource=Resource({"service.name": "test"}),
        attributes=attrs,
        events=events,
        status=Status(StatusCode.ERROR, error) if error else Status(StatusCode.OK),
        start_time=T0 + int(start_ms * MS),
        end_time=T0 + int(end_ms * MS),
    )


def trace_id(trace: int) -> str:
    return f"tr-{trace:032x}"

"""One SDK span for the tests that drive an exporter directly."""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, Status, StatusCode


def one_span() -> ReadableSpan:
    return ReadableSpan(
        name="probe",
        context=SpanContext(trace_id=0x1234, span_id=0x1, is_remote=False),
        resource=Resource({}),
        status=Status(StatusCode.OK),
        start_time=1,
        end_time=2,
    )

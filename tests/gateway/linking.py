"""How these tests put the client's LLM span into the ``traceparent`` a gateway receives.

tracekit's SDK autolog sends ``traceparent`` itself, naming the LLM span (not the app's
CHAIN span), so that the gateway's spans hang under the LLM span, where the MLflow server
skips their repeated usage when it sums the trace's tokens. The httpx request hook here
only checks that: a span processor notes the LLM span each SDK call starts, and the hook
adds that span's ``traceparent`` only to a request that carries none -- which the tests
assert never happens (:func:`sent_traceparents` names the LLM span either way).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx2 as httpx  # the SDKs here (openai 3.63, anthropic 2.17, google-genai 3.6) run on httpx2
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from tracekit import _attributes as attr
from tracekit import _tracer
from tracekit._propagation import format_traceparent

_llm_span: ContextVar[tuple[int, int] | None] = ContextVar("tk_test_llm_span", default=None)


class _NoteLlmSpans(SpanProcessor):
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if (span.attributes or {}).get(attr.SPAN_TYPE) in ("CHAT_MODEL", "LLM"):
            context = span.get_span_context()
            _llm_span.set((context.trace_id, context.span_id))

    def on_end(self, span: ReadableSpan) -> None:
        pass


@contextmanager
def noting_llm_spans() -> Iterator[None]:
    processor = _NoteLlmSpans()
    _tracer.add_span_processor(processor)
    try:
        yield
    finally:
        _tracer.remove_span_processor(processor)


def _add(request: httpx.Request) -> None:
    current = _llm_span.get()
    if current is not None and "traceparent" not in request.headers:
        request.headers["traceparent"] = format_traceparent(*current)


async def _add_async(request: httpx.Request) -> None:
    _add(request)


def http_client() -> httpx.Client:
    """An httpx client for an SDK (``http_client=`` / ``HttpOptions(httpx_client=)``)."""
    return httpx.Client(event_hooks={"request": [_add]}, timeout=60)


def async_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(event_hooks={"request": [_add_async]}, timeout=60)


def sent_traceparents(requests: list[Any]) -> list[str]:
    """The ``traceparent`` headers the fake provider received (the gateway forwards the caller's)."""
    return [r.headers.get("traceparent") for r in requests if r.headers.get("traceparent")]

"""``_span.activate_until_end``: a span a framework's callback made current stays current
until it ends, even where the activation cannot be undone (the end came from another task)."""

from __future__ import annotations

import asyncio

import tracekit
from tracekit._span import Span, activate_until_end, get_current_span, open_span
from tracekit.testing import SpanCapture


async def test_an_ended_span_is_passed_over_in_the_flow_that_activated_it(captured: SpanCapture) -> None:
    with tracekit.start_span("app") as app:
        outer = open_span("graph", "AGENT")
        activate_until_end(outer)
        inner = open_span("node", "CHAIN")
        activate_until_end(inner)
        assert get_current_span() is inner
        # the framework ends both runs from another task: nothing can reset this flow's context
        await asyncio.create_task(_end(inner, outer))
        assert get_current_span() is app
        with tracekit.start_span("after") as after:
            pass
    spans = {s.name: s for s in captured.spans}
    assert spans["after"].parent_id == app.span_id
    assert spans["node"].parent_id == spans["graph"].span_id
    assert after.trace_id == app.trace_id


async def _end(*spans: Span) -> None:
    for span in spans:
        span.end()


def test_a_live_activated_span_is_the_parent(captured: SpanCapture) -> None:
    with tracekit.start_span("app"):
        run = open_span("tool", "TOOL")
        token = activate_until_end(run)
        with tracekit.start_span("inside"):
            pass
        run.end()
        from tracekit._span import deactivate

        deactivate(token)
    spans = {s.name: s for s in captured.spans}
    assert spans["inside"].parent_id == spans["tool"].span_id

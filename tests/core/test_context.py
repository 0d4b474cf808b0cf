"""Nesting holds per asyncio task and across thread pools; tracekit coexists with an app's
own OpenTelemetry setup without touching it."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tracekit
from tracekit.testing import SpanCapture


async def test_100_concurrent_tasks_each_build_their_own_trace(captured: SpanCapture) -> None:
    @tracekit.trace(span_type="TOOL")
    async def leaf(task: int, step: int) -> str:
        await asyncio.sleep(0.001 * (task % 3))
        return f"{task}.{step}"

    @tracekit.trace
    async def worker(task: int) -> list[str]:
        out = []
        for step in range(3):
            out.append(await leaf(task, step))
            await asyncio.sleep(0)
        return out

    results = await asyncio.gather(*(worker(i) for i in range(100)))
    assert results[7] == ["7.0", "7.1", "7.2"]
    traces = captured.traces
    assert len(traces) == 100
    for trace in traces:
        root = trace.root
        assert root is not None and root.name == "worker"
        task = root.inputs["task"]
        leaves = trace.children(root)
        assert [s.outputs for s in leaves] == [f"{task}.{n}" for n in range(3)]
        assert all(s.inputs["task"] == task for s in leaves)


def test_thread_pool_work_nests_with_bind_context(captured: SpanCapture) -> None:
    @tracekit.trace(span_type="TOOL")
    def work(item: int) -> int:
        return item * 10

    @tracekit.trace
    def fan_out() -> list[int]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(tracekit.bind_context(work), range(8)))

    assert fan_out() == [n * 10 for n in range(8)]
    (trace,) = captured.traces
    assert trace.root is not None
    assert sorted(s.outputs for s in trace.children(trace.root)) == [n * 10 for n in range(8)]


def test_thread_without_bind_context_starts_its_own_trace(captured: SpanCapture) -> None:
    @tracekit.trace
    def child() -> None:
        pass

    with tracekit.start_span("parent"):
        thread = threading.Thread(target=child)
        thread.start()
        thread.join()
    assert len(captured.traces) == 2  # documented: threads do not inherit context by themselves


def test_app_with_its_own_global_opentelemetry(captured: SpanCapture) -> None:
    app_exporter = InMemorySpanExporter()
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(app_exporter))
    app_tracer = app_provider.get_tracer("app")

    @tracekit.trace
    def traced() -> str:
        # the app's span opened inside ours stays in the app's own trace
        with app_tracer.start_as_current_span("app-inner"):
            return "ok"

    with app_tracer.start_as_current_span("app-request") as app_span:
        assert traced() == "ok"
        assert otel_trace.get_current_span() is app_span  # we never touched the app's context

    (ours,) = captured.spans
    app_spans = {s.name: s for s in app_exporter.get_finished_spans()}
    assert set(app_spans) == {"app-request", "app-inner"}
    app_trace_id = app_spans["app-request"].context.trace_id
    # our trace is a new one whose root is ours, linked to the app's span
    assert ours.parent_id is None
    assert ours.trace_id != f"tr-{app_trace_id:032x}"
    assert ours.attributes["tracekit.linked_from"] == f"{app_trace_id:032x}"
    # the app's spans are untouched by tracekit: none of ours is their parent
    assert app_spans["app-inner"].parent is not None
    assert app_spans["app-inner"].parent.span_id == app_spans["app-request"].context.span_id
    # and tracekit never installed a global provider
    assert not isinstance(otel_trace.get_tracer_provider(), type(tracekit._tracer._provider))


def test_get_current_span_and_update_current_trace(captured: SpanCapture) -> None:
    assert tracekit.get_current_span().is_recording is False
    tracekit.get_current_span().set_attribute("ignored", 1)  # a no-op outside a trace
    tracekit.update_current_trace(tags={"x": "y"})  # likewise

    @tracekit.trace
    def handler() -> None:
        span = tracekit.get_current_span()
        assert span.is_recording and span.name == "handler"
        with tracekit.start_span("inner"):
            tracekit.update_current_trace(
                tags={"tier": "pro"}, metadata={"build": "42"}, session_id="s-1", user_id="u-1", name="support"
            )

    handler()
    (trace,) = captured.traces
    root = trace.root
    assert root is not None
    assert root.attributes["mlflow.traceTag.tier"] == "pro"
    assert root.attributes["mlflow.traceTag.mlflow.traceName"] == "support"
    assert root.attributes["session.id"] == "s-1"
    assert root.attributes["user.id"] == "u-1"
    assert root.attributes["mlflow.traceMetadata.build"] == "42"
    assert trace.info.name == "support"
    assert trace.info.session_id == "s-1" and trace.info.user_id == "u-1"
    assert trace.info.tags["tier"] == "pro"
    assert tracekit.get_last_trace_id() == trace.info.trace_id


async def test_start_span_as_async_context_manager(captured: SpanCapture) -> None:
    async with tracekit.start_span("a", span_type=tracekit.SpanType.AGENT, inputs="question") as span:
        span.add_event("thought", {"n": 1})
        span.set_outputs("answer")
    (s,) = captured.spans
    assert (s.name, s.span_type, s.inputs, s.outputs, s.status) == ("a", "AGENT", "question", "answer", "OK")
    assert [e["name"] for e in s.events] == ["thought"]

"""Context follows the work: pool workers nest under the submitting span without the app
doing anything, a span exited on another thread frees the thread that entered it, and
get_last_trace_id() names the last finished trace."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import tracekit
from tracekit import _config
from tracekit.testing import SpanCapture


@tracekit.trace(span_type="TOOL")
def work(item: int) -> int:
    with tracekit.start_span("inner", span_type="TOOL"):
        return item * 10


def _assert_nested(captured: SpanCapture, root_name: str, count: int) -> None:
    [trace] = captured.traces
    assert trace.root is not None and trace.root.name == root_name
    children = trace.children(trace.root)
    assert sorted(s.outputs for s in children) == [n * 10 for n in range(count)]
    assert all(s.name == "work" for s in children)
    # each worker's own nesting holds too
    for child in children:
        assert [s.name for s in trace.children(child)] == ["inner"]
    assert len(trace.spans) == 1 + 2 * count


def test_thread_pool_submit_and_map_nest_without_bind_context(captured: SpanCapture) -> None:
    with tracekit.start_span("fan-out", span_type="CHAIN"), ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(work, n) for n in range(3)]
        assert [f.result() for f in futures] == [0, 10, 20]
        assert list(pool.map(work, range(3, 6))) == [30, 40, 50]
    _assert_nested(captured, "fan-out", 6)


def test_a_pool_thread_does_not_keep_the_span_for_its_next_task(captured: SpanCapture) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        with tracekit.start_span("first"):
            pool.submit(work, 1).result()
        # submitted outside any span: the same worker thread starts a trace of its own
        assert pool.submit(lambda: tracekit.get_current_span().is_recording).result() is False
        pool.submit(work, 2).result()
    assert sorted(t.root.name for t in captured.traces if t.root) == ["first", "work"]


async def test_run_in_executor_nests_under_the_awaiting_span(captured: SpanCapture) -> None:
    loop = asyncio.get_running_loop()
    with tracekit.start_span("handler", span_type="CHAIN"):
        results = await asyncio.gather(*(loop.run_in_executor(None, work, n) for n in range(3)))
    assert results == [0, 10, 20]
    _assert_nested(captured, "handler", 3)


def test_bind_context_keeps_working(captured: SpanCapture) -> None:
    with tracekit.start_span("bound"), ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(tracekit.bind_context(work), range(4))) == [0, 10, 20, 30]
    _assert_nested(captured, "bound", 4)


@pytest.mark.parametrize("how", ["configure", "environment"])
def test_propagation_can_be_turned_off(captured: SpanCapture, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "configure":
        tracekit.configure(propagate_threads=False)
    else:
        monkeypatch.setenv("TRACEKIT_PROPAGATE_THREADS", "false")
        _config.reset()
    with tracekit.start_span("alone"), ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(work, range(2)))
    assert sorted(t.root.name for t in captured.traces if t.root) == ["alone", "work", "work"]


def test_a_span_exited_on_another_thread_frees_the_entering_thread(captured: SpanCapture) -> None:
    with tracekit.start_span("outer") as outer:
        scope = tracekit.start_span("handed-over")
        handed = scope.__enter__()
        assert tracekit.get_current_span() is handed
        thread = threading.Thread(target=scope.__exit__, args=(None, None, None))
        thread.start()
        thread.join()
        # this thread is back in "outer", not stuck in the span that ended elsewhere
        assert tracekit.get_current_span() is outer
        with tracekit.start_span("next") as after:
            pass
    assert not tracekit.get_current_span().is_recording
    [trace] = captured.traces
    by_name = {s.name: s for s in trace.spans}
    assert sorted(by_name) == ["handed-over", "next", "outer"]
    assert by_name["next"].parent_id == outer.span_id == by_name["handed-over"].parent_id
    assert after.span_id == by_name["next"].span_id


def test_a_thread_exiting_a_foreign_span_keeps_its_own_context(captured: SpanCapture) -> None:
    scope = tracekit.start_span("entered-here")
    scope.__enter__()
    seen: list[bool] = []

    def exit_elsewhere() -> None:
        with tracekit.start_span("worker-own") as own:
            scope.__exit__(None, None, None)
            seen.append(tracekit.get_current_span() is own)
        seen.append(tracekit.get_current_span().is_recording)

    thread = threading.Thread(target=exit_elsewhere)
    thread.start()
    thread.join()
    assert seen == [True, False]
    assert not tracekit.get_current_span().is_recording
    assert sorted(t.root.name for t in captured.traces if t.root) == ["entered-here", "worker-own"]


def test_last_trace_id_is_the_last_finished_root_not_a_worker_orphan(captured: SpanCapture) -> None:
    tracekit.configure(propagate_threads=False)

    def orphan() -> None:
        with tracekit.start_span("orphan"):
            pass

    with tracekit.start_span("earlier") as earlier:
        pass
    assert tracekit.get_last_trace_id() == earlier.trace_id
    with tracekit.start_span("app") as app:
        assert tracekit.get_last_trace_id() == earlier.trace_id  # "app" is still running
        thread = threading.Thread(target=orphan)
        thread.start()
        thread.join()
    assert tracekit.get_last_trace_id() == app.trace_id
    assert len(captured.traces) == 3


def test_last_trace_id_counts_a_top_span_with_a_remote_parent(captured: SpanCapture) -> None:
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with tracekit.start_span("handle", parent={"traceparent": caller}) as span, tracekit.start_span("child"):
        pass
    assert span.trace_id == "tr-0af7651916cd43dd8448eb211c80319c"
    assert tracekit.get_last_trace_id() == span.trace_id

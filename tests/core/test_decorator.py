"""@trace in its four shapes, on methods, nested, failing, and closed early."""

from __future__ import annotations

import asyncio
import inspect
import json

import pytest

import tracekit
from tracekit.testing import SpanCapture


@tracekit.trace
def add(a: int, b: int = 2) -> int:
    """Adds."""
    return a + b


@tracekit.trace(name="fetch", span_type=tracekit.SpanType.RETRIEVER, attributes={"team": "search"})
async def fetch(query: str) -> list[str]:
    await asyncio.sleep(0)
    return [query, query.upper()]


@tracekit.trace
def count(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        yield add(i)
    return "done"


@tracekit.trace(span_type="TOOL")
async def acount(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        await asyncio.sleep(0)
        yield i


class Agent:
    @tracekit.trace
    def run(self, task: str) -> str:
        return self.helper(task)

    @staticmethod
    @tracekit.trace
    def helper(task: str) -> str:
        return task * 2

    @tracekit.trace  # above @classmethod works too
    @classmethod
    def build(cls, name: str) -> str:
        return f"{cls.__name__}:{name}"


def test_function_span_records_inputs_outputs_and_ok_status(captured: SpanCapture) -> None:
    assert add(1) == 3
    (span,) = captured.spans
    assert span.name == "add"
    assert span.span_type == "CHAIN"
    assert span.parent_id is None
    assert span.inputs == {"a": 1, "b": 2}
    assert span.outputs == 3
    assert span.status == "OK"
    assert span.attributes["tracekit.function"] == f"{__name__}.add"
    assert span.attributes["mlflow.spanType"] == "CHAIN"  # a plain string, not JSON-quoted
    assert json.loads(span.attributes["mlflow.spanInputs"]) == {"a": 1, "b": 2}
    assert span.events == []


def test_wrapping_keeps_metadata_signature_and_kind() -> None:
    assert add.__name__ == "add" and add.__doc__ == "Adds."
    assert str(inspect.signature(add)) == str(inspect.signature(add.__wrapped__))  # type: ignore[attr-defined]
    assert inspect.iscoroutinefunction(fetch)
    assert inspect.isgeneratorfunction(count)
    assert inspect.isasyncgenfunction(acount)
    assert not inspect.iscoroutinefunction(add)


async def test_coroutine_with_name_type_and_attributes(captured: SpanCapture) -> None:
    assert await fetch("q") == ["q", "Q"]
    (span,) = captured.spans
    assert (span.name, span.span_type, span.status) == ("fetch", "RETRIEVER", "OK")
    assert span.inputs == {"query": "q"}
    assert span.outputs == ["q", "Q"]
    assert span.attributes["team"] == "search"


def test_generator_span_covers_iteration_and_nests_its_children(captured: SpanCapture) -> None:
    gen = count(3)
    assert captured.spans == []  # nothing runs until iterated
    assert list(gen) == [2, 3, 4]
    spans = captured.spans
    assert [s.name for s in spans] == ["add", "add", "add", "count"]
    parent = spans[-1]
    assert parent.outputs == [2, 3, 4]
    assert parent.status == "OK"
    assert "tracekit.stream.incomplete" not in parent.attributes
    assert all(s.parent_id == parent.span_id for s in spans[:3])


def test_generator_return_value_and_send_are_passed_through() -> None:
    @tracekit.trace
    def echo():  # type: ignore[no-untyped-def]
        received = yield "ready"
        while received != "stop":
            received = yield received.upper()
        return "bye"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("a") == "A"
    with pytest.raises(StopIteration) as stop:
        gen.send("stop")
    assert stop.value.value == "bye"


def test_generator_closed_early_ends_span_once_marked_incomplete(captured: SpanCapture) -> None:
    closed = []

    @tracekit.trace
    def numbers():  # type: ignore[no-untyped-def]
        try:
            yield from range(100)
        finally:
            closed.append(True)

    for n in numbers():
        if n == 2:
            break
    # the loop dropped the generator: CPython closes it right away
    assert closed == [True]
    (span,) = captured.spans
    assert span.outputs == [0, 1, 2]
    assert span.attributes["tracekit.stream.incomplete"] is True
    assert span.status == "OK"


def test_generator_error_sets_error_status(captured: SpanCapture) -> None:
    @tracekit.trace
    def broken():  # type: ignore[no-untyped-def]
        yield 1
        raise KeyError("boom")

    gen = broken()
    assert next(gen) == 1
    with pytest.raises(KeyError, match="boom"):
        next(gen)
    (span,) = captured.spans
    assert span.status == "ERROR"
    assert span.outputs is None
    assert [e["name"] for e in span.events] == ["exception"]


def test_exception_thrown_into_generator_is_forwarded(captured: SpanCapture) -> None:
    @tracekit.trace
    def resilient():  # type: ignore[no-untyped-def]
        try:
            yield 1
        except ValueError:
            yield "recovered"

    gen = resilient()
    next(gen)
    assert gen.throw(ValueError("x")) == "recovered"
    gen.close()
    (span,) = captured.spans
    assert span.outputs == [1, "recovered"]
    assert span.attributes["tracekit.stream.incomplete"] is True


async def test_async_generator_exhausted_and_closed_early(captured: SpanCapture) -> None:
    assert [i async for i in acount(3)] == [0, 1, 2]
    agen = acount(10)
    async for i in agen:
        if i == 1:
            break
    await agen.aclose()
    full, partial = captured.spans
    assert (full.span_type, full.outputs, full.status) == ("TOOL", [0, 1, 2], "OK")
    assert "tracekit.stream.incomplete" not in full.attributes
    assert partial.outputs == [0, 1]
    assert partial.attributes["tracekit.stream.incomplete"] is True


def test_methods_static_and_class_methods_without_self(captured: SpanCapture) -> None:
    assert Agent().run("ab") == "abab"
    assert Agent.build("x") == "Agent:x"
    run_helper, run, build = captured.spans
    assert (run.name, run.inputs, run.outputs) == ("Agent.run", {"task": "ab"}, "abab")
    assert (run_helper.name, run_helper.inputs, run_helper.parent_id) == ("Agent.helper", {"task": "ab"}, run.span_id)
    assert (build.name, build.inputs, build.outputs) == ("Agent.build", {"name": "x"}, "Agent:x")


def test_exception_recorded_and_reraised_unchanged(captured: SpanCapture) -> None:
    error = ValueError("bad input")

    @tracekit.trace
    def fail() -> None:
        raise error

    with pytest.raises(ValueError) as raised:
        fail()
    assert raised.value is error
    (span,) = captured.spans
    assert span.status == "ERROR"
    assert span.status_message == "ValueError: bad input"
    (event,) = span.events
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "ValueError"
    assert event["attributes"]["exception.message"] == "bad input"
    assert "Traceback" in event["attributes"]["exception.stacktrace"]


async def test_coroutine_exception_and_cancellation(captured: SpanCapture) -> None:
    @tracekit.trace
    async def slow() -> None:
        await asyncio.sleep(10)

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (span,) = captured.spans
    assert span.status == "ERROR"
    assert span.events[0]["attributes"]["exception.type"] == "asyncio.exceptions.CancelledError"


def test_nesting_builds_one_trace(captured: SpanCapture) -> None:
    @tracekit.trace
    def outer() -> int:
        with tracekit.start_span("step", span_type="TOOL", inputs={"x": 1}) as step:
            step.set_outputs({"y": 2})
        return add(1, 1)

    assert outer() == 2
    (trace,) = captured.traces
    root = trace.root
    assert root is not None and root.name == "outer"
    assert [s.name for s in trace.children(root)] == ["step", "add"]
    step = trace.find(name="step")[0]
    assert (step.span_type, step.inputs, step.outputs) == ("TOOL", {"x": 1}, {"y": 2})
    assert len({s.trace_id for s in trace.spans}) == 1


def test_wrong_call_still_raises_the_functions_own_error(captured: SpanCapture) -> None:
    with pytest.raises(TypeError):
        add()  # type: ignore[call-arg]
    (span,) = captured.spans
    assert span.status == "ERROR"


def test_decorating_a_non_callable_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="needs a function"):
        tracekit.trace(42)  # type: ignore[call-overload]

"""Promise 2: instrumentation never raises into the app. Each internal step is made to
fail in turn; the traced function returns the same value and raises the same error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import tracekit
from tracekit import _errors, _serialize, _span_handle, _tracer


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("internal failure")


# (what to break, how): every step between the app's call and the exporter
STEPS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "start span": lambda mp: mp.setattr(_tracer, "start_otel_span", _boom),
    "bind inputs": lambda mp: mp.setattr("tracekit._decorator._Binder.inputs", _boom),
    "serialize": lambda mp: mp.setattr(_serialize, "_encode", _boom),
    "set attribute": lambda mp: mp.setattr(_span_handle, "_attribute_value", _boom),
    "record exception": lambda mp: mp.setattr("opentelemetry.sdk.trace.Span.record_exception", _boom),
    "end span": lambda mp: mp.setattr("opentelemetry.sdk.trace.Span.end", _boom),
    "set status": lambda mp: mp.setattr("opentelemetry.sdk.trace.Span.set_status", _boom),
    "export": lambda mp: mp.setattr("tracekit._store.SQLiteSpanExporter.export", _boom),
}


@tracekit.trace(attributes={"static": {"nested": True}})
def compute(x: int) -> dict[str, int]:
    return {"x": x}


@tracekit.trace
def explode(x: int) -> None:
    raise LookupError(f"no {x}")


@tracekit.trace
def stream(n: int):  # type: ignore[no-untyped-def]
    yield from range(n)


@pytest.mark.allow_internal_errors
@pytest.mark.parametrize("step", list(STEPS))
def test_traced_function_is_untouched_when_a_step_fails(step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with tracekit.start_span("warm-up"):
        pass
    STEPS[step](monkeypatch)
    with _errors.lenient():
        assert compute(3) == {"x": 3}
        with pytest.raises(LookupError, match="no 4"):
            explode(4)
        assert list(stream(3)) == [0, 1, 2]
        with tracekit.start_span("block") as span:
            span.set_outputs({"y": object()})
        tracekit.flush(timeout=5)


@pytest.mark.allow_internal_errors
def test_an_internal_error_is_logged_once_per_place(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_serialize, "_encode", _boom)
    with _errors.lenient(), caplog.at_level(logging.DEBUG, logger="tracekit"):
        for _ in range(5):
            assert compute(1) == {"x": 1}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "serialize" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].exc_info is not None  # with its traceback
    assert _errors.counts["serialize"] == 10  # inputs and outputs, five times


@pytest.mark.allow_internal_errors
def test_strict_mode_raises_internal_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_serialize, "_encode", _boom)
    with pytest.raises(RuntimeError, match="internal failure"):
        compute(1)


def test_keyboard_interrupt_and_generator_exit_pass_through() -> None:
    @tracekit.trace
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()

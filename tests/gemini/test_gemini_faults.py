"""Fault injection: whichever mapping step breaks, the app's call returns the identical
result or raises the identical exception, and the request is sent exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gemini_spans import EMBED_MODEL, MODEL, PROMPT, dump

import tracekit
from tracekit import _errors
from tracekit._providers.gemini import _patches as tk_gemini
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

pytestmark = pytest.mark.allow_internal_errors


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected")


@pytest.fixture
def inject(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[type, str], None]]:
    def apply(endpoint_class: type, hook: str) -> None:
        monkeypatch.setattr(endpoint_class, hook, _boom)

    with _errors.lenient():
        yield apply


def _run(server: FakeLLMServer, call: Callable[[], Any]) -> Any:
    """The call's outcome (result or exception), on a fresh server counter."""
    server.clear()
    try:
        return call()
    except Exception as exc:  # the outcome under test
        return exc


async def _arun(server: FakeLLMServer, call: Callable[[], Any]) -> Any:
    server.clear()
    try:
        return await call()
    except Exception as exc:  # the outcome under test
        return exc


def _assert_fault_hit(hook: str, scenario: str, *, skip: tuple[tuple[str, str], ...] = ()) -> None:
    """The injected fault really ran (and was swallowed) unless the hook has no work
    in this scenario (on_error after a success, on_response after an error...)."""
    idle = (hook == "on_error" and scenario == "text") or (hook, scenario) in skip
    assert bool(_errors.counts) is not idle, _errors.counts


def _same(traced: Any, baseline: Any) -> None:
    if isinstance(baseline, Exception):
        assert type(traced) is type(baseline)
        assert (traced.code, str(traced)) == (baseline.code, str(baseline))
    else:
        assert traced == baseline


_PLAIN_HOOKS = ["span_name", "on_request", "wrap", "on_response", "on_error"]
_STREAM_HOOKS = ["span_name", "on_request", "wrap", "on_chunk", "on_stream_end", "on_error"]


@pytest.mark.parametrize("scenario", ["text", "error_400"])
@pytest.mark.parametrize("hook", _PLAIN_HOOKS)
def test_sync_generate(client: Any, server: FakeLLMServer, captured: SpanCapture, inject: Any, hook: str, scenario: str) -> None:
    server.set_scenario(scenario)

    def call() -> Any:
        return dump(client.models.generate_content(model=MODEL, contents=PROMPT))

    tracekit.gemini.autolog(disable=True)
    baseline = _run(server, call)
    tracekit.gemini.autolog()
    inject(tk_gemini._GenerateContent, hook)
    _same(_run(server, call), baseline)
    assert len(server.requests) == 1
    _assert_fault_hit(hook, scenario, skip=(("wrap", scenario), ("on_response", scenario)) if scenario != "text" else ())
    assert all(s.end_time_ns is not None for s in captured.spans)


@pytest.mark.parametrize("scenario", ["text", "midstream_error"])
@pytest.mark.parametrize("hook", _STREAM_HOOKS)
def test_sync_stream(client: Any, server: FakeLLMServer, captured: SpanCapture, inject: Any, hook: str, scenario: str) -> None:
    server.set_scenario(scenario)
    chunks: list[Any] = []

    def call() -> Any:
        chunks.clear()
        for chunk in client.models.generate_content_stream(model=MODEL, contents=PROMPT):
            chunks.append(dump(chunk))
        return list(chunks)

    tracekit.gemini.autolog(disable=True)
    baseline, baseline_chunks = _run(server, call), list(chunks)
    tracekit.gemini.autolog()
    inject(tk_gemini._GenerateContentStream, hook)
    _same(_run(server, call), baseline)
    assert chunks == baseline_chunks
    assert len(server.requests) == 1
    _assert_fault_hit(hook, scenario)
    assert len(captured.spans) <= 1


@pytest.mark.parametrize("scenario", ["text", "error_500"])
@pytest.mark.parametrize("hook", _PLAIN_HOOKS)
async def test_async_generate(
    aclient: Any, server: FakeLLMServer, captured: SpanCapture, inject: Any, hook: str, scenario: str
) -> None:
    server.set_scenario(scenario)

    async def call() -> Any:
        return dump(await aclient.models.generate_content(model=MODEL, contents=PROMPT))

    tracekit.gemini.autolog(disable=True)
    baseline = await _arun(server, call)
    tracekit.gemini.autolog()
    inject(tk_gemini._GenerateContent, hook)
    _same(await _arun(server, call), baseline)
    assert len(server.requests) == 1
    _assert_fault_hit(hook, scenario, skip=(("wrap", scenario), ("on_response", scenario)) if scenario != "text" else ())


@pytest.mark.parametrize("scenario", ["text", "midstream_error", "error_429"])
@pytest.mark.parametrize("hook", _STREAM_HOOKS)
async def test_async_stream(
    aclient: Any, server: FakeLLMServer, captured: SpanCapture, inject: Any, hook: str, scenario: str
) -> None:
    server.set_scenario(scenario)
    chunks: list[Any] = []

    async def call() -> Any:
        chunks.clear()
        async for chunk in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT):
            chunks.append(dump(chunk))
        return list(chunks)

    tracekit.gemini.autolog(disable=True)
    baseline, baseline_chunks = await _arun(server, call), list(chunks)
    tracekit.gemini.autolog()
    inject(tk_gemini._GenerateContentStream, hook)
    _same(await _arun(server, call), baseline)
    assert chunks == baseline_chunks
    assert len(server.requests) == 1
    # a request refused up front fails before the SDK hands out a stream to wrap
    refused = tuple((h, "error_429") for h in ("wrap", "on_chunk", "on_stream_end"))
    _assert_fault_hit(hook, scenario, skip=refused)


@pytest.mark.parametrize("scenario", ["text", "error_400"])
@pytest.mark.parametrize("hook", _PLAIN_HOOKS)
def test_sync_embed(client: Any, server: FakeLLMServer, inject: Any, hook: str, scenario: str) -> None:
    server.set_scenario(scenario)

    def call() -> Any:
        return dump(client.models.embed_content(model=EMBED_MODEL, contents=["a", "b"]))

    tracekit.gemini.autolog(disable=True)
    baseline = _run(server, call)
    tracekit.gemini.autolog()
    inject(tk_gemini._EmbedContent, hook)
    _same(_run(server, call), baseline)
    assert len(server.requests) == 1
    _assert_fault_hit(hook, scenario, skip=(("wrap", scenario), ("on_response", scenario)) if scenario != "text" else ())


@pytest.mark.parametrize("step", ["response_json", "merge_chunks", "usage", "finish_reasons"])
def test_response_mapping_steps(client: Any, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    from tracekit._providers.gemini import _accumulate, _mapping

    module = _accumulate if step == "merge_chunks" else _mapping

    def call() -> Any:
        plain = dump(client.models.generate_content(model=MODEL, contents=PROMPT))
        streamed = [dump(c) for c in client.models.generate_content_stream(model=MODEL, contents=PROMPT)]
        return plain, streamed

    tracekit.gemini.autolog(disable=True)
    baseline = _run(server, call)
    tracekit.gemini.autolog()
    monkeypatch.setattr(module, step, _boom)
    with _errors.lenient():
        _same(_run(server, call), baseline)
    assert len(server.requests) == 2
    assert _errors.counts


@pytest.mark.parametrize("step", ["contents_json", "config_json", "chat_tools", "request_params", "base_url"])
def test_request_mapping_steps(client: Any, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    from tracekit._providers.gemini import _mapping as _gemini_request

    def call() -> Any:
        return dump(client.models.generate_content(model=MODEL, contents=PROMPT, config={"temperature": 0.1}))

    tracekit.gemini.autolog(disable=True)
    baseline = _run(server, call)
    tracekit.gemini.autolog()
    monkeypatch.setattr(_gemini_request, step, _boom)
    with _errors.lenient():
        _same(_run(server, call), baseline)
    assert len(server.requests) == 1
    assert _errors.counts

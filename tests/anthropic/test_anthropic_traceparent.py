"""W3C ``traceparent`` sent with every traced Anthropic call (create, stream, the
``messages.stream()`` helper, parse, beta, raw and streaming responses), sync and
async: asserted on what the fake server received."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import pytest
from anthropic_spans import MODEL, USER, only_span

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def _traceparent_of(span: Any) -> str:
    return f"00-{span.trace_id.removeprefix('tr-')}-{span.span_id}-01"


def _sent(server: FakeLLMServer) -> str | None:
    assert server.last_request is not None
    return server.last_request.headers.get("traceparent")


def _create(c: anthropic.Anthropic) -> None:
    c.messages.create(model=MODEL, max_tokens=16, messages=USER)


def _create_stream(c: anthropic.Anthropic) -> None:
    for _ in c.messages.create(model=MODEL, max_tokens=16, messages=USER, stream=True):
        pass


def _stream_helper(c: anthropic.Anthropic) -> None:
    with c.messages.stream(model=MODEL, max_tokens=16, messages=USER) as stream:
        stream.get_final_message()


def _parse(c: anthropic.Anthropic) -> None:
    c.messages.parse(model=MODEL, max_tokens=16, messages=USER)


def _beta_create(c: anthropic.Anthropic) -> None:
    c.beta.messages.create(model=MODEL, max_tokens=16, messages=USER)


def _beta_stream_helper(c: anthropic.Anthropic) -> None:
    with c.beta.messages.stream(model=MODEL, max_tokens=16, messages=USER) as stream:
        stream.get_final_message()


def _raw(c: anthropic.Anthropic) -> None:
    c.messages.with_raw_response.create(model=MODEL, max_tokens=16, messages=USER).parse()


def _streaming_response(c: anthropic.Anthropic) -> None:
    with c.messages.with_streaming_response.create(model=MODEL, max_tokens=16, messages=USER) as response:
        response.parse()


SYNC: dict[str, Callable[[anthropic.Anthropic], None]] = {
    f.__name__.lstrip("_"): f
    for f in (_create, _create_stream, _stream_helper, _parse, _beta_create, _beta_stream_helper, _raw, _streaming_response)
}


async def _acreate(c: anthropic.AsyncAnthropic) -> None:
    await c.messages.create(model=MODEL, max_tokens=16, messages=USER)


async def _acreate_stream(c: anthropic.AsyncAnthropic) -> None:
    async for _ in await c.messages.create(model=MODEL, max_tokens=16, messages=USER, stream=True):
        pass


async def _astream_helper(c: anthropic.AsyncAnthropic) -> None:
    async with c.messages.stream(model=MODEL, max_tokens=16, messages=USER) as stream:
        await stream.get_final_message()


async def _abeta_stream_helper(c: anthropic.AsyncAnthropic) -> None:
    async with c.beta.messages.stream(model=MODEL, max_tokens=16, messages=USER) as stream:
        await stream.get_final_message()


async def _araw(c: anthropic.AsyncAnthropic) -> None:
    (await c.messages.with_raw_response.create(model=MODEL, max_tokens=16, messages=USER)).parse()


ASYNC: dict[str, Callable[[anthropic.AsyncAnthropic], Awaitable[None]]] = {
    f.__name__.lstrip("_"): f for f in (_acreate, _acreate_stream, _astream_helper, _abeta_stream_helper, _araw)
}


@pytest.mark.parametrize("surface", sorted(SYNC))
def test_every_sync_surface_sends_the_llm_span(
    surface: str, client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture
) -> None:
    SYNC[surface](client)
    assert _sent(server) == _traceparent_of(only_span(captured))


@pytest.mark.parametrize("surface", sorted(ASYNC))
async def test_every_async_surface_sends_the_llm_span(
    surface: str, aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture
) -> None:
    await ASYNC[surface](aclient)
    assert _sent(server) == _traceparent_of(only_span(captured))


def test_the_apps_header_wins_and_its_dict_is_not_changed(
    client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture
) -> None:
    mine = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    headers = {"traceparent": mine}
    with client.messages.stream(model=MODEL, max_tokens=16, messages=USER, extra_headers=headers) as stream:
        stream.until_done()
    assert headers == {"traceparent": mine}
    assert _sent(server) == mine
    assert "extra_headers" not in only_span(captured).inputs


def test_the_callers_extra_headers_are_copied(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    headers = {"x-app": "1"}
    client.messages.create(model=MODEL, max_tokens=16, messages=USER, extra_headers=headers)
    assert headers == {"x-app": "1"}
    assert server.last_request is not None and server.last_request.headers["x-app"] == "1"
    assert _sent(server) == _traceparent_of(only_span(captured))


def test_a_client_default_header_wins(server: FakeLLMServer, captured: SpanCapture) -> None:
    mine = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="k", max_retries=0, default_headers={"Traceparent": mine}
    ) as c:
        _create(c)
    assert _sent(server) == mine


def test_switched_off(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.configure(propagate_context=False)
    _create_stream(client)
    assert _sent(server) is None
    assert len(captured.spans) == 1


def test_an_unsampled_call_says_so(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.configure(sample_rate=0.0)
    _stream_helper(client)
    sent = _sent(server)
    assert sent is not None and sent.startswith("00-") and sent.endswith("-00")
    assert captured.spans == []

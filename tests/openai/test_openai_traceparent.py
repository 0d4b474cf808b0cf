"""W3C ``traceparent`` sent with every traced OpenAI call: asserted on what the fake
server received, for every surface, sync and async, streamed and not."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from openai import AsyncOpenAI, OpenAI
from openai_helpers import MESSAGES, MODEL, only_span
from pydantic import BaseModel

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


class Answer(BaseModel):
    text: str


def _traceparent_of(span: Any) -> str:
    return f"00-{span.trace_id.removeprefix('tr-')}-{span.span_id}-01"


def _sent(server: FakeLLMServer) -> str | None:
    assert server.last_request is not None
    return server.last_request.headers.get("traceparent")


def _chat(c: OpenAI) -> None:
    c.chat.completions.create(model=MODEL, messages=MESSAGES)


def _chat_stream(c: OpenAI) -> None:
    for _ in c.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
        pass


def _chat_parse(c: OpenAI) -> None:
    c.chat.completions.parse(model=MODEL, messages=MESSAGES)


def _chat_stream_helper(c: OpenAI) -> None:
    with c.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        stream.get_final_completion()


def _responses(c: OpenAI) -> None:
    c.responses.create(model=MODEL, input="hi")


def _responses_stream(c: OpenAI) -> None:
    for _ in c.responses.create(model=MODEL, input="hi", stream=True):
        pass


def _responses_stream_helper(c: OpenAI) -> None:
    with c.responses.stream(model=MODEL, input="hi") as stream:
        stream.get_final_response()


def _responses_parse(c: OpenAI) -> None:
    c.responses.parse(model=MODEL, input="hi", text_format=Answer)


def _embeddings(c: OpenAI) -> None:
    c.embeddings.create(model="text-embedding-3-small", input="hi")


def _completions(c: OpenAI) -> None:
    c.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi")


def _completions_stream(c: OpenAI) -> None:
    for _ in c.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", stream=True):
        pass


def _raw(c: OpenAI) -> None:
    c.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES).parse()


def _raw_stream(c: OpenAI) -> None:
    for _ in c.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, stream=True).parse():
        pass


def _streaming_response(c: OpenAI) -> None:
    with c.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES) as response:
        response.parse()


SYNC: dict[str, Callable[[OpenAI], None]] = {
    f.__name__.lstrip("_"): f
    for f in (
        _chat,
        _chat_stream,
        _chat_parse,
        _chat_stream_helper,
        _responses,
        _responses_stream,
        _responses_stream_helper,
        _responses_parse,
        _embeddings,
        _completions,
        _completions_stream,
        _raw,
        _raw_stream,
        _streaming_response,
    )
}


async def _achat(c: AsyncOpenAI) -> None:
    await c.chat.completions.create(model=MODEL, messages=MESSAGES)


async def _achat_stream(c: AsyncOpenAI) -> None:
    async for _ in await c.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
        pass


async def _achat_stream_helper(c: AsyncOpenAI) -> None:
    async with c.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        await stream.get_final_completion()


async def _aresponses_stream_helper(c: AsyncOpenAI) -> None:
    async with c.responses.stream(model=MODEL, input="hi") as stream:
        await stream.get_final_response()


async def _aembeddings(c: AsyncOpenAI) -> None:
    await c.embeddings.create(model="text-embedding-3-small", input="hi")


async def _araw(c: AsyncOpenAI) -> None:
    (await c.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)).parse()


async def _astreaming_response(c: AsyncOpenAI) -> None:
    async with c.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES, stream=True) as response:
        async for _ in await response.parse():
            pass


ASYNC: dict[str, Callable[[AsyncOpenAI], Awaitable[None]]] = {
    f.__name__.lstrip("_"): f
    for f in (_achat, _achat_stream, _achat_stream_helper, _aresponses_stream_helper, _aembeddings, _araw, _astreaming_response)
}


@pytest.mark.parametrize("surface", sorted(SYNC))
def test_every_sync_surface_sends_the_llm_span(
    surface: str, client: OpenAI, server: FakeLLMServer, captured: SpanCapture
) -> None:
    SYNC[surface](client)
    assert _sent(server) == _traceparent_of(only_span(captured))


@pytest.mark.parametrize("surface", sorted(ASYNC))
async def test_every_async_surface_sends_the_llm_span(
    surface: str, aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture
) -> None:
    await ASYNC[surface](aclient)
    assert _sent(server) == _traceparent_of(only_span(captured))


def test_under_a_chain_the_header_names_the_llm_span(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    @tracekit.trace
    def answer() -> None:
        _chat(client)

    answer()
    llm = next(s for s in captured.spans if s.span_type == "CHAT_MODEL")
    assert llm.parent_id is not None
    assert _sent(server) == _traceparent_of(llm)


def test_the_apps_header_wins_and_its_dict_is_not_changed(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    mine = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    headers = {"TraceParent": mine, "x-app": "1"}
    client.chat.completions.create(model=MODEL, messages=MESSAGES, extra_headers=headers)
    assert headers == {"TraceParent": mine, "x-app": "1"}
    assert _sent(server) == mine
    assert "extra_headers" not in only_span(captured).inputs  # never recorded


def test_the_callers_extra_headers_are_copied_not_mutated(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    headers = {"x-app": "1"}
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES, extra_headers=headers) as stream:
        stream.until_done()
    assert headers == {"x-app": "1"}
    assert server.last_request is not None and server.last_request.headers["x-app"] == "1"
    assert _sent(server) == _traceparent_of(only_span(captured))


def test_a_client_default_header_wins(server: FakeLLMServer, captured: SpanCapture) -> None:
    mine = "00-" + "c" * 32 + "-" + "d" * 16 + "-00"
    with OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0, default_headers={"traceparent": mine}) as c:
        _chat(c)
    assert _sent(server) == mine
    assert len(captured.spans) == 1


def test_switched_off(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.configure(propagate_context=False)
    _chat(client)
    assert _sent(server) is None
    assert len(captured.spans) == 1


def test_switched_off_by_environment(client: OpenAI, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracekit import _config

    monkeypatch.setenv("TRACEKIT_PROPAGATE_CONTEXT", "0")
    _config.reset()
    _chat(client)
    assert _sent(server) is None


def test_an_unsampled_call_says_so(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.configure(sample_rate=0.0)
    _chat(client)
    _chat(client)
    assert captured.spans == []
    sent = [r.headers.get("traceparent") for r in server.requests]
    for value in sent:
        assert value is not None and re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00", value), value
        assert "0" * 32 not in value and "-" + "0" * 16 + "-" not in value
    assert sent[0] != sent[1]


def test_disabled_tracing_sends_nothing(client: OpenAI, server: FakeLLMServer) -> None:
    tracekit.configure(enabled=False)
    _chat(client)
    assert _sent(server) is None

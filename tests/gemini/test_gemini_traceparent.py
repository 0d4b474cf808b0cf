"""W3C ``traceparent`` sent with every traced google-genai call (generate, streams,
chats, embed), sync and async: added to the request google-genai builds (non-streamed
calls) or through the request's ``http_options.headers`` (streams, and unsampled calls);
asserted on what the fake server received."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from gemini_spans import EMBED_MODEL, MODEL, PROMPT, make_client, only_span, settle
from google.genai import types

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def _traceparent_of(span: Any) -> str:
    return f"00-{span.trace_id.removeprefix('tr-')}-{span.span_id}-01"


def _sent(server: FakeLLMServer) -> str | None:
    assert server.last_request is not None
    return server.last_request.headers.get("traceparent")


def _generate(c: Any) -> None:
    c.models.generate_content(model=MODEL, contents=PROMPT)


def _generate_config_object(c: Any) -> None:
    c.models.generate_content(model=MODEL, contents=PROMPT, config=types.GenerateContentConfig(temperature=0.1))


def _generate_config_dict(c: Any) -> None:
    c.models.generate_content(model=MODEL, contents=PROMPT, config={"temperature": 0.1, "http_options": {"timeout": 30_000}})


def _stream(c: Any) -> None:
    for _ in c.models.generate_content_stream(model=MODEL, contents=PROMPT):
        pass


def _chat(c: Any) -> None:
    c.chats.create(model=MODEL).send_message("Hi")


def _chat_stream(c: Any) -> None:
    for _ in c.chats.create(model=MODEL).send_message_stream("Hi"):
        pass


def _embed(c: Any) -> None:
    c.models.embed_content(model=EMBED_MODEL, contents="x")


SYNC: dict[str, Callable[[Any], None]] = {
    f.__name__.lstrip("_"): f
    for f in (_generate, _generate_config_object, _generate_config_dict, _stream, _chat, _chat_stream, _embed)
}


async def _agenerate(c: Any) -> None:
    await c.models.generate_content(model=MODEL, contents=PROMPT)


async def _astream(c: Any) -> None:
    async for _ in await c.models.generate_content_stream(model=MODEL, contents=PROMPT):
        pass


async def _achat_stream(c: Any) -> None:
    async for _ in await c.chats.create(model=MODEL).send_message_stream("Hi"):
        pass


async def _aembed(c: Any) -> None:
    await c.models.embed_content(model=EMBED_MODEL, contents="x")


ASYNC: dict[str, Callable[[Any], Awaitable[None]]] = {
    f.__name__.lstrip("_"): f for f in (_agenerate, _astream, _achat_stream, _aembed)
}


@pytest.mark.parametrize("surface", sorted(SYNC))
def test_every_sync_surface_sends_the_llm_span(surface: str, client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    SYNC[surface](client)
    assert _sent(server) == _traceparent_of(only_span(captured))


@pytest.mark.parametrize("surface", sorted(ASYNC))
async def test_every_async_surface_sends_the_llm_span(
    surface: str, aclient: Any, server: FakeLLMServer, captured: SpanCapture
) -> None:
    await ASYNC[surface](aclient)
    await settle(captured, 1)
    assert _sent(server) == _traceparent_of(only_span(captured))


def test_the_apps_config_is_copied_not_changed(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    options = types.HttpOptions(headers={"x-app": "1"})
    config = types.GenerateContentConfig(temperature=0.1, http_options=options)
    as_dict = {"http_options": {"headers": {"x-app": "2"}}}
    client.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    assert server.last_request is not None and server.last_request.headers["x-app"] == "1"
    assert _sent(server) == _traceparent_of(captured.spans[-1])
    client.models.generate_content(model=MODEL, contents=PROMPT, config=as_dict)
    assert server.last_request.headers["x-app"] == "2"
    assert _sent(server) == _traceparent_of(captured.spans[-1])
    assert options.headers == {"x-app": "1"} and config.http_options is options
    assert as_dict == {"http_options": {"headers": {"x-app": "2"}}}


def test_the_apps_header_wins(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    mine = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    config = types.GenerateContentConfig(http_options=types.HttpOptions(headers={"TraceParent": mine}))
    client.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    assert _sent(server) == mine
    assert "http_options" not in only_span(captured).inputs.get("config", {})


def test_the_clients_headers_stay_its_own(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    """The header joins one built request, never the client's default headers, which
    google-genai 1.x hands to every request it builds: an untraced call after a traced
    one sends none."""
    _generate(client)
    _embed(client)
    assert _sent(server) == _traceparent_of(captured.spans[-1])
    assert all(key.lower() != "traceparent" for key in client._api_client._http_options.headers)
    tracekit.gemini.autolog(disable=True)
    try:
        _generate(client)
        assert _sent(server) is None
    finally:
        tracekit.gemini.autolog()


@pytest.mark.parametrize(("call", "name"), [(_generate, "TraceParent"), (_stream, "traceparent")])
def test_a_client_header_wins(call: Callable[[Any], None], name: str, server: FakeLLMServer, captured: SpanCapture) -> None:
    """The client's own header, any case, wins on both paths (the built request for a
    non-streamed call, ``http_options`` for a stream)."""
    mine = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"
    from google import genai

    c = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.url, api_version="v1beta", headers={name: mine}))
    call(c)
    assert _sent(server) == mine
    c.close()


def test_switched_off(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.configure(propagate_context=False)
    _chat(client)
    assert _sent(server) is None
    assert len(captured.spans) == 1


def test_an_unsampled_call_says_so(server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.configure(sample_rate=0.0)
    c = make_client(server)
    _embed(c)
    sent = _sent(server)
    assert sent is not None and sent.startswith("00-") and sent.endswith("-00")
    assert captured.spans == []
    c.close()


def test_a_failing_request_tap_never_reaches_the_app(
    client: Any, server: FakeLLMServer, captured: SpanCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tap's own failure is reported and the request goes out as the SDK built it."""
    from tracekit import _errors
    from tracekit._llm import RequestTap

    def boom(self: RequestTap, request: Any, headers: Any) -> None:
        raise RuntimeError("tap broke")

    monkeypatch.setattr(RequestTap, "add", boom)
    with _errors.lenient():
        reply = client.models.generate_content(model=MODEL, contents=PROMPT)
    assert reply.text
    assert _sent(server) is None
    assert _errors.counts.get("RequestTap.add") == 1
    span = only_span(captured)
    assert span.status == "OK"
    assert span.outputs  # the response is recorded as usual

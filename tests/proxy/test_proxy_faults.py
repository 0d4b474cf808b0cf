"""Faults: an upstream that is down, slow or cuts a stream; a client that goes away
mid-stream; many streams at once. The client always gets a clear answer (or the same
broken stream it would get directly) and every span ends, once, saying what happened."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import httpx2
import openai
import pytest

from tracekit.testing import FakeLLMServer

from .conftest import ProxyProcess, session_of

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
TEXT = "Hello! This is the fake LLM server."


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_upstream_down_gives_502_and_an_error_span(start_proxy: Any) -> None:
    proxy: ProxyProcess = start_proxy(f"http://127.0.0.1:{_closed_port()}")
    response = httpx2.post(proxy.url + "/v1/chat/completions", json=CHAT, timeout=30)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_unreachable"
    assert "cannot be reached" in error["message"]
    # an SDK client shows the proxy's message
    with (
        openai.OpenAI(base_url=proxy.url + "/v1", api_key="k", max_retries=0) as client,
        pytest.raises(openai.APIStatusError) as raised,
    ):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    assert raised.value.status_code == 502

    assert proxy.stop() == 0
    spans = proxy.spans()
    assert len(spans) == 2
    for span in spans:
        assert (span.name, span.status) == ("chat gpt-4o-mini", "ERROR")
        assert span.attributes["error.type"] == "APIConnectionError"
        assert span.attributes["http.response.status_code"] == 502
        assert [e["name"] for e in span.events] == ["exception"]


def test_slow_upstream_gives_504(start_proxy: Any, server: FakeLLMServer) -> None:
    proxy: ProxyProcess = start_proxy(server.url, "--timeout", "0.3")
    response = httpx2.post(proxy.url + "/v1/chat/completions", json=CHAT, headers={"x-fake-first-token-delay": "3"}, timeout=30)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert proxy.stop() == 0
    [span] = proxy.spans()
    assert span.status == "ERROR"
    assert span.attributes["error.type"] == "APITimeoutError"
    assert span.attributes["http.response.status_code"] == 504


def test_upstream_cut_mid_stream_breaks_the_clients_stream_too(shared_proxy: ProxyProcess) -> None:
    session = uuid.uuid4().hex
    headers = {"x-fake-scenario": "disconnect", "x-session-id": session}
    with openai.OpenAI(base_url=shared_proxy.url + "/v1", api_key="k", max_retries=0, default_headers=headers) as client:
        received = []
        with pytest.raises(openai.APIError):  # the SDK sees an incomplete body, as it would directly
            for chunk in client.chat.completions.create(stream=True, **CHAT):  # type: ignore[call-overload]
                received.append(chunk.choices[0].delta.content or "")
    assert 0 < len(received) < 20

    [span] = shared_proxy.wait_for_spans(1, session_of(session))
    a = span.attributes
    assert span.status == "ERROR"
    assert a["tracekit.stream.incomplete"] is True
    assert a["tracekit.stream.end_reason"] == "error"
    assert a["error.type"] == "ClientPayloadError"
    # the partial answer is kept
    assert span.outputs["choices"][0]["message"]["content"] == "".join(received)


def test_client_gone_mid_stream_ends_the_span_incomplete(shared_proxy: ProxyProcess, server: FakeLLMServer) -> None:
    session = uuid.uuid4().hex
    headers = {"x-fake-delay": "0.1", "x-fake-chunks": "50", "x-session-id": session}
    with (
        httpx2.Client(timeout=30) as client,
        client.stream(
            "POST", shared_proxy.url + "/v1/chat/completions", json={**CHAT, "stream": True}, headers=headers
        ) as response,
    ):
        for _ in response.iter_raw():
            break  # leave after the first piece: the connection closes

    [span] = shared_proxy.wait_for_spans(1, session_of(session))
    a = span.attributes
    assert a["tracekit.stream.incomplete"] is True
    assert a["tracekit.stream.end_reason"] == "closed"
    assert a["tracekit.stream.chunks"] < 50
    assert span.status == "OK"  # the client's choice, not an error
    # the proxy still serves (its upstream request was closed, nothing hangs)
    assert httpx2.post(shared_proxy.url + "/v1/chat/completions", json=CHAT, timeout=30).status_code == 200


async def test_fifty_concurrent_streams(shared_proxy: ProxyProcess) -> None:
    session = uuid.uuid4().hex
    headers = {"x-fake-delay": "0.01", "x-fake-chunks": "10", "x-session-id": session}
    limits = httpx2.Limits(max_connections=100)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as client:

        async def one(i: int) -> bytes:
            body = {**CHAT, "messages": [{"role": "user", "content": f"stream {i}"}], "stream": True}
            async with client.stream("POST", shared_proxy.url + "/v1/chat/completions", json=body, headers=headers) as response:
                assert response.status_code == 200
                return b"".join([piece async for piece in response.aiter_raw()])

        bodies = await asyncio.gather(*(one(i) for i in range(50)))
    assert all(b.endswith(b"data: [DONE]\n\n") for b in bodies)

    spans = shared_proxy.wait_for_spans(50, session_of(session))
    assert {s.inputs["messages"][0]["content"] for s in spans} == {f"stream {i}" for i in range(50)}
    for span in spans:
        assert span.status == "OK"
        assert span.attributes["tracekit.stream.end_reason"] == "exhausted"
        assert span.outputs["choices"][0]["message"]["content"] == "Hello! This is the fake LLM server."

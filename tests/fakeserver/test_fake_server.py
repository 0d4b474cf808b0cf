"""The HTTP adapter: routing under prefixes, recording, scenarios, concurrency, lifecycle."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time
from typing import Any

import anthropic
import openai
import pytest

from tests.fakeserver.conftest import make_genai_client
from tracekit.testing._fakeserver import SCENARIOS, FakeLLMServer, FakeRequest, ScenarioError

TEXT = "Hello! This is the fake LLM server."
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("prefix", ["/gateway/openai/v1", "/serving-endpoints", "/v1", "/a/b/c"])
def test_openai_under_gateway_prefixes(server: FakeLLMServer, prefix: str) -> None:
    with openai.OpenAI(base_url=server.url_for(prefix), api_key="k", max_retries=0) as client:
        reply = client.chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == TEXT
    assert server.last_request is not None and server.last_request.path == prefix + "/chat/completions"


def test_anthropic_and_gemini_under_gateway_prefixes(server: FakeLLMServer) -> None:
    with anthropic.Anthropic(base_url=server.url_for("/gateway/anthropic"), api_key="k", max_retries=0) as client:
        assert client.messages.create(model="c", max_tokens=5, messages=MESSAGES).content[0].text == TEXT
    assert server.last_request is not None and server.last_request.path == "/gateway/anthropic/v1/messages"
    genai_client = make_genai_client(server.url_for("/gateway/gemini"))
    try:
        assert genai_client.models.generate_content(model="gemini-x", contents="hi").text == TEXT
    finally:
        genai_client.close()
    assert server.last_request.path == "/gateway/gemini/v1beta/models/gemini-x:generateContent"


def test_recording_and_clear(server: FakeLLMServer, openai_client: Any) -> None:
    openai_client.chat.completions.create(model="a", messages=MESSAGES)
    openai_client.chat.completions.create(model="b", messages=MESSAGES, stream=True).close()
    records = server.requests
    assert [r.json["model"] for r in records] == ["a", "b"]
    assert [r.stream for r in records] == [False, True]
    assert all(isinstance(r, FakeRequest) and r.scenario == "text" for r in records)
    server.clear()
    assert server.requests == [] and server.last_request is None
    assert openai_client.chat.completions.create(model="c", messages=MESSAGES).id == "chatcmpl-fake-1"


def test_default_scenario_and_options(server: FakeLLMServer, openai_client: Any) -> None:
    server.set_scenario("tool_call", tool_name="search", tool_arguments={"q": "x"})
    reply = openai_client.chat.completions.create(model="m", messages=MESSAGES)
    (call,) = reply.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("search", {"q": "x"})
    server.set_scenario("text", text="Custom reply.", chunks=3)
    chunks = list(openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert [c.choices[0].delta.content for c in chunks[1:-1]] == ["Custo", "m re", "ply."]
    # The header beats the marker, which beats the default.
    reply = openai_client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "[scenario:refusal]"}],
        extra_headers={"x-fake-scenario": "model_mismatch"},
    )
    assert reply.model == "m-served"
    with pytest.raises(ScenarioError):
        server.set_scenario("nope")
    with pytest.raises(ScenarioError):
        server.set_scenario("text", colour="red")


def test_unknown_scenario_is_a_clear_400(openai_client: Any, anthropic_client: Any) -> None:
    with pytest.raises(openai.BadRequestError, match="unknown fake scenario 'nope'"):
        openai_client.chat.completions.create(model="m", messages=MESSAGES, extra_headers={"x-fake-scenario": "nope"})
    with pytest.raises(anthropic.BadRequestError, match="unknown fake scenario"):
        anthropic_client.messages.create(model="c", max_tokens=5, messages=[{"role": "user", "content": "[scenario:x]"}])


def test_slow_first_token_and_per_chunk_delay(openai_client: Any, server: FakeLLMServer) -> None:
    server.set_scenario("slow_first_token", first_token_delay=0.2)
    start = time.perf_counter()
    stream = openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    headers_at = time.perf_counter() - start
    next(iter(stream))
    first_at = time.perf_counter() - start
    stream.close()
    assert headers_at < 0.15 <= 0.19 < first_at
    start = time.perf_counter()
    list(
        openai_client.chat.completions.create(
            model="m",
            messages=MESSAGES,
            stream=True,
            extra_headers={"x-fake-delay": "0.01", "x-fake-chunks": "10", "x-fake-first-token-delay": "0"},
        )
    )
    assert 0.1 <= time.perf_counter() - start < 1.0


def test_keep_alive_for_non_streamed_and_chunked_streams(server: FakeLLMServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    body = json.dumps({"model": "m", "messages": MESSAGES})
    for stream in (False, True, False):
        payload = json.dumps({**json.loads(body), "stream": stream})
        conn.request("POST", "/v1/chat/completions", payload, {"content-type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        assert response.status == 200
        if stream:
            assert response.getheader("transfer-encoding") == "chunked"
            assert data.endswith(b"data: [DONE]\n\n")
        else:
            assert int(response.getheader("content-length") or 0) == len(data)
    sock = conn.sock
    assert sock is not None  # still the same open connection after three requests
    conn.close()


def test_close_delimited_framing() -> None:
    with (
        FakeLLMServer(sse_framing="close") as server,
        openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0) as client,
        client.chat.completions.stream(model="m", messages=MESSAGES) as stream,
    ):
        assert stream.get_final_completion().choices[0].message.content == TEXT


def test_health_and_unknown_route(server: FakeLLMServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/health")
    assert json.loads(conn.getresponse().read()) == {"status": "ok"}
    conn.request("POST", "/v1/unknown", "{}")
    response = conn.getresponse()
    assert response.status == 404 and b"no route" in response.read()
    conn.close()


async def test_fifty_concurrent_async_calls(server: FakeLLMServer) -> None:
    async with openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0) as client:

        async def one(i: int) -> str:
            if i % 2:
                stream = await client.chat.completions.create(
                    model=f"m{i}", messages=MESSAGES, stream=True, extra_headers={"x-fake-delay": "0.001"}
                )
                return "".join([c.choices[0].delta.content or "" async for c in stream])
            reply = await client.chat.completions.create(model=f"m{i}", messages=MESSAGES)
            return reply.choices[0].message.content or ""

        results = await asyncio.gather(*(one(i) for i in range(50)))
    assert results == [TEXT] * 50
    records = server.requests
    assert len(records) == 50 and {r.json["model"] for r in records} == {f"m{i}" for i in range(50)}


def test_stop_is_clean_with_idle_and_streaming_connections() -> None:
    server = FakeLLMServer(delay=0.5).start()
    idle = socket.create_connection(("127.0.0.1", server.port))
    slow = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    slow.request("POST", "/v1/chat/completions", json.dumps({"model": "m", "messages": MESSAGES, "stream": True}))
    slow.getresponse()
    start = time.perf_counter()
    server.stop()
    assert time.perf_counter() - start < 2
    assert not server.running
    server.stop()  # idempotent
    idle.close()
    slow.close()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url


def test_scenario_names_are_public() -> None:
    assert {"text", "tool_call", "tool_calls_2", "error_529", "midstream_error", "safety_block"} <= set(SCENARIOS)

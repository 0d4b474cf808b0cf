"""What the proxy records, read back from its local store: whole LLM spans for real SDK
clients (sync and async), sessions, the caller's trace, compressed answers, and no
credential anywhere in the store's bytes."""

from __future__ import annotations

import gzip
import json
import signal
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import brotli
import httpx2
import openai
import pytest
import zstandard
from aiohttp import web

from tracekit.testing import FakeLLMServer

from .conftest import ProxyProcess, one_span, session_of

SECRET = "sk-live-SECRET-4f9a8b7c6d5e"
MESSAGES = [{"role": "user", "content": "hi"}]
TEXT = "Hello! This is the fake LLM server."


async def test_async_anthropic_stream_is_one_whole_span(shared_proxy: ProxyProcess, server: FakeLLMServer) -> None:
    session = uuid.uuid4().hex
    async with (
        anthropic.AsyncAnthropic(
            base_url=shared_proxy.url, api_key=SECRET, max_retries=0, default_headers={"x-claude-code-session-id": session}
        ) as client,
        client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream,
    ):
        text = await stream.get_final_text()
    assert text == TEXT

    span = one_span(shared_proxy.wait_for_spans(1, session_of(session)))
    assert (span.name, span.span_type, span.status, span.parent_id) == ("chat claude-sonnet-4-5", "CHAT_MODEL", "OK", None)
    a = span.attributes
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["mlflow.message.format"] == "anthropic"
    assert a["gen_ai.request.model"] == a["gen_ai.response.model"] == "claude-sonnet-4-5"
    assert a["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert a["tracekit.stream"] is True
    assert a["tracekit.stream.end_reason"] == "exhausted"
    assert "tracekit.stream.incomplete" not in a
    assert a["tracekit.stream.chunks"] > 2
    assert a["gen_ai.usage.output_tokens"] == 20
    assert a["session.id"] == session
    assert a["tracekit.proxy.session_source"] == "header:x-claude-code-session-id"
    assert a["user_agent.original"].startswith("AsyncAnthropic/Python")
    assert (a["server.address"], a["server.port"]) == ("127.0.0.1", server.port)
    assert span.inputs == {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": MESSAGES, "stream": True}
    assert span.outputs["content"] == [{"citations": None, "text": TEXT, "type": "text"}]
    assert [e["name"] for e in span.events] == ["gen_ai.first_token"]


async def test_async_openai_stream_and_default_session(shared_proxy: ProxyProcess) -> None:
    marker = uuid.uuid4().hex
    async with openai.AsyncOpenAI(base_url=shared_proxy.url + "/v1", api_key=SECRET, max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": marker}],
            stream=True,
            stream_options={"include_usage": True},
        )
        pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces) == TEXT

    [span] = shared_proxy.wait_for_spans(1, lambda s: marker in json.dumps(s.inputs))
    a = span.attributes
    # no session header: the proxy run is the session
    assert a["session.id"].startswith("proxy-")
    assert a["tracekit.proxy.session_source"] == "run"
    assert span.outputs["choices"][0]["message"]["content"] == TEXT
    # ceil(len(marker) / 4) prompt tokens for the fake server's count, 20 pieces out
    assert json.loads(a["mlflow.chat.tokenUsage"]) == {"input_tokens": 8, "output_tokens": 20, "total_tokens": 28}


def test_traceparent_makes_the_span_a_child_of_the_callers_span(shared_proxy: ProxyProcess) -> None:
    trace_hex, span_hex = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    session = uuid.uuid4().hex
    headers = {"traceparent": f"00-{trace_hex}-{span_hex}-01", "x-session-id": session}
    with openai.OpenAI(base_url=shared_proxy.url + "/v1", api_key=SECRET, max_retries=0, default_headers=headers) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    [span] = shared_proxy.wait_for_spans(1, session_of(session))
    assert span.trace_id == f"tr-{trace_hex}"
    assert span.parent_id == span_hex


def test_no_credential_reaches_the_store(proxy: ProxyProcess, server: FakeLLMServer) -> None:
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key=SECRET, max_retries=0) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    with anthropic.Anthropic(base_url=proxy.url, api_key=SECRET, max_retries=0) as aclient:
        aclient.messages.create(model="claude-x", max_tokens=10, messages=MESSAGES)
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    httpx2.post(
        proxy.url + "/v1beta/models/gemini-2.5-flash:generateContent",
        params={"key": SECRET},
        json=body,
        headers={"x-goog-api-key": SECRET, "proxy-authorization": f"Basic {SECRET}"},
    )
    assert server.last_request is not None and server.last_request.query["key"] == SECRET  # forwarded, not recorded

    assert proxy.stop(signal.SIGINT) == 0  # Ctrl-C: a clean stop that flushes every span
    assert len(proxy.spans()) == 3
    files = [p for p in proxy.store.parent.iterdir() if p.name.startswith(proxy.store.name)]
    files += [p for p in (proxy.store.parent / "proxy-home").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


# --- compressed answers --------------------------------------------------------------------

CHAT = {
    "id": "chatcmpl-gz",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "zipped"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def _sse() -> bytes:
    chunks = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "zip"}, "finish_reason": None}],
        },
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": "ped"}, "finish_reason": "stop"}],
        },
    ]
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def _encode(data: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data)
    if encoding == "br":
        return bytes(brotli.compress(data))
    return bytes(zstandard.ZstdCompressor().compress(data))


def _decode(data: bytes, encoding: str | None) -> bytes:
    if encoding == "zstd":
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(data))
    return data


@pytest.fixture
def compressing_upstream() -> Iterator[str]:
    """An upstream that answers compressed as the request's ``x-test-encoding`` says
    (JSON, and SSE in small pieces), and reads zstd request bodies."""
    import asyncio

    async def chat(request: web.Request) -> web.StreamResponse:
        encoding = request.headers["x-test-encoding"]
        body = json.loads(_decode(await request.read(), request.headers.get("content-encoding")))
        headers = {"Content-Encoding": encoding}
        if not body.get("stream"):
            return web.Response(
                body=_encode(json.dumps(CHAT).encode(), encoding), headers={**headers, "Content-Type": "application/json"}
            )
        response = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream"})
        await response.prepare(request)
        packed = _encode(_sse(), encoding)
        for i in range(0, len(packed), 7):
            await response.write(packed[i : i + 7])
        await response.write_eof()
        return response

    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        runner = web.AppRunner(app, auto_decompress=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["port"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        holder["runner"] = runner
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(main()), loop.run_forever()), daemon=True)
    thread.start()
    started.wait(10)
    yield f"http://127.0.0.1:{holder['port']}"
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_compressed_answers_pass_compressed_and_are_recorded_decoded(start_proxy: Any, compressing_upstream: str) -> None:
    proxy: ProxyProcess = start_proxy(compressing_upstream)
    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    url = proxy.url + "/v1/chat/completions"
    with httpx2.Client(timeout=30) as client:
        for encoding in ("gzip", "br", "zstd"):
            headers = {"accept-encoding": encoding, "x-test-encoding": encoding}
            plain = client.post(url, content=json.dumps(body), headers=headers)
            raw = client.post(url, json={**body, "stream": True}, headers=headers)
            direct = client.post(compressing_upstream + "/v1/chat/completions", json={**body, "stream": True}, headers=headers)
            assert plain.headers["content-encoding"] == raw.headers["content-encoding"] == encoding
            assert raw.read() == direct.read()
        # a zstd-compressed request body (Codex may send one) is read for the span too
        zipped = zstandard.ZstdCompressor().compress(json.dumps(body).encode())
        client.post(url, content=zipped, headers={"content-encoding": "zstd", "x-test-encoding": "gzip"})

    assert proxy.stop() == 0
    spans = proxy.spans()
    assert len(spans) == 7
    for answer in spans[0:6:2] + spans[6:]:
        assert answer.outputs == CHAT
        assert answer.attributes["gen_ai.usage.input_tokens"] == 3
        assert answer.inputs == body
    for stream in spans[1:6:2]:
        assert stream.outputs["choices"][0]["message"]["content"] == "zipped"
        assert stream.attributes["gen_ai.response.finish_reasons"] == ["stop"]
        assert stream.attributes["tracekit.stream.chunks"] == 2
        assert "tracekit.proxy.body_not_recorded" not in stream.attributes


def test_gemini_json_array_stream_is_merged_like_sse(shared_proxy: ProxyProcess) -> None:
    """``streamGenerateContent`` without ``alt=sse`` answers one JSON array of chunks."""
    session = uuid.uuid4().hex
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"temperature": 0.1}}
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    with httpx2.Client(timeout=30, headers={"x-session-id": session, "x-goog-api-key": SECRET}) as client:
        array = client.post(shared_proxy.url + path, json=body).json()
        client.post(shared_proxy.url + path, params={"alt": "sse"}, json=body)
    assert isinstance(array, list)

    as_array, as_sse = shared_proxy.wait_for_spans(2, session_of(session))
    for span in (as_array, as_sse):
        assert span.name == "generate_content gemini-2.5-flash"
        assert span.attributes["gen_ai.provider.name"] == "gcp.gemini"
        assert span.attributes["gen_ai.request.temperature"] == 0.1
        assert span.attributes["tracekit.stream"] is True
        assert span.attributes["tracekit.stream.end_reason"] == "exhausted"
        assert span.outputs["candidates"][0]["content"]["parts"] == [{"text": TEXT}]
        assert span.inputs["contents"] == [{"parts": [{"text": "hi"}], "role": "user"}]
    assert as_array.attributes["tracekit.stream.chunks"] == len(array)
    assert as_sse.attributes["gen_ai.usage.output_tokens"] == as_array.attributes["gen_ai.usage.output_tokens"]

"""The proxy is transparent: a raw HTTP client gets byte-for-byte the answer it gets
directly (status, headers, body; streamed and not; all three protocols), and the
upstream receives exactly the request the client sent."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from tracekit.testing import FakeLLMServer

from .conftest import ProxyProcess, session_of

SECRET = "sk-proxy-secret-0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]

#: (path, query, body) of one request per protocol and mode
EXCHANGES: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "openai-chat": ("/v1/chat/completions", {}, {"model": "gpt-4o-mini", "messages": MESSAGES}),
    "openai-chat-stream": (
        "/v1/chat/completions",
        {},
        {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}},
    ),
    "openai-responses": ("/v1/responses", {}, {"model": "gpt-4o-mini", "input": "hi"}),
    "openai-responses-stream": ("/v1/responses", {}, {"model": "gpt-4o-mini", "input": "hi", "stream": True}),
    "openai-embeddings": ("/v1/embeddings", {}, {"model": "text-embedding-3-small", "input": "hi"}),
    "anthropic": ("/v1/messages", {}, {"model": "claude-x", "max_tokens": 50, "messages": MESSAGES}),
    "anthropic-stream": ("/v1/messages", {}, {"model": "claude-x", "max_tokens": 50, "messages": MESSAGES, "stream": True}),
    "gemini": (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        {},
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    ),
    "gemini-sse": (
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        {"alt": "sse"},
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    ),
    "gemini-json-array": (
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        {},
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    ),
    "gemini-embed": ("/v1beta/models/text-embedding-004:embedContent", {}, {"content": {"parts": [{"text": "hi"}]}}),
}

HEADERS = {
    "authorization": f"Bearer {SECRET}",
    "x-api-key": SECRET,
    "x-goog-api-key": SECRET,
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "fine-grained-tool-streaming-2025-05-14",
    "user-agent": "test-agent/1.0",
    "x-custom": "kept",
}

_PER_RESPONSE = {"date"}  # differs between any two answers


def _call(base: str, name: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    path, query, body = EXCHANGES[name]
    with httpx2.Client(timeout=30) as client:
        response = client.post(
            base + path, params=query, content=json.dumps(body).encode(), headers={**HEADERS, **(headers or {})}
        )
        kept = {k.lower(): v for k, v in response.headers.items() if k.lower() not in _PER_RESPONSE}
        return response.status_code, kept, response.content


@pytest.mark.parametrize("name", sorted(EXCHANGES))
def test_answer_is_byte_for_byte_the_direct_answer(shared_proxy: ProxyProcess, server: FakeLLMServer, name: str) -> None:
    server.clear()  # ids restart at 1: both answers are the first one
    direct = _call(server.url, name)
    direct_request = server.last_request
    server.clear()
    proxied = _call(shared_proxy.url, name)
    proxied_request = server.last_request

    assert proxied == direct
    assert direct_request is not None and proxied_request is not None
    assert (proxied_request.method, proxied_request.path, dict(proxied_request.query), proxied_request.body) == (
        direct_request.method,
        direct_request.path,
        dict(direct_request.query),
        direct_request.body,
    )
    # every header arrives, credentials and beta/version headers included; only Host
    # (the upstream's) and the hop-by-hop ones are the proxy's own
    hop = {"host", "connection", "keep-alive"}
    assert {k: v for k, v in proxied_request.headers.items() if k not in hop} == {
        k: v for k, v in direct_request.headers.items() if k not in hop
    }


@pytest.mark.parametrize("scenario", ["error_429", "error_500", "midstream_error", "tool_call"])
def test_error_and_tool_answers_pass_through_unchanged(shared_proxy: ProxyProcess, server: FakeLLMServer, scenario: str) -> None:
    server.clear()
    direct = _call(server.url, "openai-chat-stream", {"x-fake-scenario": scenario})
    server.clear()
    proxied = _call(shared_proxy.url, "openai-chat-stream", {"x-fake-scenario": scenario})
    assert proxied == direct


def test_unknown_paths_pass_through_untraced(shared_proxy: ProxyProcess, server: FakeLLMServer) -> None:
    session = {"x-session-id": "unknown-paths"}
    direct_models = httpx2.get(server.url + "/v1/models")
    with httpx2.Client(timeout=30, headers=session) as client:
        health = client.get(shared_proxy.url + "/health?x=1")
        models = client.get(shared_proxy.url + "/v1/models", headers={"authorization": f"Bearer {SECRET}"})
        count = client.post(
            shared_proxy.url + "/v1/messages/count_tokens", json={"model": "claude-x", "messages": MESSAGES}, headers=HEADERS
        )
        assert server.last_request is not None and server.last_request.path == "/v1/messages/count_tokens"
        # then one model call: once its span is in the store, nothing else was recorded
        path, _, body = EXCHANGES["openai-chat"]
        client.post(shared_proxy.url + path, json=body)
    assert health.status_code == 200
    assert (models.status_code, models.content) == (direct_models.status_code, direct_models.content)
    assert count.status_code == 200

    [span] = shared_proxy.wait_for_spans(1, session_of("unknown-paths"))
    assert span.name == "chat gpt-4o-mini"


def test_sse_chunks_reach_the_client_as_they_arrive(shared_proxy: ProxyProcess, server: FakeLLMServer) -> None:
    """With a pause before every delta, the client sees the first event while the
    upstream is still writing: the proxy buffers nothing."""
    path, _, body = EXCHANGES["openai-chat-stream"]
    seen_before_end = 0
    with (
        httpx2.Client(timeout=30) as client,
        client.stream(
            "POST", shared_proxy.url + path, json=body, headers={**HEADERS, "x-fake-delay": "0.05", "x-fake-chunks": "10"}
        ) as response,
    ):
        for raw in response.iter_raw():
            if b"[DONE]" not in raw:
                seen_before_end += 1
            else:
                break
    # more than one piece arrived before the end: nothing was held back until the end
    assert seen_before_end > 1

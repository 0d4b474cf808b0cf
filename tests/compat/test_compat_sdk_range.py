"""The providers against the whole supported SDK range.

These tests use only long-stable SDK surfaces, so the same file runs against the newest
releases (tracekit's own .venv) and the oldest ones pyproject.toml declares
(`.venv-oldest`, built by scripts/test.sh). Each asserts whole LLM spans: type, parent,
inputs, outputs, usage, models, stream bookkeeping.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterator
from typing import Any

import pytest

import tracekit
from tracekit._model import SpanData
from tracekit.testing import FakeLLMServer, SpanCapture

REPLY = "Hello! This is the fake LLM server."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as s:
        yield s


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    tracekit.autolog()
    yield
    tracekit.autolog(disable=True)


def _version(dist: str) -> str:
    return importlib.metadata.version(dist)


def _one_llm_span(captured: SpanCapture) -> tuple[SpanData, SpanData]:
    """The single LLM span under the single @trace root."""
    (trace,) = captured.traces
    root = trace.root
    assert root is not None and root.name == "agent"
    (llm,) = trace.children(root)
    assert llm.status == "OK"
    return root, llm


def _usage(span: SpanData) -> dict[str, Any]:
    usage = json.loads(span.attributes["mlflow.chat.tokenUsage"])
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    return usage


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_openai_chat(server: FakeLLMServer, captured: SpanCapture, stream: bool) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0)

    @tracekit.trace
    def agent() -> str:
        kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.1}
        if not stream:
            return str(client.chat.completions.create(**kwargs).choices[0].message.content)
        chunks = client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs)
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    assert agent() == REPLY
    root, llm = _one_llm_span(captured)
    assert (llm.name, llm.span_type, llm.parent_id) == ("chat gpt-4o-mini", "CHAT_MODEL", root.span_id)
    assert llm.inputs["messages"] == [{"role": "user", "content": "hi"}]
    assert llm.inputs["temperature"] == 0.1
    assert llm.outputs["choices"][0]["message"]["content"] == REPLY
    assert llm.attributes["mlflow.message.format"] == "openai"
    assert llm.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert llm.attributes["server.address"] == "127.0.0.1"
    assert "sk-test" not in json.dumps(llm.attributes)
    _usage(llm)
    if stream:
        # role chunk + 20 content chunks + finish chunk + usage chunk
        assert llm.attributes["tracekit.stream.chunks"] == 23
        assert llm.attributes["tracekit.stream.end_reason"] == "exhausted"
    assert "tracekit.stream.incomplete" not in llm.attributes


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_anthropic_messages(server: FakeLLMServer, captured: SpanCapture, stream: bool) -> None:
    anthropic = pytest.importorskip("anthropic")
    client = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0)

    @tracekit.trace
    def agent() -> str:
        kwargs: dict[str, Any] = {
            "model": "claude-haiku-4-5",
            "max_tokens": 64,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "hi"}],
        }
        if not stream:
            return str(client.messages.create(**kwargs).content[0].text)
        with client.messages.stream(**kwargs) as s:
            return "".join(s.text_stream)

    assert agent() == REPLY
    root, llm = _one_llm_span(captured)
    assert (llm.name, llm.span_type, llm.parent_id) == ("chat claude-haiku-4-5", "CHAT_MODEL", root.span_id)
    assert llm.inputs["system"] == "Be brief."
    assert llm.inputs["messages"] == [{"role": "user", "content": "hi"}]
    assert llm.outputs["content"][0]["text"] == REPLY
    assert llm.outputs["stop_reason"] == "end_turn"
    assert llm.attributes["mlflow.message.format"] == "anthropic"
    assert "sk-ant-test" not in json.dumps(llm.attributes)
    _usage(llm)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_gemini_generate_content(server: FakeLLMServer, captured: SpanCapture, stream: bool) -> None:
    genai = pytest.importorskip("google.genai")
    from google.genai import types

    client = genai.Client(api_key="gm-test", http_options=types.HttpOptions(base_url=server.gemini_base_url))

    @tracekit.trace
    def agent() -> str:
        if not stream:
            return str(client.models.generate_content(model="gemini-2.5-flash", contents="hi").text)
        chunks = client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
        return "".join(c.text or "" for c in chunks)

    assert agent() == REPLY
    root, llm = _one_llm_span(captured)
    assert (llm.name, llm.span_type, llm.parent_id) == ("generate_content gemini-2.5-flash", "CHAT_MODEL", root.span_id)
    assert llm.attributes["mlflow.message.format"] == "gemini"
    text = "".join(p["text"] for p in llm.outputs["candidates"][0]["content"]["parts"])
    assert text == REPLY
    assert "gm-test" not in json.dumps(llm.attributes)
    _usage(llm)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_raw_and_streaming_responses(server: FakeLLMServer, captured: SpanCapture, sdk: str) -> None:
    """The Stainless shapes both SDKs share (``tracekit/_llm/_stainless.py``): a streamed
    ``with_raw_response`` ends with the stream ``parse()`` hands out; a
    ``with_streaming_response`` records at ``parse()``, or ends with nothing at close."""
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    if sdk == "openai":
        openai = pytest.importorskip("openai")
        resource: Any = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0).chat.completions
    else:
        anthropic = pytest.importorskip("anthropic")
        client = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0)
        resource, kwargs = client.messages, {**kwargs, "model": "claude-haiku-4-5", "max_tokens": 64}

    events = list(resource.with_raw_response.create(stream=True, **kwargs).parse())
    with resource.with_streaming_response.create(**kwargs) as response:
        response.parse()
    with resource.with_streaming_response.create(**kwargs):
        pass

    streamed, parsed, unread = captured.spans
    assert (streamed.attributes["tracekit.stream.end_reason"], streamed.attributes["tracekit.stream.chunks"]) == (
        "exhausted",
        len(events),
    )
    assert "tracekit.stream.end_reason" not in parsed.attributes and parsed.outputs is not None
    assert "tracekit.stream.end_reason" not in unread.attributes and unread.outputs is None
    assert [s.status for s in (streamed, parsed, unread)] == ["OK", "OK", "OK"]


def test_versions_under_test_are_reported() -> None:
    # shows in -v output which end of the range this run covered
    for dist in ("openai", "anthropic", "google-genai"):
        print(dist, _version(dist))

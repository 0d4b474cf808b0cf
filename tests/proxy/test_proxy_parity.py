"""Parity: the span the proxy records for an exchange is the span autolog records for
the same SDK call against the same fake server -- attribute by attribute, inputs,
outputs, status and events. Excluded: timing and ids, and what only the proxy knows
(session, User-Agent, upstream; listed in docs/proxy.md)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

import tracekit
from tracekit._model import SpanData
from tracekit.testing import FakeLLMServer, SpanCapture

from .conftest import ProxyProcess, session_of

MESSAGES = [{"role": "user", "content": "What is the weather in Oslo?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
ANTHROPIC_TOOLS = [
    {"name": "get_weather", "description": "Weather of a city", "input_schema": TOOLS[0]["function"]["parameters"]}
]  # type: ignore[index]

#: Gemini inputs in their wire form (a plain string is recorded as the Content it becomes)
GEMINI_HELLO = types.Content(role="user", parts=[types.Part(text="hello")])
#: only the proxy knows these (the client's session, identity, the upstream it used)
PROXY_ONLY = {"session.id", "user_agent.original", "tracekit.proxy.upstream", "tracekit.proxy.session_source"}
#: timing differs between any two calls
TIMING = {"tracekit.stream.time_to_first_token_ms"}


def comparable(span: SpanData) -> dict[str, Any]:
    attributes = {k: v for k, v in span.attributes.items() if k not in PROXY_ONLY | TIMING}
    for key in ("mlflow.spanInputs", "mlflow.spanOutputs"):
        if isinstance(attributes.get(key), str):
            attributes[key] = json.loads(attributes[key])
    return {
        "name": span.name,
        "type": span.span_type,
        "status": span.status,
        "parent": span.parent_id is not None,
        "attributes": attributes,
        "events": [e.get("name") for e in span.events],
    }


Call = Callable[[str, dict[str, str]], Any]


def _openai(base: str, headers: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key="sk-parity", max_retries=0, default_headers=headers)


def _anthropic(base: str, headers: dict[str, str]) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base, api_key="sk-ant-parity", max_retries=0, default_headers=headers)


def _gemini(base: str, headers: dict[str, str]) -> genai.Client:
    return genai.Client(api_key="gk-parity", http_options=types.HttpOptions(base_url=base, headers=headers))


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


def _with_gemini(base: str, headers: dict[str, str], use: Callable[[Any], Any]) -> None:
    client = _gemini(base, headers)  # held here: a dropped genai.Client closes its HTTP client
    try:
        use(client.models)
    finally:
        client.close()


CALLS: dict[str, Call] = {
    "openai.chat": lambda b, h: _openai(b, h).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS),
    "openai.chat.stream": lambda b, h: _drain(
        _openai(b, h).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True, stream_options={"include_usage": True}
        )
    ),
    "openai.responses": lambda b, h: _openai(b, h).responses.create(model="gpt-4o-mini", input="hi", temperature=0.5),
    "openai.responses.stream": lambda b, h: _drain(_openai(b, h).responses.create(model="gpt-4o-mini", input="hi", stream=True)),
    "openai.embeddings": lambda b, h: _openai(b, h).embeddings.create(
        # the openai SDK asks for base64 when no format is given and decodes it; the
        # proxy records the wire (docs/proxy.md, "Differences from autolog")
        model="text-embedding-3-small",
        input=["a", "b"],
        encoding_format="float",
    ),
    "anthropic": lambda b, h: _anthropic(b, h).messages.create(
        model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES, tools=ANTHROPIC_TOOLS, system="Be brief."
    ),
    "anthropic.stream": lambda b, h: _drain(
        _anthropic(b, h).messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES, stream=True)
    ),
    "gemini": lambda b, h: _with_gemini(
        b,
        h,
        lambda m: m.generate_content(
            model="gemini-2.5-flash",
            contents="What is the weather in Oslo?",
            config=types.GenerateContentConfig(
                # in its wire form: a plain string would be recorded as the Content it becomes
                temperature=0.3,
                system_instruction=types.Content(role="user", parts=[types.Part(text="Be brief.")]),
                max_output_tokens=200,
            ),
        ),
    ),
    "gemini.stream": lambda b, h: _with_gemini(
        b, h, lambda m: _drain(m.generate_content_stream(model="gemini-2.5-flash", contents="Hello there"))
    ),
    "gemini.embed": lambda b, h: _with_gemini(
        b, h, lambda m: m.embed_content(model="text-embedding-004", contents=[GEMINI_HELLO])
    ),
}

CASES = [(name, "text") for name in CALLS] + [
    ("openai.chat", "tool_call"),
    ("openai.chat.stream", "tool_call"),
    ("openai.chat.stream", "cached_usage"),
    ("openai.chat", "error_429"),
    ("anthropic", "tool_call"),
    ("anthropic.stream", "thinking"),
    ("anthropic", "error_529"),
    ("gemini", "tool_call"),
    ("gemini.stream", "cutoff"),
    ("gemini", "error_400"),
    ("openai.chat.stream", "midstream_error"),
    ("openai.responses.stream", "midstream_error"),
    ("anthropic.stream", "midstream_error"),
    ("gemini.stream", "midstream_error"),
    ("openai.responses", "reasoning"),
    ("anthropic.stream", "cached_usage"),
    ("gemini.stream", "safety_block"),
]


@pytest.fixture
def autolog() -> Iterator[None]:
    tracekit.autolog()
    yield
    tracekit.openai.autolog(disable=True)
    tracekit.anthropic.autolog(disable=True)
    tracekit.gemini.autolog(disable=True)


def _run(call: Call, base: str, headers: dict[str, str]) -> None:
    try:
        call(base, headers)
    except Exception:
        pass  # error scenarios: both ways raise the same SDK error; the spans are compared


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_proxy_span_equals_autolog_span(
    shared_proxy: ProxyProcess,
    server: FakeLLMServer,
    captured: SpanCapture,
    request: pytest.FixtureRequest,
    name: str,
    scenario: str,
) -> None:
    call = CALLS[name]
    session = uuid.uuid4().hex
    server.clear()  # ids restart at 1: both calls get the same answer
    _run(call, shared_proxy.url, {"x-fake-scenario": scenario, "x-session-id": session})
    [proxied] = shared_proxy.wait_for_spans(1, session_of(session))
    assert captured.spans == []  # nothing traced in-process: the proxy alone recorded it

    request.getfixturevalue("autolog")
    server.clear()
    _run(call, server.url, {"x-fake-scenario": scenario})
    tracekit.flush()
    [direct] = captured.spans

    assert proxied.attributes["session.id"] == session
    assert proxied.attributes["tracekit.proxy.upstream"] == server.url
    mine, theirs = comparable(proxied), comparable(direct)
    a, b = mine.pop("attributes"), theirs.pop("attributes")
    assert {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)} == {}
    assert mine == theirs

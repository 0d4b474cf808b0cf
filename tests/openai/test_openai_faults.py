"""Fault injection: whichever extraction step raises, the app's call returns the same
result and raises the same exception, and exactly one request reaches the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai_helpers import MESSAGES, MODEL, TEXT, scenario

from tracekit import _errors
from tracekit._providers.openai import _accumulate as accumulate
from tracekit._providers.openai import _mapping as mapping
from tracekit._providers.openai import _patches as endpoints
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

pytestmark = pytest.mark.allow_internal_errors

HOOKS = ["span_name", "on_request", "wrap", "on_response", "on_chunk", "on_stream_end", "on_error", "accumulate", "record"]
MAPPERS = [
    "request_inputs",
    "request_parameters",
    "output_type",
    "tool_definitions",
    "record_openai_usage",
    "record_choices_response",
    "record_responses_response",
    "accumulate_chat",
    "accumulate_responses",
    "to_dict",
]


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected fault")


@pytest.fixture(params=[f"hook:{h}" for h in HOOKS] + [f"map:{m}" for m in MAPPERS])
def fault(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    kind, name = request.param.split(":")
    if kind == "hook":
        for cls in (endpoints.OpenAIEndpoint, endpoints.ChatStreamHelperEndpoint):
            monkeypatch.setattr(cls, name, _boom)
    else:
        monkeypatch.setattr(accumulate if hasattr(accumulate, name) else mapping, name, _boom)
    return str(request.param)


def chat_text(client: OpenAI) -> Any:
    result = client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert type(result) is openai.types.chat.ChatCompletion
    return result.choices[0].message.content


def chat_stream_text(client: OpenAI) -> Any:
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    assert isinstance(stream, openai.Stream)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def chat_helper_text(client: OpenAI) -> Any:
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        return stream.get_final_completion().choices[0].message.content


def responses_stream_text(client: OpenAI) -> Any:
    with client.responses.stream(model=MODEL, input="hi") as stream:
        return stream.get_final_response().output_text


def chat_http_error(client: OpenAI) -> Any:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, **scenario("error_429"))
    return (info.value.status_code, info.value.message)


def chat_stream_error(client: OpenAI) -> Any:
    chunks = []
    with pytest.raises(openai.APIError) as info:
        for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **scenario("midstream_error")):
            chunks.append(chunk.choices[0].delta.content)
    return (type(info.value), str(info.value), len(chunks))


CALLS: dict[str, Callable[[OpenAI], Any]] = {
    "chat": chat_text,
    "chat_stream": chat_stream_text,
    "chat_helper": chat_helper_text,
    "responses_helper": responses_stream_text,
    "http_error": chat_http_error,
    "stream_error": chat_stream_error,
}


def test_the_calls_are_untouched(
    client: OpenAI, server: FakeLLMServer, captured: SpanCapture, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, call in CALLS.items():
        with monkeypatch.context() as untraced:
            untraced.setattr("tracekit._config.get", lambda: type("S", (), {"enabled": False})())
            expected = call(client)
        server.clear()
        captured.clear()

        with _errors.lenient():
            got = call(client)

        assert got == expected, name
        if name in ("chat", "chat_stream", "chat_helper"):
            assert got == TEXT
        assert len(server.requests) == 1, name
        # A failed wrap() leaves a stream helper's manager unproxied: its create() then
        # runs outside the suppression and is traced on its own (degraded, never broken).
        limit = 2 if (fault == "hook:wrap" and name.endswith("helper")) else 1
        assert len(captured.spans) <= limit, name
        server.clear()


async def test_async_stream_untouched(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture, fault: str) -> None:
    with _errors.lenient():
        stream = await aclient.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert text == TEXT
    assert len(server.requests) == 1
    assert len(captured.spans) <= 1

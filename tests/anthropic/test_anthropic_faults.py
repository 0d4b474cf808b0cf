"""Fault injection: whichever mapping step breaks, the app gets the identical result
or exception, and the server sees exactly one request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from anthropic_spans import MODEL, USER, WEATHER_TOOL, scenario

from tracekit import _errors
from tracekit._providers.anthropic._accumulate import NotPlain
from tracekit._providers.anthropic._mapping import accumulate
from tracekit._providers.anthropic._patches import MessagesEndpoint
from tracekit.testing._fakeserver import FakeLLMServer

INPUTS: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": USER, "tools": [WEATHER_TOOL]}
HOOKS = ["span_name", "on_request", "wrap", "on_response", "on_chunk", "on_stream_end", "on_error"]


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected fault")


def _not_plain(*args: Any, **kwargs: Any) -> Any:
    raise NotPlain


def _non_stream(client: anthropic.Anthropic) -> Any:
    message = client.messages.create(**INPUTS, **scenario("tool_call"))
    return [b.model_dump() for b in message.content], message.stop_reason, message.usage.output_tokens


def _stream(client: anthropic.Anthropic) -> Any:
    stream = client.messages.create(**INPUTS, stream=True, **scenario("tool_call"))
    return [event.type for event in stream]


def _stream_break(client: anthropic.Anthropic) -> Any:
    with client.messages.create(**INPUTS, stream=True) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                return event.delta.text
    return None


def _helper(client: anthropic.Anthropic) -> Any:
    with client.messages.stream(**INPUTS) as stream:
        return "".join(stream.text_stream), stream.get_final_message().stop_reason


def _helper_final(client: anthropic.Anthropic) -> Any:
    with client.messages.stream(**INPUTS, **scenario("tool_call")) as stream:
        return [b.model_dump() for b in stream.get_final_message().content]


def _raw_stream(client: anthropic.Anthropic) -> Any:
    return [event.type for event in client.messages.with_raw_response.create(**INPUTS, stream=True).parse()]


def _error(client: anthropic.Anthropic) -> Any:
    try:
        client.messages.create(**INPUTS, **scenario("error_529"))
    except anthropic.APIStatusError as exc:
        return type(exc), exc.status_code, exc.body
    return None


def _midstream_error(client: anthropic.Anthropic) -> Any:
    seen = []
    try:
        with client.messages.stream(**INPUTS, **scenario("midstream_error")) as stream:
            seen.extend(stream.text_stream)
    except anthropic.APIStatusError as exc:
        return seen, type(exc), exc.body
    return None


def _helper_error_at_enter(client: anthropic.Anthropic) -> Any:
    try:
        with client.messages.stream(**INPUTS, **scenario("error_400")):
            pass
    except anthropic.APIStatusError as exc:
        return type(exc), exc.status_code
    return None


CALLS: list[Callable[[anthropic.Anthropic], Any]] = [
    _non_stream,
    _stream,
    _stream_break,
    _helper,
    _helper_final,
    _raw_stream,
    _error,
    _midstream_error,
    _helper_error_at_enter,
]


def _untraced(call: Callable[[anthropic.Anthropic], Any], client: anthropic.Anthropic) -> Any:
    import tracekit

    tracekit.anthropic.autolog(disable=True)
    try:
        return call(client)
    finally:
        tracekit.anthropic.autolog()


@pytest.mark.allow_internal_errors
@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("call", CALLS, ids=lambda f: f.__name__.strip("_"))
def test_a_failing_hook_changes_nothing(
    client: anthropic.Anthropic,
    server: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
    hook: str,
    call: Callable[[anthropic.Anthropic], Any],
) -> None:
    expected = _untraced(call, client)
    server.clear()
    monkeypatch.setattr(MessagesEndpoint, hook, _boom)
    with _errors.lenient():
        assert call(client) == expected
    assert len(server.requests) == 1


@pytest.mark.allow_internal_errors
def test_the_accumulator_falls_back_when_the_sdk_one_fails(client: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    events = list(client.messages.create(**INPUTS, stream=True, **scenario("tool_call")))
    sdk = accumulate(events)
    # neither the plain-dict accumulation nor the SDK's takes these events
    monkeypatch.setattr("tracekit._providers.anthropic._mapping.accumulate_plain", _not_plain)
    monkeypatch.setattr("anthropic.lib.streaming._messages.accumulate_event", _boom)
    fallback = accumulate(events)
    assert fallback["content"] == [{k: v for k, v in b.items() if k in fallback["content"][0]} for b in sdk["content"]]
    assert fallback["content"][0]["input"] == sdk["content"][0]["input"]
    assert fallback["stop_reason"] == sdk["stop_reason"] == "tool_use"
    assert fallback["usage"]["output_tokens"] == sdk["usage"]["output_tokens"]

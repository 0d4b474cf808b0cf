"""Failures and safety blocks. An API error: status ERROR, the exception event, the
HTTP status and error type, the app sees the SDK's own exception. A safety block is an
answer, not an error: status OK, the block reason as finish reason and attribute."""

from __future__ import annotations

from typing import Any

import pytest
from gemini_spans import MODEL, PROMPT, USER, attributes, dump, generate_attributes, make_client, only_span
from google.genai import errors

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

_ERRORS = [("error_400", 400, errors.ClientError), ("error_429", 429, errors.ClientError), ("error_500", 500, errors.ServerError)]


def _assert_error_span(
    span: Any, server: FakeLLMServer, status: int, exc_type: type, stream: bool, stream_ended: bool = True
) -> None:
    assert span.status == "ERROR"
    assert span.status_message.startswith(exc_type.__name__)
    expected = generate_attributes(server, inputs={"model": MODEL, "contents": USER}, response=None)
    expected.update({"error.type": exc_type.__name__, "http.response.status_code": status})
    if stream:
        expected["tracekit.stream"] = True
    if stream and stream_ended:
        # a sync stream sends its request on the first next(): the error ends the stream
        expected.update({"tracekit.stream.chunks": 0, "tracekit.stream.end_reason": "error", "tracekit.stream.incomplete": True})
    assert attributes(span) == expected
    [event] = span.events
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"].endswith(exc_type.__name__)


@pytest.mark.parametrize(("scenario", "status", "exc_type"), _ERRORS)
def test_sync_error(
    client: Any, server: FakeLLMServer, captured: SpanCapture, scenario: str, status: int, exc_type: type
) -> None:
    server.set_scenario(scenario)
    with pytest.raises(exc_type) as raised:
        client.models.generate_content(model=MODEL, contents=PROMPT)
    assert raised.value.code == status
    _assert_error_span(only_span(captured), server, status, exc_type, stream=False)
    assert len(server.requests) == 1


@pytest.mark.parametrize(("scenario", "status", "exc_type"), _ERRORS)
async def test_async_error(
    aclient: Any, server: FakeLLMServer, captured: SpanCapture, scenario: str, status: int, exc_type: type
) -> None:
    server.set_scenario(scenario)
    with pytest.raises(exc_type):
        await aclient.models.generate_content(model=MODEL, contents=PROMPT)
    _assert_error_span(only_span(captured), server, status, exc_type, stream=False)


def test_sync_stream_error(server: FakeLLMServer, captured: SpanCapture) -> None:
    client = make_client(server, scenario="error_429")  # the scenario chosen by a client header
    with pytest.raises(errors.ClientError):
        for _ in client.models.generate_content_stream(model=MODEL, contents=PROMPT):
            pass
    _assert_error_span(only_span(captured), server, 429, errors.ClientError, stream=True)
    client.close()


async def test_async_stream_error(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("error_500")
    with pytest.raises(errors.ServerError):
        async for _ in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT):
            pass
    # the async request is sent (and fails) before the SDK hands out its inner stream:
    # no stream was started, so no chunk count or end reason
    _assert_error_span(only_span(captured), server, 500, errors.ServerError, stream=True, stream_ended=False)


def test_prompt_blocked(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("safety_block")
    reply = client.models.generate_content(model=MODEL, contents=PROMPT)

    assert reply.text is None and reply.prompt_feedback.block_reason == "SAFETY"
    span = only_span(captured)
    assert span.status == "OK"
    expected = generate_attributes(server, inputs={"model": MODEL, "contents": USER}, response=dump(reply))
    assert expected["tracekit.gemini.block_reason"] == "SAFETY"
    assert expected["gen_ai.response.finish_reasons"] == ["SAFETY"]
    assert attributes(span) == expected


async def test_async_stream_prompt_blocked(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("safety_block")
    chunks = [c async for c in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)]

    assert len(chunks) == 1
    span = only_span(captured)
    assert span.status == "OK"
    assert attributes(span) == generate_attributes(
        server, inputs={"model": MODEL, "contents": USER}, response=dump(chunks[0]), stream=True, chunks=1
    )
    assert span.attributes["tracekit.gemini.block_reason"] == "SAFETY"


def test_response_blocked(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("safety_block_response")
    reply = client.models.generate_content(model=MODEL, contents=PROMPT)

    span = only_span(captured)
    assert span.status == "OK"
    assert attributes(span) == generate_attributes(server, inputs={"model": MODEL, "contents": USER}, response=dump(reply))
    assert span.attributes["gen_ai.response.finish_reasons"] == ["SAFETY"]
    assert "tracekit.gemini.block_reason" not in span.attributes

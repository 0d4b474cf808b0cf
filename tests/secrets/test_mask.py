"""The ``mask`` hook's contract and per-field masking with ``tracekit.mask_fields`` (issue 9)."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

import openai
import pytest

import tracekit
from tracekit._mask import MASK_FAILED
from tracekit.testing import FakeLLMServer, SpanCapture


@dataclasses.dataclass
class User:
    name: str
    ssn: str


@pytest.fixture
def openai_traced() -> Iterator[None]:
    tracekit.openai.autolog()
    yield
    tracekit.openai.autolog(disable=True)


def test_the_mask_sees_each_whole_value_in_its_json_shape(captured: SpanCapture) -> None:
    seen: list[tuple[str, Any]] = []

    def mask(key: str, value: Any) -> Any:
        seen.append((key, value))
        return value

    tracekit.configure(mask=mask)

    @tracekit.trace
    def lookup(user: User, tags: set[str]) -> User:
        return user

    lookup(User("Ann", "123-45-6789"), {"x"})
    # a dataclass, a set: the mask gets the JSON that will be recorded, not the objects
    assert seen == [
        ("mlflow.spanInputs", {"user": {"name": "Ann", "ssn": "123-45-6789"}, "tags": ["x"]}),
        ("mlflow.spanOutputs", {"name": "Ann", "ssn": "123-45-6789"}),
    ]


def test_a_per_field_mask_works_on_objects_too(captured: SpanCapture) -> None:
    # the mask the docs used to suggest: with objects it silently redacted nothing
    tracekit.configure(mask=lambda key, value: {**value, "ssn": "***"} if isinstance(value, dict) and "ssn" in value else value)

    @tracekit.trace
    def lookup(name: str) -> User:
        return User(name, "123-45-6789")

    lookup("Ann")
    assert captured.spans[0].outputs == {"name": "Ann", "ssn": "***"}


def test_mask_fields_masks_a_field_at_any_depth_and_inside_json_text(captured: SpanCapture) -> None:
    tracekit.configure(mask=tracekit.mask_fields("ssn", "EMAIL", "*_token"))

    @tracekit.trace
    def handle(request: dict[str, Any], user: User) -> dict[str, Any]:
        return {"reply": "ok", "tool_call": {"arguments": json.dumps({"ssn": "987", "city": "Oslo"})}}

    handle({"people": [{"Email": "a@b.c", "age": 3}], "refresh_token": "r", "page": 1}, User("Ann", "123"))
    (span,) = captured.spans
    assert span.inputs == {
        "request": {"people": [{"Email": "[REDACTED]", "age": 3}], "refresh_token": "[REDACTED]", "page": 1},
        "user": {"name": "Ann", "ssn": "[REDACTED]"},
    }
    assert span.outputs == {"reply": "ok", "tool_call": {"arguments": '{"ssn": "[REDACTED]", "city": "Oslo"}'}}


def test_mask_fields_on_an_llm_span(
    server: FakeLLMServer, captured: SpanCapture, openai_traced: None
) -> None:
    tracekit.configure(mask=tracekit.mask_fields("ssn", replacement="<ssn>"))
    tools = [
        {
            "type": "function",
            "function": {
                "name": "find_person",
                "parameters": {"type": "object", "properties": {"ssn": {"type": "string"}}, "required": ["ssn"]},
            },
        }
    ]
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "who is it?", "ssn": "123-45-6789"}],  # type: ignore[misc]
        tools=tools,  # type: ignore[arg-type]
        extra_headers={"x-fake-scenario": "tool_call"},
    )
    sent_arguments = json.loads(reply.choices[0].message.tool_calls[0].function.arguments)  # type: ignore[union-attr]
    assert "ssn" in sent_arguments  # the app got the real value
    (span,) = captured.spans
    assert span.inputs["messages"] == [{"role": "user", "content": "who is it?", "ssn": "<ssn>"}]
    # the response object reached the mask as JSON: the tool call's arguments are masked too
    recorded = json.loads(span.outputs["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert recorded == {**sent_arguments, "ssn": "<ssn>"}
    assert "123-45-6789" not in json.dumps(span.attributes.get("mlflow.spanInputs"))


def test_a_mask_that_raises_records_a_marker_never_the_value(
    captured: SpanCapture, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(key: str, value: Any) -> Any:
        raise KeyError("oops")

    tracekit.configure(mask=broken)

    @tracekit.trace
    def f(ssn: str) -> str:
        return ssn

    assert f("123") == "123"
    assert f("456") == "456"
    assert [(s.inputs, s.outputs) for s in captured.spans] == [(MASK_FAILED, MASK_FAILED)] * 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["tracekit: the mask raised KeyError; the value is recorded as '[REDACTED: mask failed]'"]


def test_mask_fields_needs_names() -> None:
    with pytest.raises(ValueError, match="one or more field names"):
        tracekit.mask_fields()

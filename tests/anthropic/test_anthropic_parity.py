"""Parity: a streamed call's span says what the non-streamed call's span says
(content with full tool inputs and thinking, usage, stop reason, served model)."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic_spans import MODEL, USER, WEATHER_TOOL, attributes, only_span, scenario

from tracekit.testing import SpanCapture

SAME = ("mlflow.chat.tokenUsage", "gen_ai.response.finish_reasons", "gen_ai.response.model", "mlflow.llm.model")


def _span_of(captured: SpanCapture) -> dict[str, Any]:
    values = attributes(only_span(captured))
    captured.clear()
    output = values["mlflow.spanOutputs"]
    assert output.pop("id").startswith("msg_")
    for block in output["content"]:
        # per-request ids (toolu_fake_<n>_<i>, fake-signature-<n>) differ between the calls
        for key in ("id", "signature"):
            if key in block:
                assert block.pop(key)
    return values


@pytest.mark.parametrize("name", ["text", "tool_call", "tool_calls_2", "cached_usage", "thinking", "model_mismatch"])
def test_streamed_equals_non_streamed(client: anthropic.Anthropic, captured: SpanCapture, name: str) -> None:
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": USER, "tools": [WEATHER_TOOL]}
    kwargs.update(scenario(name))
    if name == "thinking":
        kwargs["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    message = client.messages.create(**kwargs)
    whole = _span_of(captured)
    for _ in client.messages.create(**kwargs, stream=True):
        pass
    streamed = _span_of(captured)
    with client.messages.stream(**kwargs) as stream:
        stream.until_done()
    helper = _span_of(captured)

    assert streamed["mlflow.spanOutputs"] == whole["mlflow.spanOutputs"] == helper["mlflow.spanOutputs"]
    for key in SAME:
        assert streamed[key] == whole[key] == helper[key], key
    assert streamed["tracekit.stream.chunks"] == helper["tracekit.stream.chunks"]
    if name.startswith("tool_call"):
        inputs = [b["input"] for b in streamed["mlflow.spanOutputs"]["content"] if b["type"] == "tool_use"]
        assert inputs == [b.input for b in message.content if b.type == "tool_use"]
        assert all(set(i) == {"city", "unit"} for i in inputs)
    if name == "thinking":
        assert streamed["mlflow.spanOutputs"]["content"][0]["type"] == "thinking"
    if name == "model_mismatch":
        assert whole["gen_ai.request.model"] == MODEL and whole["gen_ai.response.model"] == f"{MODEL}-served"

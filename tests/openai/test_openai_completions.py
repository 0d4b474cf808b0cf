"""The legacy completions.create: the whole span, streamed or not, sync and async."""

from __future__ import annotations

from typing import Any

from openai import AsyncOpenAI, OpenAI
from openai_helpers import TEXT, attrs, base_attrs, only_span, stream_attrs, usage_attrs, without_timing

from tracekit import _attributes as attr
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

LEGACY_MODEL = "gpt-3.5-turbo-instruct"


def expected(server: FakeLLMServer, response_id: str, usage: Any = None) -> dict[str, Any]:
    values = base_attrs(server, model=LEGACY_MODEL, operation="text_completion", span_type="LLM")
    values.update(
        {
            attr.GEN_AI_OUTPUT_TYPE: "text",
            attr.GEN_AI_RESPONSE_ID: response_id,
            attr.GEN_AI_FINISH_REASONS: ["stop"],
            attr.GEN_AI_REQUEST_MAX_TOKENS: 30,
        }
    )
    if usage is not None:
        values.update(usage_attrs(usage["prompt_tokens"], usage["completion_tokens"]))
    return values


def test_create(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.completions.create(model=LEGACY_MODEL, prompt="Say hello", max_tokens=30)

    span = only_span(captured)
    assert (span.name, span.span_type, span.status) == (f"text_completion {LEGACY_MODEL}", "LLM", "OK")
    assert span.inputs == {"model": LEGACY_MODEL, "prompt": "Say hello", "max_tokens": 30}
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == expected(server, result.id, result.usage.to_dict())


def test_create_stream(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    chunks = list(
        client.completions.create(
            model=LEGACY_MODEL, prompt="Say hello", max_tokens=30, stream=True, stream_options={"include_usage": True}
        )
    )

    span = only_span(captured)
    usage = chunks[-1].usage.to_dict()
    assert span.outputs == {
        "object": "text_completion",
        "id": chunks[0].id,
        "created": chunks[0].created,
        "model": LEGACY_MODEL,
        "system_fingerprint": "fp_fake",
        "usage": usage,
        "choices": [{"index": 0, "finish_reason": "stop", "text": TEXT}],
    }
    assert without_timing(attrs(span)) == expected(server, chunks[0].id, usage) | stream_attrs(len(chunks))


async def test_async_create_stream(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    stream = await aclient.completions.create(model=LEGACY_MODEL, prompt="Say hello", max_tokens=30, stream=True)
    chunks = [c async for c in stream]

    span = only_span(captured)
    assert span.outputs["choices"][0]["text"] == TEXT
    assert without_timing(attrs(span)) == expected(server, chunks[0].id) | stream_attrs(len(chunks))

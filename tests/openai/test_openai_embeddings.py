"""embeddings.create: the whole span, sync and async, float and base64."""

from __future__ import annotations

import pytest
from openai import AsyncOpenAI, OpenAI
from openai_helpers import attrs, base_attrs, only_span, scenario, usage_attrs

from tracekit import _attributes as attr
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

EMBED_MODEL = "text-embedding-3-small"


def expected(server: FakeLLMServer, result: object, dimensions: int) -> dict[str, object]:
    usage = result.usage  # type: ignore[attr-defined]
    values = base_attrs(server, model=EMBED_MODEL, operation="embeddings", span_type="EMBEDDING", message_format=False)
    values.update(usage_attrs(usage.prompt_tokens, 0))
    values[attr.GEN_AI_EMBEDDINGS_DIMENSION] = dimensions
    return values


@pytest.mark.parametrize("encoding", ["float", None])
def test_create(client: OpenAI, server: FakeLLMServer, captured: SpanCapture, encoding: str | None) -> None:
    kwargs = {"encoding_format": encoding} if encoding else {}
    result = client.embeddings.create(model=EMBED_MODEL, input=["first text", "second text"], dimensions=4, **kwargs)

    assert len(result.data) == 2
    span = only_span(captured)
    assert (span.name, span.span_type, span.status) == (f"embeddings {EMBED_MODEL}", "EMBEDDING", "OK")
    assert span.inputs == {"model": EMBED_MODEL, "input": ["first text", "second text"], "dimensions": 4, **kwargs}
    assert span.outputs["model"] == EMBED_MODEL
    assert len(span.outputs["data"]) == 2
    if encoding == "float":
        assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == expected(server, result, 4)


async def test_async_create(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = await aclient.embeddings.create(model=EMBED_MODEL, input="one text", encoding_format="float")

    span = only_span(captured)
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == expected(server, result, 8)


def test_error(client: OpenAI, captured: SpanCapture) -> None:
    with pytest.raises(Exception) as info:
        client.embeddings.create(model=EMBED_MODEL, input="x", **scenario("error_400"))

    span = only_span(captured)
    assert span.status == "ERROR"
    assert (span.attributes[attr.HTTP_STATUS_CODE], span.attributes[attr.ERROR_TYPE]) == (400, type(info.value).__name__)

"""models.embed_content (sync and client.aio): one EMBEDDING span."""

from __future__ import annotations

from typing import Any

from gemini_spans import EMBED_MODEL, attributes, dump, only_span, server_attributes

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def _expected(server: FakeLLMServer, reply: Any, inputs: dict[str, Any], dims: int) -> dict[str, Any]:
    return {
        "mlflow.spanType": "EMBEDDING",
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.system": "gemini",
        "mlflow.llm.provider": "gemini",
        "gen_ai.request.model": EMBED_MODEL,
        "mlflow.llm.model": EMBED_MODEL,
        "gen_ai.embeddings.dimension.count": dims,
        "mlflow.spanInputs": inputs,
        "mlflow.spanOutputs": dump(reply),
        **server_attributes(server),
    }


def test_sync_embed(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    reply = client.models.embed_content(model=EMBED_MODEL, contents=["a cat", "a dog"])

    assert len(reply.embeddings) == 2
    span = only_span(captured)
    assert (span.name, span.span_type, span.status) == (f"embeddings {EMBED_MODEL}", "EMBEDDING", "OK")
    assert attributes(span) == _expected(server, reply, {"model": EMBED_MODEL, "contents": ["a cat", "a dog"]}, 8)


async def test_async_embed_with_config(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    reply = await aclient.models.embed_content(
        model=EMBED_MODEL, contents="a cat", config={"output_dimensionality": 4, "task_type": "RETRIEVAL_QUERY"}
    )

    assert len(reply.embeddings[0].values) == 4
    inputs = {
        "model": EMBED_MODEL,
        "contents": "a cat",
        "config": {"output_dimensionality": 4, "task_type": "RETRIEVAL_QUERY"},
    }
    assert attributes(only_span(captured)) == _expected(server, reply, inputs, 4)

"""Where the request went: both Gemini API versions, gateway-style base paths, and a
per-request base URL override."""

from __future__ import annotations

from typing import Any

import pytest
from gemini_spans import MODEL, PROMPT, USER, attributes, dump, generate_attributes, make_client, only_span
from google import genai
from google.genai import types

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


@pytest.mark.parametrize("api_version", ["v1", "v1beta"])
def test_api_versions(server: FakeLLMServer, captured: SpanCapture, api_version: str) -> None:
    client = make_client(server, api_version=api_version)
    reply = client.models.generate_content(model=MODEL, contents=PROMPT)

    assert server.last_request is not None
    assert server.last_request.path == f"/{api_version}/models/{MODEL}:generateContent"
    assert attributes(only_span(captured)) == generate_attributes(
        server, inputs={"model": MODEL, "contents": USER}, response=dump(reply)
    )
    client.close()


@pytest.mark.parametrize("api_version", ["v1", "v1beta"])
async def test_api_versions_async_stream(server: FakeLLMServer, captured: SpanCapture, api_version: str) -> None:
    client = make_client(server, api_version=api_version)
    async for _ in await client.aio.models.generate_content_stream(model=MODEL, contents=PROMPT):
        pass

    assert server.last_request is not None
    assert server.last_request.path == f"/{api_version}/models/{MODEL}:streamGenerateContent"
    assert only_span(captured).attributes["tracekit.stream.end_reason"] == "exhausted"
    await client.aio.aclose()


@pytest.mark.parametrize("base_path", ["/gateway/gemini", "/serving-endpoints", "/v1"])
def test_gateway_base_paths(server: FakeLLMServer, captured: SpanCapture, base_path: str) -> None:
    client = make_client(server, base_path=base_path)
    reply = client.models.generate_content(model=MODEL, contents=PROMPT)
    client.models.embed_content(model="text-embedding-004", contents="x")

    assert server.requests[0].path == f"{base_path}/v1beta/models/{MODEL}:generateContent"
    generate, embed = captured.spans
    expected = generate_attributes(server, inputs={"model": MODEL, "contents": USER}, response=dump(reply), base_path=base_path)
    kind = {"/gateway/gemini": "mlflow", "/serving-endpoints": "databricks"}.get(base_path)
    if kind:  # the gateway's kind from the base path (a provider's own API has none)
        expected["tracekit.gateway.kind"] = kind
    assert attributes(generate) == expected
    assert embed.attributes["tracekit.gateway.path"] == base_path
    assert embed.attributes.get("tracekit.gateway.kind") == kind
    client.close()


def test_per_request_base_url(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    override = types.HttpOptions(base_url=server.url_for("/gateway/eu"))
    client.models.generate_content(model=MODEL, contents=PROMPT, config=types.GenerateContentConfig(http_options=override))

    assert server.last_request is not None and server.last_request.path.startswith("/gateway/eu/")
    span = only_span(captured)
    assert span.attributes["tracekit.gateway.path"] == "/gateway/eu"
    assert attributes(span)["mlflow.spanInputs"] == {"model": MODEL, "contents": USER}  # http_options never recorded


def test_vertex_ai_client(server: FakeLLMServer, captured: SpanCapture) -> None:
    # Vertex AI express mode (API key) through a gateway: Vertex's provider names
    client = genai.Client(
        vertexai=True, api_key="vertex-test", http_options=types.HttpOptions(base_url=server.url_for("/vertex"))
    )
    reply = client.models.generate_content(model=MODEL, contents=PROMPT)

    assert server.last_request is not None
    assert server.last_request.path == f"/vertex/v1beta1/publishers/google/models/{MODEL}:generateContent"
    expected = generate_attributes(server, inputs={"model": MODEL, "contents": USER}, response=dump(reply), base_path="/vertex")
    expected.update({"gen_ai.provider.name": "gcp.vertex_ai", "gen_ai.system": "vertex_ai", "mlflow.llm.provider": "vertex_ai"})
    assert attributes(only_span(captured)) == expected
    client.close()

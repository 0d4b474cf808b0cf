"""What a gateway tells a google-genai client (read from the response's
``sdk_http_response.headers``), and the cost of each call."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from gemini_spans import MODEL, PROMPT, make_client, only_span
from google.genai import errors

import tracekit
from tracekit import _attributes as attr
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def genai_prices() -> Any:
    """genai-prices (the ``tracekit[pricing]`` extra): required in CI, a skip elsewhere."""
    if os.environ.get("CI") == "true":
        import genai_prices as module

        return module
    return pytest.importorskip("genai_prices", reason="needs tracekit[pricing] (genai-prices)")


@pytest.mark.parametrize("stream", [False, True])
def test_litellm_headers(server: FakeLLMServer, captured: SpanCapture, stream: bool) -> None:
    headers = {"x-litellm-model-name": "gemini-2.5-flash-001", "x-litellm-call-id": "g-1", "x-litellm-response-cost": "0.0001"}
    server.set_scenario("text", response_headers=headers)
    client = make_client(server, base_path="/gemini")
    if stream:
        for _ in client.models.generate_content_stream(model="flash-alias", contents=PROMPT):
            pass
    else:
        reply = client.models.generate_content(model="flash-alias", contents=PROMPT)
        assert reply.sdk_http_response is not None and reply.sdk_http_response.headers is not None
        assert reply.sdk_http_response.headers["x-litellm-call-id"] == "g-1"  # the app's view is untouched
    client.close()
    tracekit.flush(timeout=10)
    a = only_span(captured).attributes
    assert {k: a.get(k) for k in (attr.GATEWAY_KIND, attr.GATEWAY_CALL_ID, attr.GATEWAY_MODEL_ALIAS, attr.LLM_MODEL)} == {
        attr.GATEWAY_KIND: "litellm",
        attr.GATEWAY_CALL_ID: "g-1",
        attr.GATEWAY_MODEL_ALIAS: "flash-alias",
        attr.LLM_MODEL: "gemini-2.5-flash-001",
    }
    assert (a[attr.COST_TOTAL], a[attr.COST_SOURCE]) == (0.0001, "gateway")


def test_mlflow_gateway_error_body(server: FakeLLMServer, captured: SpanCapture) -> None:
    detail = {"detail": "Rate limit exceeded"}
    server.set_scenario("error_429", error_body=detail, response_headers={"x-mlflow-gateway-duration-ms": "3"})
    client = make_client(server, base_path="/gateway/gemini")
    with pytest.raises(errors.ClientError):
        client.models.generate_content(model="gemini-endpoint", contents=PROMPT)
    client.close()
    a = only_span(captured).attributes
    assert (a[attr.GATEWAY_KIND], a[attr.GATEWAY_DURATION_MS], a[attr.HTTP_STATUS_CODE]) == ("mlflow", 3.0, 429)
    assert json.loads(a[attr.ERROR_BODY]) == detail


@pytest.mark.parametrize("scenario", ["cached_usage", "thinking"])
def test_cost_with_cached_and_thinking_tokens(server: FakeLLMServer, captured: SpanCapture, scenario: str) -> None:
    prices = genai_prices()
    server.set_scenario(scenario)
    client = make_client(server)
    client.models.generate_content(model=MODEL, contents=PROMPT)
    client.close()
    tracekit.flush(timeout=10)
    a = only_span(captured).attributes
    usage: dict[str, int] = {"input_tokens": a[attr.GEN_AI_USAGE_INPUT], "output_tokens": a[attr.GEN_AI_USAGE_OUTPUT]}
    if scenario == "cached_usage":
        usage["cache_read_tokens"] = a[attr.GEN_AI_USAGE_CACHE_READ]
    else:
        usage["output_reasoning_tokens"] = a[attr.GEN_AI_USAGE_REASONING]
    expected = prices.calc_price(prices.Usage(**usage), MODEL, provider_id="google")
    assert json.loads(a[attr.LLM_COST]) == {
        "input_cost": float(expected.input_price),
        "output_cost": float(expected.output_price),
        "total_cost": float(expected.total_price),
    }
    assert (a[attr.COST_TOTAL], a[attr.COST_SOURCE]) == (float(expected.total_price), "genai-prices")


def test_unknown_model_is_unpriced(server: FakeLLMServer, captured: SpanCapture) -> None:
    genai_prices()
    client = make_client(server)
    client.models.generate_content(model="my-tuned-gemini", contents=PROMPT)
    client.close()
    tracekit.flush(timeout=10)
    a = only_span(captured).attributes
    assert a[attr.COST_UNPRICED] is True and attr.COST_TOTAL not in a

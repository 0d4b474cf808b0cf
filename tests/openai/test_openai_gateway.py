"""What a gateway tells an OpenAI client (kind, served model, ids, overhead, cost,
error body), and the cost of each call: real SDK, fake server answering like
LiteLLM Proxy, MLflow AI Gateway, Kong or Databricks."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from openai import OpenAI, RateLimitError
from openai_helpers import MESSAGES, MODEL, only_span

import tracekit
from tracekit import _attributes as attr
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

LITELLM = {
    "x-litellm-model-name": "gpt-4o-mini-2024-07-18",
    "x-litellm-call-id": "9f1c-call",
    "x-litellm-response-cost": "0.00042",
    "x-litellm-overhead-duration-ms": "3.5",
    "x-litellm-response-duration-ms": "120.25",
}
GATEWAY_KEYS = (
    attr.GATEWAY_KIND,
    attr.GATEWAY_CALL_ID,
    attr.GATEWAY_MODEL_ALIAS,
    attr.GATEWAY_OVERHEAD_MS,
    attr.GATEWAY_DURATION_MS,
    attr.GATEWAY_UPSTREAM_MS,
    attr.REQUEST_ID,
    attr.ERROR_BODY,
    attr.GEN_AI_REQUEST_MODEL,
    attr.GEN_AI_RESPONSE_MODEL,
    attr.LLM_MODEL,
    attr.COST_INPUT,
    attr.COST_OUTPUT,
    attr.COST_TOTAL,
    attr.COST_SOURCE,
    attr.COST_UNPRICED,
    attr.GEN_AI_USAGE_COST,
    attr.LLM_COST,
)


def genai_prices() -> Any:
    """genai-prices (the ``tracekit[pricing]`` extra): required in CI, a skip elsewhere."""
    if os.environ.get("CI") == "true":
        import genai_prices as module

        return module
    return pytest.importorskip("genai_prices", reason="needs tracekit[pricing] (genai-prices)")


def gateway_facts(span: Any) -> dict[str, Any]:
    """The gateway, model and cost attributes of a span (JSON ones decoded)."""
    values = {k: span.attributes[k] for k in GATEWAY_KEYS if k in span.attributes}
    if attr.LLM_COST in values:
        values[attr.LLM_COST] = json.loads(values[attr.LLM_COST])
    return values


def gateway_cost(total: float) -> dict[str, Any]:
    return {
        attr.COST_TOTAL: total,
        attr.GEN_AI_USAGE_COST: total,
        attr.LLM_COST: {"total_cost": total},
        attr.COST_SOURCE: "gateway",
    }


@pytest.mark.parametrize("stream", [False, True])
def test_litellm_served_model_call_id_overhead_and_cost(server: FakeLLMServer, captured: SpanCapture, stream: bool) -> None:
    server.set_scenario("text", response_headers=LITELLM)
    with OpenAI(base_url=server.url_for("/v1"), api_key="sk-litellm", max_retries=0) as client:
        if stream:
            chunks = list(client.chat.completions.create(model="my-alias", messages=MESSAGES, stream=True))
            assert {c.model for c in chunks} == {"my-alias"}  # the app's chunks are untouched
        else:
            raw = client.chat.completions.with_raw_response.create(model="my-alias", messages=MESSAGES)
            assert raw.headers["x-litellm-call-id"] == "9f1c-call"  # the app still reads every header
            assert raw.parse().model == "my-alias"
    tracekit.flush(timeout=10)  # the price table must not override the gateway's cost
    assert gateway_facts(only_span(captured)) == {
        attr.GATEWAY_KIND: "litellm",
        attr.GATEWAY_CALL_ID: "9f1c-call",
        attr.GATEWAY_MODEL_ALIAS: "my-alias",
        attr.GATEWAY_OVERHEAD_MS: 3.5,
        attr.GATEWAY_DURATION_MS: 120.25,
        attr.REQUEST_ID: "req_fake_1",
        attr.GEN_AI_REQUEST_MODEL: "my-alias",
        attr.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        attr.LLM_MODEL: "gpt-4o-mini-2024-07-18",
        **gateway_cost(0.00042),
    }


def test_mlflow_gateway_path_headers_and_error_body(server: FakeLLMServer, captured: SpanCapture) -> None:
    detail = {"detail": "Rate limit exceeded for endpoint 'chat': 10 requests per minute"}
    server.set_scenario("error_429", error_body=detail, response_headers={"x-mlflow-gateway-duration-ms": "12"})
    client = OpenAI(base_url=server.url_for("/gateway/openai/v1"), api_key="unused", max_retries=0)
    with client, pytest.raises(RateLimitError) as caught:
        client.chat.completions.create(model="chat", messages=MESSAGES)
    assert caught.value.body == detail  # the app's exception is the SDK's own
    span = only_span(captured)
    assert span.status == "ERROR"
    assert span.attributes[attr.HTTP_STATUS_CODE] == 429
    assert gateway_facts(span) == {
        attr.GATEWAY_KIND: "mlflow",
        attr.GATEWAY_DURATION_MS: 12.0,
        attr.REQUEST_ID: "req_fake_1",
        attr.ERROR_BODY: json.dumps(detail),
        attr.GEN_AI_REQUEST_MODEL: "chat",
        attr.LLM_MODEL: "chat",
    }


def test_mlflow_gateway_overhead_on_success(server: FakeLLMServer, captured: SpanCapture) -> None:
    headers = {"x-mlflow-gateway-overhead-duration-ms": "1.25", "x-mlflow-gateway-duration-ms": "40"}
    server.set_scenario("text", response_headers=headers)
    client = OpenAI(base_url=server.url_for("/gateway/mlflow/v1"), api_key="unused", max_retries=0)
    with client, client.chat.completions.stream(model="chat", messages=MESSAGES) as stream:
        stream.until_done()
    facts = gateway_facts(only_span(captured))
    assert (facts[attr.GATEWAY_KIND], facts[attr.GATEWAY_OVERHEAD_MS], facts[attr.GATEWAY_DURATION_MS]) == ("mlflow", 1.25, 40.0)


def test_kong_headers(server: FakeLLMServer, captured: SpanCapture) -> None:
    headers = {"via": "1.1 kong/3.9.1", "x-kong-proxy-latency": "2", "x-kong-upstream-latency": "110", "x-kong-request-id": "k-7"}
    server.set_scenario("text", response_headers=headers)
    with OpenAI(base_url=server.url_for("/openai"), api_key="k", max_retries=0) as client:
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    facts = gateway_facts(only_span(captured))
    assert {
        k: facts[k] for k in (attr.GATEWAY_KIND, attr.GATEWAY_CALL_ID, attr.GATEWAY_OVERHEAD_MS, attr.GATEWAY_UPSTREAM_MS)
    } == {
        attr.GATEWAY_KIND: "kong",
        attr.GATEWAY_CALL_ID: "k-7",
        attr.GATEWAY_OVERHEAD_MS: 2.0,
        attr.GATEWAY_UPSTREAM_MS: 110.0,
    }


def test_databricks_by_base_path(server: FakeLLMServer, captured: SpanCapture) -> None:
    with OpenAI(base_url=server.url_for("/serving-endpoints"), api_key="dapi-x", max_retries=0) as client:
        client.responses.create(model="databricks-claude", input="hi")
    assert only_span(captured).attributes[attr.GATEWAY_KIND] == "databricks"


def test_a_providers_own_api_has_no_gateway_kind(client: OpenAI, captured: SpanCapture) -> None:
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    span = only_span(captured)
    assert attr.GATEWAY_KIND not in span.attributes
    assert span.attributes[attr.REQUEST_ID] == "req_fake_1"


@pytest.mark.parametrize("stream", [False, True])
def test_cost_from_the_price_table_with_cached_and_reasoning_tokens(
    client: OpenAI, server: FakeLLMServer, captured: SpanCapture, stream: bool
) -> None:
    prices = genai_prices()
    server.set_scenario("cached_usage")
    if stream:
        for _ in client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        ):
            pass
    else:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    tracekit.flush(timeout=10)
    span = only_span(captured)
    a = span.attributes
    assert a[attr.GEN_AI_USAGE_CACHE_READ] == 100
    usage = prices.Usage(
        input_tokens=a[attr.GEN_AI_USAGE_INPUT],
        output_tokens=a[attr.GEN_AI_USAGE_OUTPUT],
        cache_read_tokens=a[attr.GEN_AI_USAGE_CACHE_READ],
        cache_write_tokens=a[attr.GEN_AI_USAGE_CACHE_CREATION],
    )
    expected = prices.calc_price(usage, MODEL, provider_id="openai")
    input_usd, output_usd, total = float(expected.input_price), float(expected.output_price), float(expected.total_price)
    assert gateway_facts(span) == {
        attr.REQUEST_ID: "req_fake_1",
        attr.GEN_AI_REQUEST_MODEL: MODEL,
        attr.GEN_AI_RESPONSE_MODEL: MODEL,
        attr.LLM_MODEL: MODEL,
        attr.COST_INPUT: input_usd,
        attr.COST_OUTPUT: output_usd,
        attr.COST_TOTAL: total,
        attr.GEN_AI_USAGE_COST: total,
        attr.LLM_COST: {"input_cost": input_usd, "output_cost": output_usd, "total_cost": total},
        attr.COST_SOURCE: "genai-prices",
    }
    assert total > 0


def test_reasoning_tokens_are_priced_as_output(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    prices = genai_prices()
    server.set_scenario("reasoning")
    client.responses.create(model="o4-mini", input="hi")
    tracekit.flush(timeout=10)
    a = only_span(captured).attributes
    usage = prices.Usage(
        input_tokens=a[attr.GEN_AI_USAGE_INPUT],
        output_tokens=a[attr.GEN_AI_USAGE_OUTPUT],
        output_reasoning_tokens=a[attr.GEN_AI_USAGE_REASONING],
    )
    assert a[attr.COST_TOTAL] == float(prices.calc_price(usage, "o4-mini", provider_id="openai").total_price)


def test_an_unknown_model_is_marked_unpriced(client: OpenAI, captured: SpanCapture) -> None:
    genai_prices()
    client.chat.completions.create(model="acme-private-model-7", messages=MESSAGES)
    tracekit.flush(timeout=10)
    facts = gateway_facts(only_span(captured))
    assert facts[attr.COST_UNPRICED] is True
    assert not {attr.COST_TOTAL, attr.LLM_COST, attr.GEN_AI_USAGE_COST} & set(facts)

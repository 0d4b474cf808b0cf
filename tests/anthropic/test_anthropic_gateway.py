"""What a gateway tells an Anthropic client, and the cost of each call (real SDK,
fake server answering like LiteLLM Proxy or MLflow AI Gateway)."""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic
import pytest
from anthropic_spans import MODEL, USER, only_span

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


@pytest.mark.parametrize("helper", [False, True])
def test_litellm_served_model_and_cost(server: FakeLLMServer, captured: SpanCapture, helper: bool) -> None:
    headers = {
        "x-litellm-model-name": "claude-haiku-4-5-20251001",
        "x-litellm-call-id": "c-1",
        "x-litellm-response-cost": "0.002",
    }
    server.set_scenario("text", response_headers=headers)
    with anthropic.Anthropic(base_url=server.url_for("/anthropic"), api_key="sk-litellm", max_retries=0) as client:
        if helper:
            with client.messages.stream(model="claude-fast", max_tokens=16, messages=USER) as stream:
                message = stream.get_final_message()
        else:
            message = client.messages.create(model="claude-fast", max_tokens=16, messages=USER)
    assert message.model == "claude-fast"  # what the app gets is untouched
    tracekit.flush(timeout=10)
    a = only_span(captured).attributes
    assert {k: a.get(k) for k in (attr.GATEWAY_KIND, attr.GATEWAY_CALL_ID, attr.GATEWAY_MODEL_ALIAS, attr.REQUEST_ID)} == {
        attr.GATEWAY_KIND: "litellm",
        attr.GATEWAY_CALL_ID: "c-1",
        attr.GATEWAY_MODEL_ALIAS: "claude-fast",
        attr.REQUEST_ID: "req_fake_1",
    }
    assert (a[attr.GEN_AI_RESPONSE_MODEL], a[attr.LLM_MODEL]) == ("claude-haiku-4-5-20251001",) * 2
    assert (a[attr.COST_TOTAL], a[attr.COST_SOURCE], json.loads(a[attr.LLM_COST])) == (0.002, "gateway", {"total_cost": 0.002})


def test_mlflow_gateway_error_body(server: FakeLLMServer, captured: SpanCapture) -> None:
    detail = {"detail": "Upstream provider returned 529: overloaded"}
    server.set_scenario("error_529", error_body=detail)
    client = anthropic.Anthropic(base_url=server.url_for("/gateway/anthropic"), api_key="unused", max_retries=0)
    with client, pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(model="claude-endpoint", max_tokens=16, messages=USER)
    assert caught.value.status_code == 529
    a = only_span(captured).attributes
    assert (a[attr.GATEWAY_KIND], a[attr.ERROR_BODY], a[attr.HTTP_STATUS_CODE]) == ("mlflow", json.dumps(detail), 529)


@pytest.mark.parametrize("stream", [False, True])
def test_cost_with_cache_reads_and_writes(
    client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture, stream: bool
) -> None:
    prices = genai_prices()
    server.set_scenario("cached_usage")
    if stream:
        with client.messages.stream(model=MODEL, max_tokens=16, messages=USER) as s:
            s.until_done()
    else:
        client.messages.create(model=MODEL, max_tokens=16, messages=USER)
    tracekit.flush(timeout=10)
    a = only_span(captured).attributes
    assert (a[attr.GEN_AI_USAGE_CACHE_READ], a[attr.GEN_AI_USAGE_CACHE_CREATION]) == (100, 50)
    # tracekit's input count includes the cached and cache-write tokens, as genai-prices' does
    usage = prices.Usage(
        input_tokens=a[attr.GEN_AI_USAGE_INPUT],
        output_tokens=a[attr.GEN_AI_USAGE_OUTPUT],
        cache_read_tokens=100,
        cache_write_tokens=50,
    )
    expected = prices.calc_price(usage, MODEL, provider_id="anthropic")
    costs = {
        "input_cost": float(expected.input_price),
        "output_cost": float(expected.output_price),
        "total_cost": float(expected.total_price),
    }
    assert json.loads(a[attr.LLM_COST]) == costs
    assert (a[attr.COST_INPUT], a[attr.COST_OUTPUT], a[attr.COST_TOTAL]) == tuple(costs.values())
    assert (a[attr.GEN_AI_USAGE_COST], a[attr.COST_SOURCE]) == (costs["total_cost"], "genai-prices")
    assert attr.GATEWAY_KIND not in a


def test_unknown_model_is_unpriced(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    genai_prices()
    client.messages.create(model="claude-internal-finetune", max_tokens=16, messages=USER)
    tracekit.flush(timeout=10)
    a = only_span(captured).attributes
    assert a[attr.COST_UNPRICED] is True and attr.LLM_COST not in a

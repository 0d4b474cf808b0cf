"""The fake server playing a gateway: extra response headers (per server and per
request) and a gateway's error body, over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tracekit.testing._fakeserver import FakeLLMServer

MESSAGES = [{"role": "user", "content": "hi"}]


def test_response_headers_option_and_per_request_header(server: FakeLLMServer, openai_client: Any) -> None:
    server.set_scenario("text", response_headers={"x-litellm-call-id": "c-1"})
    raw = openai_client.chat.completions.with_raw_response.create(
        model="m", messages=MESSAGES, extra_headers={"x-fake-response-headers": json.dumps({"x-kong-request-id": "k-1"})}
    )
    assert (raw.headers["x-litellm-call-id"], raw.headers["x-kong-request-id"]) == ("c-1", "k-1")
    assert raw.headers["x-request-id"] == "req_fake_1"  # the provider's own headers stay
    with openai_client.chat.completions.with_streaming_response.create(model="m", messages=MESSAGES, stream=True) as streamed:
        assert streamed.headers["x-litellm-call-id"] == "c-1"
        assert "x-kong-request-id" not in streamed.headers


def test_a_bad_response_headers_header_is_a_clear_400(openai_client: Any) -> None:
    with pytest.raises(openai.BadRequestError, match="x-fake-response-headers"):
        openai_client.chat.completions.create(model="m", messages=MESSAGES, extra_headers={"x-fake-response-headers": "[1]"})


def test_error_body_replaces_the_providers_shape(server: FakeLLMServer, openai_client: Any) -> None:
    server.set_scenario("error_429", error_body={"detail": "slow down"})
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.body == {"detail": "slow down"}
    server.set_scenario("text", error_body={"detail": "unused"})
    assert openai_client.chat.completions.create(model="m", messages=MESSAGES).choices  # success bodies are untouched

"""tracekit's callback inside a real LiteLLM Proxy: one whole span per request, read back
from the local store the proxy writes (TRACEKIT_TRACKING_URI=sqlite:///...)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

import tracekit
from tracekit.testing import SpanCapture

from .proxy import ANTHROPIC_MODEL, SECRETS, LiteLLMProxy, llm_attributes, wait_spans

PORT_KEYS = ("server.port",)


def _common(upstream_port: int) -> dict[str, Any]:
    return {
        "mlflow.spanType": "CHAT_MODEL",
        "mlflow.message.format": "openai",
        "gen_ai.operation.name": "chat",
        "gen_ai.output.type": "text",
        "server.address": "127.0.0.1",
        "server.port": upstream_port,
        "tracekit.litellm.cache_hit": False,
        "tracekit.litellm.attempted_retries": 0,
        "tracekit.litellm.attempted_fallbacks": 0,
        "tracekit.litellm.user_id": "default_user_id",  # the master key's user: no virtual-key alias/team without a DB
    }


def _openai(upstream_port: int) -> dict[str, Any]:
    return {
        **_common(upstream_port),
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "mlflow.llm.provider": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "mlflow.llm.model": "gpt-4o-mini",
        "tracekit.litellm.model_group": "gpt-4o-mini",
        "tracekit.litellm.deployment": "openai/gpt-4o-mini",
        "tracekit.litellm.api_base": f"http://127.0.0.1:{upstream_port}/v1",
    }


def _nonce() -> str:
    return uuid.uuid4().hex[:12]


def _usage_and_cost(prompt_tokens: int, completion_tokens: int, in_price: float, out_price: float) -> dict[str, Any]:
    usage = {"input_tokens": prompt_tokens, "output_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
    cost = {
        "input_cost": prompt_tokens * in_price,
        "output_cost": completion_tokens * out_price,
        "total_cost": prompt_tokens * in_price + completion_tokens * out_price,
    }
    return {
        "gen_ai.usage.input_tokens": prompt_tokens,
        "gen_ai.usage.output_tokens": completion_tokens,
        "mlflow.chat.tokenUsage": usage,
        "mlflow.llm.cost": pytest.approx(cost),
        # the same cost under the keys every LLM span carries, marked as LiteLLM's own
        "gen_ai.usage.cost": pytest.approx(cost["total_cost"]),
        "tracekit.cost.input_usd": pytest.approx(cost["input_cost"]),
        "tracekit.cost.output_usd": pytest.approx(cost["output_cost"]),
        "tracekit.cost.total_usd": pytest.approx(cost["total_cost"]),
        "tracekit.cost.source": "litellm",
    }


def _decoded(span_attributes: dict[str, Any]) -> dict[str, Any]:
    out = dict(span_attributes)
    for key in ("mlflow.chat.tokenUsage", "mlflow.llm.cost", "mlflow.spanInputs", "mlflow.spanOutputs"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


GPT_4O_MINI = (1.5e-07, 6e-07)  # USD per input / output token in LiteLLM's local price table


def test_chat_not_streamed(client: OpenAI, store_path: Path, fake_llm_server: Any) -> None:
    messages = [{"role": "user", "content": f"hello {_nonce()}"}]
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages, temperature=0.5, seed=7)
    call_id = raw.headers["x-litellm-call-id"]
    completion = raw.parse()
    span = wait_spans(store_path, [call_id])[call_id]

    assert span.name == "litellm chat gpt-4o-mini"
    assert (span.status, span.parent_id, span.events) == ("OK", None, [])
    assert span.attributes["tracekit.litellm.call_id"] == call_id
    assert span.attributes["gen_ai.response.id"] == completion.id
    usage = completion.usage
    assert usage is not None
    expected = {
        **_openai(fake_llm_server.port),
        **_usage_and_cost(usage.prompt_tokens, usage.completion_tokens, *GPT_4O_MINI),
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.seed": 7,
        "gen_ai.response.finish_reasons": ["stop"],
        "mlflow.spanInputs": {"model": "gpt-4o-mini", "messages": messages, "temperature": 0.5, "seed": 7},
    }
    attributes = _decoded(llm_attributes(span))
    outputs = attributes.pop("mlflow.spanOutputs")
    assert attributes == expected
    assert outputs["choices"][0]["message"]["content"] == completion.choices[0].message.content
    assert outputs["usage"]["prompt_tokens"] == usage.prompt_tokens
    assert span.attributes.get("session.id") is None and span.attributes.get("user.id") is None


def test_chat_streamed_is_accumulated(client: OpenAI, store_path: Path, fake_llm_server: Any) -> None:
    messages = [{"role": "user", "content": f"stream {_nonce()}"}]
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    ) as response:
        call_id = response.headers["x-litellm-call-id"]
        text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
    span = wait_spans(store_path, [call_id])[call_id]

    assert text == "Hello! This is the fake LLM server."
    attributes = _decoded(llm_attributes(span))
    outputs = attributes.pop("mlflow.spanOutputs")
    assert outputs["object"] == "chat.completion"
    assert outputs["choices"][0]["message"]["content"] == text
    assert outputs["choices"][0]["finish_reason"] == "stop"
    prompt_tokens = outputs["usage"]["prompt_tokens"]
    assert attributes == {
        **_openai(fake_llm_server.port),
        **_usage_and_cost(prompt_tokens, 20, *GPT_4O_MINI),
        "gen_ai.response.finish_reasons": ["stop"],
        "tracekit.stream": True,
        "mlflow.spanInputs": {
            "model": "gpt-4o-mini",
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    }
    assert span.attributes["tracekit.stream.time_to_first_token_ms"] > 0
    assert [e["name"] for e in span.events] == ["gen_ai.first_token"]


def test_anthropic_through_the_unified_route(client: OpenAI, store_path: Path, fake_llm_server: Any) -> None:
    messages = [{"role": "user", "content": f"claude {_nonce()}"}]
    raw = client.chat.completions.with_raw_response.create(model="claude-haiku", messages=messages, max_tokens=64)
    call_id = raw.headers["x-litellm-call-id"]
    span = wait_spans(store_path, [call_id])[call_id]

    request = fake_llm_server.requests[-1]
    assert (request.provider, request.path) == ("anthropic", "/v1/messages")  # LiteLLM called the Messages API
    attributes = _decoded(llm_attributes(span))
    outputs = attributes.pop("mlflow.spanOutputs")
    assert outputs["choices"][0]["message"]["content"] == "Hello! This is the fake LLM server."
    usage = outputs["usage"]
    assert attributes == {
        **_common(fake_llm_server.port),
        **_usage_and_cost(usage["prompt_tokens"], usage["completion_tokens"], 1e-06, 5e-06),
        "gen_ai.provider.name": "anthropic",
        "gen_ai.system": "anthropic",
        "mlflow.llm.provider": "anthropic",
        "gen_ai.request.model": "claude-haiku",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.model": ANTHROPIC_MODEL,  # the served model, not the proxy's alias
        "mlflow.llm.model": ANTHROPIC_MODEL,
        "gen_ai.response.finish_reasons": ["stop"],
        "tracekit.litellm.model_group": "claude-haiku",
        "tracekit.litellm.deployment": f"anthropic/{ANTHROPIC_MODEL}",
        "tracekit.litellm.api_base": f"http://127.0.0.1:{fake_llm_server.port}/v1/messages",
        "mlflow.spanInputs": {"model": "claude-haiku", "messages": messages, "max_tokens": 64},
    }


def test_upstream_error_is_an_error_span(client: OpenAI, store_path: Path, fake_llm_server: Any) -> None:
    messages = [{"role": "user", "content": f"fail {_nonce()} [scenario:error_500]"}]
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    call_id = caught.value.response.headers["x-litellm-call-id"]
    span = wait_spans(store_path, [call_id])[call_id]

    assert span.status == "ERROR"
    assert span.status_message is not None and span.status_message.startswith("InternalServerError: ")
    assert [e["name"] for e in span.events] == ["exception"]
    assert span.events[0]["attributes"]["exception.type"] == "InternalServerError"
    attributes = _decoded(llm_attributes(span))
    assert attributes == {
        **_openai(fake_llm_server.port),
        "error.type": "InternalServerError",
        "http.response.status_code": 500,
        "mlflow.spanInputs": {"model": "gpt-4o-mini", "messages": messages},
    }


def test_traceparent_makes_the_span_a_child_of_the_callers(
    client: OpenAI, store_path: Path, captured: SpanCapture, fake_llm_server: Any
) -> None:
    """The client's span (here a tracekit span in the test process) is the parent."""
    with tracekit.start_span("client llm", span_type="CHAT_MODEL") as client_span:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"traced {_nonce()}"}],
            extra_headers={"traceparent": client_span.traceparent or ""},
            user="end-user-1",
            extra_body={"metadata": {"session_id": "conv-1"}},
        )
    call_id = raw.headers["x-litellm-call-id"]
    span = wait_spans(store_path, [call_id])[call_id]

    assert span.trace_id == client_span.trace_id
    assert span.parent_id == client_span.span_id
    assert span.attributes["tracekit.remote_parent"] is True
    assert span.attributes["tracekit.litellm.end_user"] == "end-user-1"
    # the client's trace owns session and user: a child does not set them
    assert "session.id" not in span.attributes and "user.id" not in span.attributes
    assert "metadata" not in span.inputs  # the proxy's own metadata (with the caller's key hash) is never recorded


def test_without_traceparent_each_request_is_a_trace_grouped_by_session_and_user(client: OpenAI, store_path: Path) -> None:
    call_ids = []
    for i in range(2):
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"turn {i} {_nonce()}"}],
            user="end-user-2",
            extra_body={"metadata": {"session_id": "conv-2"}},
        )
        call_ids.append(raw.headers["x-litellm-call-id"])
    spans = wait_spans(store_path, call_ids)

    first, second = (spans[c] for c in call_ids)
    assert first.trace_id != second.trace_id
    for span in (first, second):
        assert span.parent_id is None
        assert (span.attributes["session.id"], span.attributes["user.id"]) == ("conv-2", "end-user-2")


def test_no_secret_reaches_the_store(client: OpenAI, store_proxy: LiteLLMProxy, store_path: Path) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"secret check {_nonce()}"}]
    )
    wait_spans(store_path, [raw.headers["x-litellm-call-id"]])
    data = b"".join(p.read_bytes() for p in store_path.parent.glob("traces.db*"))
    for secret in (*SECRETS, "litellm_proxy_master_key"):
        assert secret.encode() not in data
    store_proxy.assert_no_internal_errors()


def test_anthropic_native_messages_route_is_recorded_as_it_is(store_proxy: LiteLLMProxy, store_path: Path) -> None:
    """``/v1/messages`` (LiteLLM's Anthropic-format route) is not OpenAI-shaped: the span
    holds the request and LiteLLM's logged response as they are, usage from LiteLLM."""
    import anthropic

    client = anthropic.Anthropic(base_url=store_proxy.base_url, api_key=SECRETS[0], max_retries=0)
    messages = [{"role": "user", "content": f"native {_nonce()}"}]
    raw = client.messages.with_raw_response.create(model="claude-haiku", max_tokens=32, messages=messages)  # type: ignore[arg-type]
    call_id = raw.headers["x-litellm-call-id"]
    message = raw.parse()
    span = wait_spans(store_path, [call_id])[call_id]

    assert (span.name, span.span_type, span.status) == ("litellm anthropic_messages claude-haiku", "LLM", "OK")
    assert span.inputs == {"model": "claude-haiku", "max_tokens": 32, "messages": messages}
    assert span.attributes["gen_ai.operation.name"] == "anthropic_messages"
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert "mlflow.message.format" not in span.attributes
    usage = json.loads(span.attributes["mlflow.chat.tokenUsage"])
    assert (usage["input_tokens"], usage["output_tokens"]) == (message.usage.input_tokens, message.usage.output_tokens)
    assert span.outputs is not None

"""SDK request options that carry credentials are never recorded (issue 9).

Each test sends a real SDK request to the fake server with keys planted in every
option that can carry one -- per-request query and headers, the client's default
query and headers, credentials in the base URL, Gemini's ``http_options`` in both
spellings -- proves the request did carry them, and then searches the whole span.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

import tracekit
from tracekit.testing import FakeLLMServer, SpanCapture

SECRETS = ("q-secret", "xq-secret", "h-secret", "dh-secret", "url-secret", "g-secret", "gq-secret")


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    tracekit.autolog()
    yield
    tracekit.autolog(disable=True)


def _span_text(captured: SpanCapture) -> str:
    (span,) = captured.spans
    return json.dumps({"name": span.name, "attributes": dict(span.attributes), "events": span.events}, default=str)


def _assert_clean(text: str) -> None:
    found = [s for s in SECRETS if s in text]
    assert not found, f"the span holds {found}: {text[:2000]}"


def _with_credentials(url: str) -> str:
    return url.replace("http://", "http://user:url-secret@", 1)


def test_openai_query_headers_and_url_credentials(server: FakeLLMServer, captured: SpanCapture) -> None:
    client = openai.OpenAI(
        base_url=_with_credentials(server.openai_base_url),
        api_key="sk-secret-test-key",
        default_query={"api-key": "q-secret"},
        default_headers={"x-gateway-key": "dh-secret"},
        max_retries=0,
    )
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        extra_query={"key": "xq-secret"},
        extra_headers={"x-gateway-auth": "Bearer h-secret"},
        max_tokens=5,
    )
    sent = server.last_request
    assert sent is not None and sent.query == {"api-key": "q-secret", "key": "xq-secret"}
    assert sent.headers["x-gateway-auth"] == "Bearer h-secret"
    assert sent.headers["authorization"].startswith("Basic ")  # httpx: the URL's user information
    text = _span_text(captured)
    _assert_clean(text)
    assert "sk-secret-test-key" not in text
    (span,) = captured.spans
    assert span.inputs == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    assert span.attributes["tracekit.base_url"] == server.openai_base_url
    assert span.attributes["server.address"] == "127.0.0.1"


def test_anthropic_query_headers_and_url_credentials(server: FakeLLMServer, captured: SpanCapture) -> None:
    client = anthropic.Anthropic(
        base_url=_with_credentials(server.anthropic_base_url),
        api_key="sk-ant-secret",
        default_query={"api-key": "q-secret"},
        default_headers={"x-gateway-key": "dh-secret"},
        max_retries=0,
    )
    client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=16,
        messages=[{"role": "user", "content": "hi"}],
        extra_query={"key": "xq-secret"},
        extra_headers={"x-api-key-override": "h-secret"},
    )
    sent = server.last_request
    assert sent is not None and sent.query == {"api-key": "q-secret", "key": "xq-secret"}
    text = _span_text(captured)
    _assert_clean(text)
    assert "sk-ant-secret" not in text
    (span,) = captured.spans
    assert span.inputs == {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def _gemini(server: FakeLLMServer) -> genai.Client:
    return genai.Client(
        api_key="gemini-secret-key",
        http_options=types.HttpOptions(
            base_url=_with_credentials(server.gemini_base_url),
            headers={"x-gateway-key": "dh-secret"},
            extra_body=None,
        ),
    )


@pytest.mark.parametrize("spelling", ["http_options", "httpOptions"])
def test_gemini_http_options_in_a_request_config(server: FakeLLMServer, captured: SpanCapture, spelling: str) -> None:
    client = _gemini(server)
    config: dict[str, Any] = {
        "temperature": 0.5,
        spelling: {"headers": {"x-goog-api-key": "g-secret", "authorization": "Bearer h-secret"}},
    }
    client.models.generate_content(model="gemini-2.5-flash", contents="hi", config=config)
    sent = server.last_request
    assert sent is not None and sent.headers["x-goog-api-key"] == "g-secret"
    text = _span_text(captured)
    _assert_clean(text)
    assert "gemini-secret-key" not in text
    (span,) = captured.spans
    assert span.inputs["config"] == {"temperature": 0.5}


@pytest.mark.parametrize("spelling", ["http_options", "httpOptions"])
def test_gemini_embed_config_http_options(server: FakeLLMServer, captured: SpanCapture, spelling: str) -> None:
    client = _gemini(server)
    config: dict[str, Any] = {"output_dimensionality": 8, spelling: {"headers": {"x-goog-api-key": "g-secret"}}}
    client.models.embed_content(model="gemini-embedding-001", contents=["a cat"], config=config)
    sent = server.last_request
    assert sent is not None and sent.headers["x-goog-api-key"] == "g-secret"
    _assert_clean(_span_text(captured))
    (span,) = captured.spans
    assert "http_options" not in json.dumps(span.inputs) and "httpOptions" not in json.dumps(span.inputs)

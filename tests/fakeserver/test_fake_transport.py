"""The in-process httpx2 transports: the same answers with no sockets."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import types

from tracekit.testing._fakeserver import AsyncFakeTransport, FakeLLM, FakeLLMServer, FakeTransport

TEXT = "Hello! This is the fake LLM server."
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prove the transports never open a connection."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the in-process transport opened a socket")

    monkeypatch.setattr("socket.create_connection", refuse)


def test_openai_sync_with_default_http_client() -> None:
    transport = FakeTransport()
    with openai.OpenAI(
        api_key="k",
        base_url="http://fake.invalid/v1",
        max_retries=0,
        http_client=openai.DefaultHttpxClient(transport=transport),
    ) as client:
        assert client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == TEXT
        with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
            assert stream.get_final_completion().choices[0].message.content == TEXT
        with client.responses.stream(model="m", input="hi") as rstream:
            assert rstream.get_final_response().output_text == TEXT
    assert transport.last_request is not None and transport.last_request.path == "/v1/responses"
    assert len(transport.requests) == 3


def test_errors_and_broken_streams_map_like_the_network() -> None:
    transport = FakeTransport()
    with openai.OpenAI(
        api_key="k", base_url="http://fake.invalid/v1", max_retries=0, http_client=httpx2.Client(transport=transport)
    ) as client:
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="m", messages=MESSAGES, extra_headers={"x-fake-scenario": "error_429"})
        with pytest.raises(openai.APIConnectionError):
            list(
                client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True, extra_headers={"x-fake-scenario": "disconnect"}
                )
            )
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model="m", messages=MESSAGES, extra_headers={"x-fake-scenario": "disconnect"})
        with pytest.raises(openai.APIError):
            list(
                client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True, extra_headers={"x-fake-scenario": "midstream_error"}
                )
            )


async def test_async_openai_and_anthropic_share_one_app() -> None:
    app = FakeLLM(scenario="tool_call")
    async with (
        openai.AsyncOpenAI(
            api_key="k",
            base_url="http://fake.invalid/v1",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(transport=AsyncFakeTransport(app)),
        ) as oai,
        anthropic.AsyncAnthropic(
            api_key="k",
            base_url="http://fake.invalid",
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=AsyncFakeTransport(app)),
        ) as claude,
    ):
        reply = await oai.chat.completions.create(model="m", messages=MESSAGES, extra_headers={"x-fake-delay": "0.001"})
        assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
        async with claude.messages.stream(model="c", max_tokens=10, messages=MESSAGES) as stream:
            final = await stream.get_final_message()
        assert final.content[0].input == {"location": "Paris"}
    assert [r.provider for r in app.requests] == ["openai", "anthropic"]


async def test_genai_sync_and_async_clients() -> None:
    app = FakeLLM()
    client = genai.Client(
        api_key="k",
        http_options=types.HttpOptions(
            base_url="http://fake.invalid",
            httpx_client=httpx2.Client(transport=FakeTransport(app)),
            httpx_async_client=httpx2.AsyncClient(transport=AsyncFakeTransport(app)),
        ),
    )
    assert "".join(c.text for c in client.models.generate_content_stream(model="g", contents="hi")) == TEXT
    chunks = [c.text async for c in await client.aio.models.generate_content_stream(model="g", contents="hi")]
    assert "".join(chunks) == TEXT
    assert [r.endpoint for r in app.requests] == ["streamGenerateContent"] * 2


def test_server_and_transport_can_share_records(server: FakeLLMServer) -> None:
    with openai.OpenAI(
        api_key="k",
        base_url="http://fake.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=FakeTransport(server.app)),
    ) as client:
        client.embeddings.create(model="e", input="x")
    assert server.last_request is not None and server.last_request.endpoint == "embeddings"

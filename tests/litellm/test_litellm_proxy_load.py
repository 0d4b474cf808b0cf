"""Under load and at shutdown: 50 concurrent streamed requests through a real LiteLLM Proxy
give 50 whole spans, and the spans of requests answered just before SIGTERM still land
(tracekit's exit drain under uvicorn)."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from tracekit.testing import FakeLLMServer

from .proxy import MASTER_KEY, LiteLLMProxy, need_litellm, spans_by_call_id, wait_spans

TEXT = "Hello! This is the fake LLM server."


@pytest.fixture
def own_proxy(tmp_path: Path, fake_llm: FakeLLMServer) -> Iterator[LiteLLMProxy]:
    need_litellm()
    proxy = LiteLLMProxy(tmp_path / "proxy", fake_llm.url, {"TRACEKIT_TRACKING_URI": f"sqlite:///{tmp_path / 'load.db'}"})
    proxy.start()
    try:
        proxy.wait_ready()
        yield proxy
    finally:
        proxy.stop()


async def _streams(proxy: LiteLLMProxy, n: int, tag: str) -> list[str]:
    """``n`` concurrent streamed chat requests; their LiteLLM call ids."""
    client = AsyncOpenAI(base_url=f"{proxy.base_url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=60)

    async def one(i: int) -> str:
        async with client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"{tag} {i}"}],
            stream=True,
            stream_options={"include_usage": True},
        ) as response:
            call_id = response.headers["x-litellm-call-id"]
            text = "".join([c.choices[0].delta.content or "" async for c in await response.parse() if c.choices])
        assert text == TEXT
        return call_id

    try:
        return list(await asyncio.gather(*(one(i) for i in range(n))))
    finally:
        await client.close()


async def test_fifty_concurrent_streams_give_fifty_whole_spans(
    own_proxy: LiteLLMProxy, fake_llm: FakeLLMServer, tmp_path: Path
) -> None:
    fake_llm.set_scenario("text", delay=0.01)  # 20 chunks, 10 ms apart: the streams overlap
    call_ids = await _streams(own_proxy, 50, "load")
    assert len(set(call_ids)) == 50
    spans = await asyncio.to_thread(wait_spans, tmp_path / "load.db", call_ids)

    assert len({s.trace_id for s in spans.values()}) == 50  # no traceparent: one trace each
    for i, call_id in enumerate(call_ids):
        span = spans[call_id]
        assert (span.name, span.status, span.parent_id) == ("litellm chat gpt-4o-mini", "OK", None)
        assert span.inputs["messages"] == [{"role": "user", "content": f"load {i}"}]
        assert span.outputs["choices"][0]["message"]["content"] == TEXT
        assert json.loads(span.attributes["mlflow.chat.tokenUsage"])["output_tokens"] == 20
        assert span.attributes["tracekit.stream"] is True
    own_proxy.assert_no_internal_errors()


async def test_spans_still_queued_at_shutdown_are_drained_by_the_exit_hook(fake_llm: FakeLLMServer, tmp_path: Path) -> None:
    """With a background export interval of an hour, only the shutdown drain can write
    these spans. uvicorn ends a SIGTERM shutdown by raising SIGTERM again under the default
    handler (the process dies of it, no atexit hook runs): the callback's chained SIGTERM
    handler drains."""
    need_litellm()
    store = tmp_path / "exit.db"
    env = {"TRACEKIT_TRACKING_URI": f"sqlite:///{store}", "TRACEKIT_EXPORT_INTERVAL": "3600"}
    proxy = LiteLLMProxy(tmp_path / "proxy", fake_llm.url, env)
    proxy.start()
    try:
        proxy.wait_ready()
        call_ids = await _streams(proxy, 10, "last")
        # SIGTERM right after the last answers: LiteLLM runs their callbacks during uvicorn's
        # graceful shutdown, and the chained handler flushes each span as it ends
        assert spans_by_call_id(store) == {}  # nothing exported before the exit
    finally:
        code = proxy.stop()
    assert code == -signal.SIGTERM  # uvicorn's way to end: re-raised under the default handler
    spans = spans_by_call_id(store)
    assert sorted(spans) == sorted(call_ids)
    proxy.assert_no_internal_errors()

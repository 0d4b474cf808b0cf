"""Merging a stream with less dumping gives exactly the whole-dump merge.

``merge_stream`` dumps each chunk's candidates alone and every other field once; its
dict is recorded as ``mlflow.spanOutputs``, so it must equal
``merge_chunks([response_json(c) ...])`` byte for byte (key order included) on every
fake-server stream scenario, cut after any chunk; odd chunks take the whole-dump path.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from gemini_spans import MODEL, USER
from google import genai
from google.genai import types

from tracekit._providers.gemini._accumulate import merge_chunks, merge_stream
from tracekit._providers.gemini._mapping import response_json
from tracekit.testing._fakeserver import SCENARIOS, FakeLLMServer
from tracekit.testing._fakeserver._scenarios import ERROR_STATUS

STREAMED = [name for name in SCENARIOS if name not in ERROR_STATUS]


def _chunks(client: genai.Client, name: str, **config: Any) -> list[Any]:
    options = types.GenerateContentConfig(http_options=types.HttpOptions(headers={"x-fake-scenario": name}), **config)
    chunks: list[Any] = []
    try:
        for chunk in client.models.generate_content_stream(model=MODEL, contents=USER, config=options):
            chunks.append(chunk)
    except Exception:
        pass  # midstream_error / disconnect: the chunks before the fault still merge
    return chunks


def _whole(chunks: list[Any]) -> str:
    return json.dumps(merge_chunks([response_json(c) for c in chunks]))


@pytest.mark.parametrize("name", STREAMED)
def test_merge_stream_equals_the_whole_dump_merge_after_every_chunk(client: genai.Client, name: str) -> None:
    chunks = _chunks(client, name)
    for end in range(len(chunks) + 1):
        assert json.dumps(merge_stream(chunks[:end])) == _whole(chunks[:end]), (name, end)


def test_function_call_arguments_and_structured_output(client: genai.Client, server: FakeLLMServer) -> None:
    server.set_scenario("tool_call", tool_arguments={"city": "Oslo", "unit": "c", "days": [1, 2.5]})
    calls = _chunks(client, "tool_call")
    assert json.dumps(merge_stream(calls)) == _whole(calls)
    assert "function_call" in json.dumps(merge_stream(calls))
    structured = _chunks(client, "text", response_mime_type="application/json", response_schema={"type": "OBJECT"})
    assert json.dumps(merge_stream(structured)) == _whole(structured)


def test_fields_set_after_the_stream_are_left_out_like_the_whole_dump(client: genai.Client) -> None:
    chunks = _chunks(client, "text")
    # google-genai 3.4.0 writes its function-calling history on the very chunks it yields
    chunks[-1].automatic_function_calling_history = [types.Content(role="user", parts=[types.Part(text="hi")])]
    chunks[0].create_time = datetime.datetime(2026, 12, 5, 10, tzinfo=datetime.timezone.utc)  # dumped by pydantic
    merged = merge_stream(chunks)
    assert json.dumps(merged) == _whole(chunks)
    assert "automatic_function_calling_history" not in merged and merged["create_time"].startswith("2026-12-05")


def test_odd_chunks_take_the_whole_dump_path(client: genai.Client) -> None:
    chunks = _chunks(client, "text")

    class Odd(types.Candidate):
        pass

    odd = [*chunks[:-1], chunks[-1].model_copy(update={"candidates": [Odd(**dict(chunks[-1].candidates[0]))]})]
    assert json.dumps(merge_stream(odd)) == _whole(odd)
    assert merge_stream([]) == merge_chunks([])

"""The plain-dict merge of chat chunks gives what the SDK's ChatCompletionStreamState
gives (tidied, key order included), on the fake server's scenarios and on chunk
shapes the fake does not send (extra fields, several choices, logprobs)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from openai import OpenAI
from openai._models import construct_type
from openai.types.chat import ChatCompletionChunk

from tracekit._providers.openai import _accumulate as accumulate
from tracekit.testing._fakeserver import FakeLLM, FakeTransport

SCENARIOS = [
    "text",
    "tool_call",
    "tool_calls_2",
    "cutoff",
    "model_mismatch",
    "cached_usage",
    "reasoning",
    "refusal",
    "safety_block",
    "empty_stream",
]


def _chunks(scenario: str, **kwargs: Any) -> list[Any]:
    client = OpenAI(
        api_key="k",
        base_url="http://fake.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=FakeTransport(FakeLLM(scenario))),
    )
    try:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True, **kwargs
        )
        return list(stream)
    except Exception:
        pytest.skip(f"{scenario}: no chat stream")


def _same(chunks: list[Any]) -> dict[str, Any] | None:
    sdk = accumulate.sdk_accumulate_chat(chunks) if chunks else None
    merged = accumulate.accumulate_chat(chunks)
    assert merged == sdk
    assert json.dumps(merged) == json.dumps(sdk)  # key order too: the span's JSON text is the same
    return merged


@pytest.mark.parametrize("usage", [True, False])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_merge_matches_sdk_on_fake_scenarios(scenario: str, usage: bool) -> None:
    chunks = _chunks(scenario, stream_options={"include_usage": usage})
    _same(chunks)
    for n in (1, 2, len(chunks) - 1):  # cut-short streams
        if 0 < n < len(chunks):
            _same(chunks[:n])


def test_merge_takes_the_plain_path_on_fake_scenarios() -> None:
    for scenario in ("text", "tool_call", "tool_calls_2", "refusal"):
        chunks = _chunks(scenario, stream_options={"include_usage": True})
        assert accumulate.merge_chat_chunks(chunks)  # no _NotPlain: the SDK accumulator is not needed


def _chunk(choices: list[dict[str, Any]], **extra: Any) -> Any:
    value = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices, **extra}
    return construct_type(type_=ChatCompletionChunk, value=value)


def _choice(delta: dict[str, Any], index: int = 0, finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish_reason, **extra}


def test_merge_matches_sdk_on_extra_fields_and_choices() -> None:
    chunks = [
        _chunk([_choice({"role": "assistant", "reasoning_content": ""}), _choice({"role": "assistant"}, index=1)]),
        _chunk([_choice({"reasoning_content": "think"})]),
        _chunk([_choice({"content": "He"}), _choice({"content": "Yo"}, index=1)]),
        _chunk([_choice({"content": "llo"}, finish_reason="stop"), _choice({}, index=1, finish_reason="length")]),
        _chunk([], usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),
    ]
    merged = _same(chunks)
    assert merged is not None
    assert merged["choices"][0]["message"]["reasoning_content"] == "think"
    accumulate.merge_chat_chunks(chunks)


def test_merge_matches_sdk_on_tool_call_shapes() -> None:
    chunks = [
        _chunk(
            [
                _choice(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"index": 0, "type": "function", "function": {"name": "f", "arguments": ""}}],
                    }
                )
            ]
        ),
        _chunk(
            [
                _choice(
                    {
                        "tool_calls": [
                            {"index": 0, "id": "call_1", "function": {"arguments": '{"a"'}},
                            {"index": 1, "id": "call_2", "type": "function", "function": {"name": "g"}},
                        ]
                    }
                )
            ]
        ),
        _chunk([_choice({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}, finish_reason="tool_calls")]),
    ]
    _same(chunks)
    _same(chunks[:1])
    _same(chunks[:2])


def test_first_chunk_with_usage_and_one_chunk() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    _same([_chunk([_choice({"role": "assistant", "content": "hi"}, finish_reason="stop")], usage=usage, system_fingerprint="fp")])
    _same([_chunk([_choice({"content": "hi"})]), _chunk([_choice({"content": "!"})], system_fingerprint="fp2")])


def test_logprobs_go_through_the_sdk_accumulator() -> None:
    logprobs = {"content": [{"token": "hi", "logprob": -0.1, "bytes": [104, 105], "top_logprobs": []}], "refusal": None}
    chunks = [
        _chunk([_choice({"role": "assistant", "content": "hi"}, logprobs=logprobs)]),
        _chunk([_choice({"content": "!"}, finish_reason="stop", logprobs=logprobs)]),
    ]
    with pytest.raises(accumulate._NotPlain):
        accumulate.merge_chat_chunks(chunks)
    merged = _same(chunks)
    assert merged is not None and len(merged["choices"][0]["logprobs"]["content"]) == 2

"""The plain-dict stream accumulation gives exactly the SDK accumulator's message.

``accumulate_plain`` replaces anthropic's ``accumulate_event`` for common streams; its
dict is recorded as ``mlflow.spanOutputs``, so it must equal the SDK snapshot's
``model_dump(mode="json")`` byte for byte (key order included) on every fake-server
stream scenario, cut after any event; anything it does not know falls back.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from anthropic_spans import MODEL, USER, WEATHER_TOOL, scenario

from tracekit._providers.anthropic._accumulate import NotPlain, accumulate_plain
from tracekit._providers.anthropic._mapping import _accumulate_with_sdk, accumulate
from tracekit.testing._fakeserver import SCENARIOS
from tracekit.testing._fakeserver._scenarios import ERROR_STATUS

INPUTS: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": USER, "tools": [WEATHER_TOOL]}
STREAMED = [name for name in SCENARIOS if name not in ERROR_STATUS]


def _events(client: anthropic.Anthropic, name: str) -> list[Any]:
    events: list[Any] = []
    try:
        for event in client.messages.create(**INPUTS, stream=True, **scenario(name)):
            events.append(event)
    except (anthropic.APIError, anthropic.APIConnectionError):
        pass  # midstream_error / disconnect: the events before the fault still add up
    return events


def _sdk(events: list[Any]) -> str:
    snapshot = _accumulate_with_sdk(events, False, None)
    return json.dumps(None if snapshot is None else snapshot.model_dump(mode="json", warnings=False))


@pytest.mark.parametrize("name", STREAMED)
def test_plain_accumulation_equals_the_sdk_one_after_every_event(client: anthropic.Anthropic, name: str) -> None:
    events = _events(client, name)
    assert events or name in ("slow_first_token",), name
    for end in range(len(events) + 1):
        cut = events[:end]
        assert json.dumps(accumulate_plain(cut)) == _sdk(cut), (name, end)
    if events:
        # the recorded value is the plain dict, equal to the SDK's
        assert json.dumps(accumulate(events)) == _sdk(events)


def test_the_thinking_scenario_takes_the_plain_path(client: anthropic.Anthropic) -> None:
    message = accumulate_plain(_events(client, "thinking"))
    assert message is not None
    assert [b["type"] for b in message["content"]] == ["thinking", "text"]
    assert message["content"][0]["signature"]


def test_tool_input_is_parsed_like_the_sdk_does(client: anthropic.Anthropic) -> None:
    message = accumulate_plain(_events(client, "tool_calls_2"))
    assert message is not None
    inputs = [b["input"] for b in message["content"] if b["type"] == "tool_use"]
    assert len(inputs) == 2 and all(isinstance(i, dict) and i for i in inputs)


def _with(events: list[Any], index: int, event: Any) -> list[Any]:
    return [*events[:index], event, *events[index:]]


def test_events_it_does_not_know_fall_back_to_the_sdk(client: anthropic.Anthropic) -> None:
    from anthropic.types import CitationsDelta, RawContentBlockDeltaEvent

    events = _events(client, "text")
    citation = RawContentBlockDeltaEvent.construct(
        type="content_block_delta",
        index=0,
        delta=CitationsDelta.construct(
            type="citations_delta",
            citation={
                "type": "char_location",
                "cited_text": "x",
                "document_index": 0,
                "document_title": None,
                "start_char_index": 0,
                "end_char_index": 1,
                "file_id": None,
            },
        ),
    )
    odd = _with(events, 3, citation)
    with pytest.raises(NotPlain):
        accumulate_plain(odd)
    sdk = _accumulate_with_sdk(odd, False, None)
    assert accumulate(odd) is not None and sdk.content[0].citations
    assert json.dumps(accumulate(odd).model_dump(mode="json", warnings=False)) == _sdk(odd)


def test_dict_events_and_beta_streams_use_the_sdk(client: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _events(client, "text")
    with pytest.raises(NotPlain):
        accumulate_plain([e.model_dump() for e in events])
    calls: list[int] = []
    monkeypatch.setattr("tracekit._providers.anthropic._mapping.accumulate_plain", lambda events: calls.append(1))
    accumulate(events, beta=True)
    assert calls == []  # the beta accumulator knows block types the plain path does not


def test_a_delta_for_a_missing_block_falls_back(client: anthropic.Anthropic) -> None:
    events = _events(client, "text")
    start = next(i for i, e in enumerate(events) if e.type == "content_block_start")
    with pytest.raises(NotPlain):
        accumulate_plain(events[:start] + events[start + 1 :])

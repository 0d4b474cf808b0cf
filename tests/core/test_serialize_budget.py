"""Serialization has a budget: objects that fabricate attributes or items on access
cost a bounded amount of work (counted here, never timed), and a value cut to the
size limit keeps the documented shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock

import tracekit
from tracekit import _serialize
from tracekit._serialize import dumps
from tracekit.testing import SpanCapture

LIMIT = 1_000_000


def test_a_mock_is_recorded_by_its_repr_after_one_model_dump_call() -> None:
    mock = MagicMock()
    text, truncated = dumps({"client": mock}, LIMIT)
    assert json.loads(text) == {"client": repr(mock)}
    assert not truncated
    # model_dump() returned another mock: not followed (it used to be, ~1,000 levels deep)
    assert mock.model_dump.call_count == 1
    assert len(mock.mock_calls) <= 2


class Fabricating:
    """Every attribute access makes a new object of its kind (like a mock)."""

    made = 0

    def __init__(self) -> None:
        Fabricating.made += 1

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return Fabricating()

    def __call__(self, *args: Any, **kwargs: Any) -> Fabricating:
        return Fabricating()


def test_an_object_that_fabricates_attributes_costs_a_few_objects() -> None:
    Fabricating.made = 0
    text, _ = dumps([Fabricating(), {"x": Fabricating()}], LIMIT)
    assert json.loads(text)[0].startswith("<")
    assert Fabricating.made <= 12  # 2 given, and at most model_dump/to_dict results per object


class FanOut:
    """to_dict() returns new objects of its kind: an unbounded tree."""

    calls = 0

    def to_dict(self) -> dict[str, Any]:
        FanOut.calls += 1
        return {"left": FanOut(), "right": FanOut(), "more": [FanOut() for _ in range(5)]}


def test_an_unbounded_tree_of_conversions_stops_at_the_budget() -> None:
    FanOut.calls = 0
    text, truncated = dumps(FanOut(), LIMIT)
    assert truncated  # the budget left values out, so the span says it was cut
    assert FanOut.calls <= 2 * _serialize._MAX_CONVERSIONS
    assert _serialize._BUDGET_MARK in text
    json.loads(text)


def test_the_python_walk_visits_a_bounded_number_of_values() -> None:
    """NaN sends a value down the Python walk; 300,000 values are cut at the node budget."""
    huge = [float("nan"), *range(300_000)]
    text, truncated = dumps(huge, 100 * LIMIT)
    data = json.loads(text)
    assert truncated
    assert len(data) <= _serialize._MAX_NODES + 1 and data[-1] == _serialize._BUDGET_MARK


def test_iterators_and_generators_are_never_consumed() -> None:
    pulled = 0

    def endless() -> Iterator[int]:
        nonlocal pulled
        while True:
            pulled += 1
            yield pulled

    gen = endless()
    text, _ = dumps({"stream": gen}, LIMIT)
    assert json.loads(text)["stream"].startswith("<generator object")
    assert pulled == 0


def test_a_mock_as_span_inputs_outputs_and_attribute(captured: SpanCapture) -> None:
    client = MagicMock()
    with tracekit.start_span("uses a mock", inputs={"client": client}) as span:
        span.set_attribute("client", client)
        span.set_outputs(client.chat.completions.create())
    [stored] = captured.spans
    assert stored.inputs == {"client": repr(client)}
    assert stored.attributes["client"] == json.dumps(repr(client))
    assert isinstance(stored.outputs, str) and stored.outputs.startswith("<MagicMock")


# --- truncation keeps the documented shape ------------------------------------------


def test_a_wide_object_is_cut_to_its_first_keys_with_a_count() -> None:
    value = {f"key-{i}": i for i in range(5000)}
    text, truncated = dumps(value, 2000)
    assert truncated and len(text) <= 2000
    data = json.loads(text)
    assert isinstance(data, dict)
    kept = [k for k in data if k != "..."]
    assert kept == [f"key-{i}" for i in range(len(kept))] and data["..."] == f"[{5000 - len(kept)} more keys]"


def test_a_long_list_of_objects_keeps_its_items_shape() -> None:
    value = {"messages": [{"role": "user", "content": "x" * 300} for _ in range(400)]}
    text, truncated = dumps(value, 5000)
    assert truncated and len(text) <= 5000
    data = json.loads(text)
    messages = data["messages"]
    assert messages[-1].startswith("...[") and messages[-1].endswith(" more items]")
    assert all(m["role"] == "user" and m["content"].startswith("xxx") for m in messages[:-1])


def test_the_last_resort_is_the_documented_preview_object() -> None:
    deep: Any = "leaf"
    for _ in range(60):
        deep = {"k": deep}
    text, truncated = dumps(deep, 100)
    assert truncated and len(text) <= 100
    data = json.loads(text)
    assert set(data) == {"truncated", "original_length", "preview"} and data["truncated"] is True

"""``contents_json``'s hand-built fast path for text-only contents gives exactly what the
SDK's own normalization gives (``t_contents`` + ``model_dump(mode="json",
exclude_none=True)``), and every other shape still goes through the SDK."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import _transformers, types

from tracekit._providers.gemini._mapping import contents_json


def _sdk(contents: Any) -> Any:
    return [c.model_dump(mode="json", exclude_none=True) for c in _transformers.t_contents(contents)]


SHAPES: list[Any] = [
    "hi",
    "",
    "naïve \u2603 \U0001f600 text",
    ["a"],
    ["a", "b", ""],
    [{"role": "user", "parts": [{"text": "x"}, {"text": "y"}]}, {"role": "model", "parts": [{"text": "z"}]}],
    [{"role": "user", "parts": []}],
    [{"role": "weird", "parts": [{"text": ""}]}],
    # not the fast path: the SDK decides (grouping, a missing role, parts as dicts, objects)
    [{"parts": [{"text": "x"}]}],
    [{"text": "a"}, {"text": "b"}],
    ["a", {"role": "model", "parts": [{"text": "z"}]}, "b"],
    [{"role": "user", "parts": [{"text": "x", "thought": True}]}],
    [{"role": "user", "parts": [{"inline_data": {"mime_type": "text/plain", "data": "aGk="}}]}],
    [{"role": "user", "parts": [{"function_call": {"name": "f", "args": {"a": 1}}}]}],
    types.Content(role="user", parts=[types.Part(text="hi")]),
    [types.Content(role="user", parts=[types.Part(text="hi")]), "and more"],
    types.Part(text="a part"),
]


@pytest.mark.parametrize("contents", SHAPES, ids=range(len(SHAPES)))
def test_contents_json_matches_the_sdk(contents: Any) -> None:
    assert contents_json(contents) == _sdk(contents)


def test_the_fast_path_copies_and_never_mutates() -> None:
    contents = [{"role": "user", "parts": [{"text": "x"}]}]
    recorded = contents_json(contents)
    assert recorded == [{"parts": [{"text": "x"}], "role": "user"}]
    recorded[0]["parts"].append({"text": "added"})
    assert contents == [{"role": "user", "parts": [{"text": "x"}]}]


def test_a_str_subclass_goes_through_the_sdk() -> None:
    class Text(str):
        pass

    assert contents_json([Text("x")]) == _sdk([Text("x")])

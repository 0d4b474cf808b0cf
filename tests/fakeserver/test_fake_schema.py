"""Minimal instances built from JSON schemas (structured outputs, tool arguments)."""

from __future__ import annotations

import datetime
import enum
from typing import Literal

from pydantic import BaseModel

from tracekit.testing._fakeserver._scenarios import split_text
from tracekit.testing._fakeserver._schema import instance_from_schema


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Node(BaseModel):
    label: str
    children: list[Node] = []


class Everything(BaseModel):
    text: str
    count: int
    ratio: float
    flag: bool
    colour: Colour
    kind: Literal["a", "b"]
    when: datetime.datetime
    maybe: int | None
    nested: Node
    items: list[dict[str, int]]


def test_instance_validates_against_pydantic_models() -> None:
    value = instance_from_schema(Everything.model_json_schema())
    parsed = Everything.model_validate(value)
    assert (parsed.text, parsed.count, parsed.ratio, parsed.flag) == ("text", 1, 1.0, True)
    assert (parsed.colour, parsed.kind, parsed.maybe) == (Colour.RED, "a", 1)
    assert parsed.nested.label == "text"


def test_gemini_upper_case_types_and_bounds() -> None:
    schema = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER", "minimum": 5}, "s": {"type": "STRING"}}}
    assert instance_from_schema(schema) == {"n": 5, "s": "text"}
    assert instance_from_schema({}) == "text"


def test_split_text() -> None:
    assert split_text("abcdef", 4) == ["ab", "cd", "e", "f"]
    assert split_text("ab", 5) == ["a", "b"]
    assert split_text("", 3) == []

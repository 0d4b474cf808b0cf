"""Safe, bounded serialization of whatever an app passes as inputs and outputs."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import json
import uuid
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import pydantic
import pytest

import tracekit
from tracekit._serialize import dumps
from tracekit.testing import SpanCapture

LIMIT = 1_000_000


def roundtrip(value: Any, limit: int = LIMIT) -> Any:
    text, truncated = dumps(value, limit)
    assert not truncated
    return json.loads(text)


class Color(enum.Enum):
    RED = "red"


class Model(pydantic.BaseModel):
    name: str
    tags: list[str] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int
    label: Color = Color.RED


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_rich_types_become_plain_json() -> None:
    value = {
        "model": Model(name="m", tags=["a"]),
        "point": Point(1, 2),
        "enum": Color.RED,
        "bytes": b"\x00\x01\x02",
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2026, 1, 2),
        "delta": datetime.timedelta(seconds=90),
        "set": {3, 1, 2},
        "frozen": frozenset({"b", "a"}),
        "tuple": (1, "two"),
        "uuid": uuid.UUID(int=1),
        "decimal": Decimal("1.5"),
        "path": PurePosixPath("/tmp/x"),
        "bad": BadRepr(),
        "none": None,
    }
    assert roundtrip(value) == {
        "model": {"name": "m", "tags": ["a"]},
        "point": {"x": 1, "y": 2, "label": "red"},
        "enum": "red",
        "bytes": "<bytes 3 bytes>",
        "when": "2026-01-02T03:04:05+00:00",
        "day": "2026-01-02",
        "delta": 90.0,
        "set": [1, 2, 3],
        "frozen": ["a", "b"],
        "tuple": [1, "two"],
        "uuid": "00000000-0000-0000-0000-000000000001",
        "decimal": "1.5",
        "path": "/tmp/x",
        "bad": "<unrepresentable BadRepr>",
        "none": None,
    }


def test_cycles_non_string_keys_and_nan() -> None:
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    items: list[Any] = [1]
    items.append(items)
    assert roundtrip(cyclic) == {"name": "loop", "self": "<cycle>"}
    assert roundtrip(items) == [1, "<cycle>"]
    assert roundtrip({(1, 2): "tuple key", 3: "int"}) == {"(1, 2)": "tuple key", "3": "int"}
    assert roundtrip([float("nan"), float("inf")]) == ["nan", "inf"]


def test_shared_references_are_not_cycles() -> None:
    shared = {"k": 1}
    assert roundtrip({"a": shared, "b": shared, "c": [shared]}) == {"a": {"k": 1}, "b": {"k": 1}, "c": [{"k": 1}]}


def test_deep_nesting_is_cut_not_crashed() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    text, _ = dumps(deep, LIMIT)
    assert "<max depth>" in text
    json.loads(text)


def test_base64_blobs_become_placeholders_with_their_size() -> None:
    raw = bytes(range(256)) * 40  # 10,240 bytes
    b64 = base64.b64encode(raw).decode()
    value = {
        "image_url": f"data:image/png;base64,{b64}",
        "source": {"type": "base64", "data": b64},
        "prose": "word " * 400,
    }
    assert roundtrip(value) == {
        "image_url": "<base64 image/png, 10240 bytes>",
        "source": {"type": "base64", "data": "<base64 10240 bytes>"},
        "prose": "word " * 400,
    }


def test_oversized_values_are_clipped_with_a_visible_mark_and_stay_valid_json() -> None:
    value = {"prompt": "x" * 5000, "small": "keep"}
    text, truncated = dumps(value, 1000)
    assert truncated
    assert len(text) <= 1000
    data = json.loads(text)
    assert data["small"] == "keep"
    assert data["prompt"].startswith("xxx")
    assert data["prompt"].endswith(f"...[truncated {5000 - len(data['prompt'].split('...')[0])} chars]")


def test_huge_lists_are_clipped() -> None:
    text, truncated = dumps(list(range(100_000)), 5000)
    assert truncated and len(text) <= 5000
    data = json.loads(text)
    assert isinstance(data, (list, dict))


def test_a_span_marks_which_attributes_were_truncated(captured: SpanCapture) -> None:
    tracekit.configure(max_attribute_length=1000)
    with tracekit.start_span("big") as span:
        span.set_inputs({"q": "y" * 10_000})
        span.set_outputs("short")
    (s,) = captured.spans
    assert len(s.attributes["mlflow.spanInputs"]) <= 1000
    assert list(s.attributes["tracekit.truncated"]) == ["mlflow.spanInputs"]
    assert s.outputs == "short"


def test_capture_content_off_and_mask(captured: SpanCapture) -> None:
    tracekit.configure(mask=lambda key, value: {**value, "password": "***"} if isinstance(value, dict) else value)
    with tracekit.start_span("login", inputs={"user": "ann", "password": "hunter2"}):
        pass
    tracekit.configure(capture_content=False)
    with tracekit.start_span("quiet", inputs={"secret": 1}) as span:
        span.set_outputs("hidden")
    masked, quiet = captured.spans
    assert masked.inputs == {"user": "ann", "password": "***"}
    assert "mlflow.spanInputs" not in quiet.attributes
    assert "mlflow.spanOutputs" not in quiet.attributes


@pytest.mark.parametrize("value", ["plain", 1, 1.5, True, None, [], {}])
def test_primitives(value: Any) -> None:
    assert roundtrip(value) == value

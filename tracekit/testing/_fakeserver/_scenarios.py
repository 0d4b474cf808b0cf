"""Scenarios: what the fake server answers, chosen per request.

A request picks its scenario by (first match wins) the ``x-fake-scenario``
header, a ``[scenario:<name>]`` marker anywhere in its body, or the server's
default. Everything here is deterministic: ids come from a request counter and
token counts from the input size, so tests can assert exact values.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ._model import FakeRequest

__all__ = [
    "CACHED_TOKENS",
    "CACHE_CREATION_TOKENS",
    "DEFAULT_TEXT",
    "REASONING_TEXT",
    "REASONING_TOKENS",
    "REFUSAL_TEXT",
    "SCENARIOS",
    "Call",
    "ScenarioError",
    "ScenarioOptions",
    "embedding_vector",
    "prompt_tokens",
    "select_scenario",
    "split_text",
]

SCENARIOS: tuple[str, ...] = (
    "text",
    "tool_call",
    "tool_calls_2",
    "error_400",
    "error_401",
    "error_404",
    "error_429",
    "error_500",
    "error_529",
    "slow_first_token",
    "midstream_error",
    "disconnect",
    "cutoff",
    "empty_stream",
    "model_mismatch",
    "cached_usage",
    "reasoning",
    "thinking",
    "refusal",
    "safety_block",
    "safety_block_response",
)
"""Every scenario name, the same set for every protocol."""

ERROR_STATUS: Mapping[str, int] = {
    "error_400": 400,
    "error_401": 401,
    "error_404": 404,
    "error_429": 429,
    "error_500": 500,
    "error_529": 529,
}

DEFAULT_TEXT = "Hello! This is the fake LLM server."
REFUSAL_TEXT = "I'm sorry, but I can't help with that."
REASONING_TEXT = "The user greets me, so I should greet them back briefly."
DEFAULT_CHUNKS = 20
SLOW_FIRST_TOKEN_DELAY = 0.3
# Fixed extra counts of the `cached_usage` / `reasoning` scenarios; round numbers
# so a test can tell at a glance which field they landed in.
CACHED_TOKENS = 100
CACHE_CREATION_TOKENS = 50
REASONING_TOKENS = 10
# A fixed creation time keeps whole responses snapshot-stable.
CREATED = 1_700_000_000

_MARKER = re.compile(r"\[scenario:([A-Za-z0-9_\-]+)\]")
_TEXT_KEYS = frozenset({"content", "text", "input", "instructions", "system", "prompt"})


class ScenarioError(ValueError):
    """An unknown scenario name or option; answered with HTTP 400."""


@dataclass(frozen=True)
class ScenarioOptions:
    """Knobs of a scenario; set with ``server.set_scenario(name, **options)``.

    Per request, the headers ``x-fake-chunks``, ``x-fake-delay`` and
    ``x-fake-first-token-delay`` override ``chunks``, ``delay`` and
    ``first_token_delay``.
    """

    text: str = DEFAULT_TEXT
    """The reply text."""
    chunks: int = DEFAULT_CHUNKS
    """How many pieces the reply is split into; also the completion token count."""
    delay: float = 0.0
    """Seconds to sleep before each streamed content delta."""
    first_token_delay: float | None = None
    """Seconds before the first streamed event (or a whole non-streamed answer).
    ``None`` means 0, or 0.3 s under ``slow_first_token``."""
    cut_after: int | None = None
    """Content chunks sent before ``midstream_error`` / ``cutoff`` / ``disconnect``
    break the stream; ``None`` means half of them (at least one)."""
    retry_after: float = 1.0
    """The ``Retry-After`` header of ``error_429``, in seconds."""
    served_model: str | None = None
    """The model reported under ``model_mismatch``; ``None`` means ``<requested>-served``."""
    tool_name: str | None = None
    """Tool to call when the request declares none (default ``get_weather``)."""
    tool_arguments: Mapping[str, Any] | None = None
    """Arguments of the tool call; ``None`` builds them from the tool's schema."""
    error_message: str | None = None
    """Message of error scenarios; ``None`` uses the provider's usual wording."""
    embedding_dimensions: int = 8
    """Length of fake embedding vectors when the request does not ask for one."""
    response_headers: Mapping[str, str] | None = None
    """Extra headers on every answer, e.g. a gateway's (``{"x-litellm-call-id": "c-1"}``);
    a request's ``x-fake-response-headers`` header (a JSON object) adds more."""
    error_body: Any = None
    """The JSON body of every error answer instead of the provider's shape, e.g. an
    MLflow AI Gateway's ``{"detail": "..."}``."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The accepted option names."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def create(cls, **options: Any) -> ScenarioOptions:
        """Validate option names, then build the options."""
        unknown = sorted(set(options) - set(cls.names()))
        if unknown:
            raise ScenarioError(f"unknown scenario option(s) {unknown}; known: {list(cls.names())}")
        return cls(**options)


def check_scenario(name: str) -> str:
    """Return ``name`` if it is a known scenario, else raise :class:`ScenarioError`."""
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown fake scenario {name!r}; known scenarios: {', '.join(SCENARIOS)}")
    return name


def select_scenario(request: FakeRequest, default: str, options: ScenarioOptions) -> tuple[str, ScenarioOptions]:
    """Choose the scenario and options of one request (header > marker > default)."""
    header = request.headers.get("x-fake-scenario")
    if header:
        name = header.strip()
    else:
        match = _MARKER.search(request.text)
        name = match.group(1) if match else default
    check_scenario(name)
    overrides: dict[str, Any] = {}
    for header_name, option, convert in (
        ("x-fake-chunks", "chunks", int),
        ("x-fake-delay", "delay", float),
        ("x-fake-first-token-delay", "first_token_delay", float),
    ):
        raw = request.headers.get(header_name)
        if raw is None:
            continue
        try:
            overrides[option] = convert(raw)
        except ValueError:
            raise ScenarioError(f"header {header_name} must be a number, got {raw!r}") from None
    raw = request.headers.get("x-fake-response-headers")
    if raw is not None:
        try:
            extra = json.loads(raw)
        except ValueError:
            extra = None
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            raise ScenarioError(f"header x-fake-response-headers must be a JSON object of strings, got {raw!r}")
        overrides["response_headers"] = {**(options.response_headers or {}), **extra}
    return name, replace(options, **overrides) if overrides else options


def _walk_text(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, str):
        if key in _TEXT_KEYS:
            yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk_text(v, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _walk_text(item, key)


def prompt_tokens(body: Any) -> int:
    """Deterministic prompt token count: ceil(chars / 4) of the request's text fields, at least 1.

    Text fields are string values under ``content``, ``text``, ``input``,
    ``instructions``, ``system`` or ``prompt`` anywhere in the JSON body.
    """
    chars = sum(len(s) for s in _walk_text(body))
    return max(1, math.ceil(chars / 4))


def input_texts(body: Any) -> list[str]:
    """All text fields of a JSON body, in order (see :func:`prompt_tokens`)."""
    return list(_walk_text(body))


def split_text(text: str, parts: int) -> list[str]:
    """Split ``text`` into ``parts`` non-empty pieces of near-equal length.

    Fewer pieces come back when the text is shorter than ``parts``; an empty
    text gives no pieces.
    """
    if not text:
        return []
    count = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), count)
    pieces: list[str] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit-free vector in [-1, 1] derived from ``text``'s SHA-256."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        for (word,) in struct.iter_unpack(">I", digest):
            # float32-exact values, so a base64 float32 encoding round-trips equal.
            value = round(word / 0xFFFFFFFF * 2 - 1, 4)
            values.append(struct.unpack("<f", struct.pack("<f", value))[0])
        counter += 1
    return values[:dimensions]


@dataclass
class Call:
    """Everything a protocol handler needs to answer one request."""

    request: FakeRequest
    body: dict[str, Any]
    scenario: str
    options: ScenarioOptions
    number: int
    """1-based request counter of the server; the source of every id."""
    model: str
    stream: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def served_model(self) -> str:
        """The model name put in the answer (differs under ``model_mismatch``)."""
        if self.scenario == "model_mismatch":
            return self.options.served_model or f"{self.model}-served"
        return self.model

    @property
    def first_token_delay(self) -> float:
        """Delay before the first event (or the whole non-streamed answer)."""
        if self.options.first_token_delay is not None:
            return self.options.first_token_delay
        return SLOW_FIRST_TOKEN_DELAY if self.scenario == "slow_first_token" else 0.0

    @property
    def error_status(self) -> int | None:
        """HTTP status of an ``error_*`` scenario, else None."""
        return ERROR_STATUS.get(self.scenario)

    @property
    def prompt_tokens(self) -> int:
        """Deterministic input token count of this request."""
        return prompt_tokens(self.body)

    @property
    def reply_text(self) -> str:
        """The text the model 'says' (the refusal sentence under ``refusal``)."""
        if self.scenario == "refusal":
            return REFUSAL_TEXT
        if self.scenario == "empty_stream":
            return ""
        return self.options.text

    def pieces(self, text: str | None = None) -> list[str]:
        """The reply split into ``options.chunks`` pieces."""
        return split_text(self.reply_text if text is None else text, max(1, self.options.chunks))

    def cut_point(self, total: int) -> int:
        """Number of content pieces sent before a broken stream breaks."""
        if self.options.cut_after is not None:
            return max(0, min(self.options.cut_after, total))
        return max(1, total // 2) if total else 0

    @property
    def breaks_stream(self) -> bool:
        """True for the scenarios that end a stream early."""
        return self.scenario in ("midstream_error", "cutoff", "disconnect")

    @property
    def wants_reasoning(self) -> bool:
        """True for ``reasoning`` / ``thinking``."""
        return self.scenario in ("reasoning", "thinking")

    @property
    def tool_call_count(self) -> int:
        """How many tool calls the answer holds (0, 1 or 2)."""
        return {"tool_call": 1, "tool_calls_2": 2}.get(self.scenario, 0)

"""Wire JSON -> what the provider SDK would have handed to autolog.

The proxy records through the very endpoints autolog uses (``tracekit/_providers/openai/_patches.py``,
``tracekit/anthropic.py``, ``tracekit/gemini.py``), whose hooks take the SDK's
arguments and objects. This module builds those from the HTTP bodies: the SDK's own
``construct_type`` (what openai 3.x / anthropic 2.x run on every response and stream
event) when the SDK is installed, so a proxy span is the autolog span of the same
exchange; the plain JSON otherwise (the mappings read dicts too, with small
differences listed in docs/proxy.md). Gemini's wire form is camelCase and its request
splits ``generationConfig`` from the rest; google-genai's models accept both spellings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_GEMINI_CONFIG_KEYS = ("systemInstruction", "tools", "toolConfig", "safetySettings", "cachedContent", "labels")


def _construct(module: str, type_: Any, data: Any) -> Any:
    try:
        construct_type = __import__(f"{module}._models", fromlist=["construct_type"]).construct_type
        return construct_type(type_=type_, value=data)
    except Exception:  # an SDK without construct_type, or data it rejects: the JSON as it came
        return data


def openai_chunk(data: Any) -> Any:
    try:
        from openai.types.chat import ChatCompletionChunk
    except ImportError:
        return data
    return _construct("openai", ChatCompletionChunk, data)


def openai_response_event(data: Any) -> Any:
    try:
        from openai.types.responses import ResponseStreamEvent
    except ImportError:
        return data
    return _construct("openai", ResponseStreamEvent, data)


def anthropic_event(data: Any, beta: bool) -> Any:
    event_type: Any
    try:
        if beta:
            from anthropic.types.beta import BetaRawMessageStreamEvent as event_type
        else:
            from anthropic.types import RawMessageStreamEvent as event_type
    except ImportError:
        return data
    return _construct("anthropic", event_type, data)


def anthropic_message(data: Any, beta: bool) -> Any:
    message_type: Any
    try:
        if beta:
            from anthropic.types.beta import BetaMessage as message_type
        else:
            from anthropic.types import Message as message_type
    except ImportError:
        return data
    return _construct("anthropic", message_type, data)


def gemini_kwargs(model: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
    """``Models._generate_content``'s keyword arguments for a wire request body."""
    config: dict[str, Any] = dict(body.get("generationConfig") or {})
    for key in _GEMINI_CONFIG_KEYS:
        if body.get(key) is not None:
            config[key] = body[key]
    kwargs: dict[str, Any] = {"model": model, "contents": body.get("contents")}
    if config:
        kwargs["config"] = config
    return kwargs


def gemini_embed_kwargs(model: str | None, method: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
    """``Models._embed_content``'s keyword arguments for ``embedContent`` /
    ``batchEmbedContents`` (what google-genai sends for ``embed_content``)."""
    requests = body.get("requests") if method == "batchEmbedContents" else [body]
    requests = [r for r in requests or [] if isinstance(r, Mapping)]
    kwargs: dict[str, Any] = {"model": model, "contents": [r.get("content") for r in requests]}
    first = requests[0] if requests else {}
    config = {
        snake: first[camel]
        for camel, snake in (("taskType", "task_type"), ("title", "title"), ("outputDimensionality", "output_dimensionality"))
        if first.get(camel) is not None
    }
    if config:
        kwargs["config"] = config
    return kwargs


def gemini_response(data: Any) -> Any:
    """A ``GenerateContentResponse`` from its wire JSON (camelCase)."""
    try:
        from google.genai import types
    except ImportError:
        return _Dumpable(data)
    try:
        return types.GenerateContentResponse._from_response(response=data, kwargs={})
    except Exception:
        try:
            return types.GenerateContentResponse.model_validate(data)
        except Exception:
            return _Dumpable(data)


def gemini_embed_response(data: Any) -> Any:
    """An ``EmbedContentResponse`` from ``embedContent`` / ``batchEmbedContents`` JSON."""
    if isinstance(data, Mapping) and "embedding" in data and "embeddings" not in data:
        data = {**{k: v for k, v in data.items() if k != "embedding"}, "embeddings": [data["embedding"]]}
    try:
        from google.genai import types

        return types.EmbedContentResponse.model_validate(data)
    except Exception:
        return _Dumpable(data)


class _Dumpable:
    """Plain JSON standing in for a google-genai model (no SDK installed): the mapping
    reads ``model_dump()``."""

    def __init__(self, data: Any) -> None:
        self._data = data if isinstance(data, Mapping) else {}

    def model_dump(self, **_: Any) -> dict[str, Any]:
        return dict(self._data)


def preload() -> None:
    """Import the provider SDKs' types and tracekit's endpoints now, before the proxy
    listens: imported on the first call instead, they would hold the event loop (and
    every stream passing through) for up to a second (anthropic 2.17: ~0.9 s)."""
    import importlib

    for name in (
        "tracekit.openai",
        "tracekit.anthropic",
        "tracekit.gemini",
        "openai.types.chat",
        "openai.types.responses",
        "openai._models",
        "openai.lib.streaming.chat",
        "anthropic.types",
        "anthropic.types.beta",
        "anthropic._models",
        "anthropic.lib.streaming._messages",
        "anthropic.lib.streaming._beta_messages",
        "google.genai.types",
        "google.genai._transformers",
    ):
        try:
            importlib.import_module(name)
        except Exception:  # an SDK that is not installed: its calls record the plain JSON
            pass

"""OpenAI stream accumulation (openai 3.x; written against 3.54.0): the chunks or events
of a stream -> one response in the non-streamed response's JSON shape, run once, at
the end of the stream, so it goes through the same mapping (:mod:`._mapping`).

Chat chunks merge over plain dicts (``merge_chat_chunks``: the SDK's result at a
fraction of the cost of its ``ChatCompletionStreamState``, which stays the fallback).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from tracekit._providers.openai import _mapping as mapping

logger = logging.getLogger("tracekit")

_TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_START_EVENTS = frozenset({"response.created", "response.in_progress", "response.queued"})


def accumulate_chat(chunks: Sequence[Any]) -> dict[str, Any] | None:
    """Chat completion chunks -> one ``chat.completion`` dict: what the SDK's own
    accumulator (``ChatCompletionStreamState``, without a response format: nothing is
    parsed) would give, merged over plain dicts. Chunks this merge does not know
    (logprobs, audio, moderation, non-string extra fields) go through the SDK's
    accumulator, which rebuilds pydantic snapshots per chunk (~75 µs each); a
    hand-written merge if that fails too."""
    chunks = [c for c in chunks if getattr(c, "object", "chat.completion.chunk") == "chat.completion.chunk"]
    if not chunks:
        return None
    try:
        return tidy_chat_snapshot(merge_chat_chunks(chunks))
    except _NotPlain:
        pass
    except Exception:
        logger.debug("tracekit: openai chat chunks merge failed; trying the SDK's accumulator", exc_info=True)
    try:
        return sdk_accumulate_chat(chunks)
    except Exception:
        logger.debug("tracekit: openai ChatCompletionStreamState failed; merging chunks by hand", exc_info=True)
    return _merge_choice_chunks(chunks, "chat.completion")


def sdk_accumulate_chat(chunks: Sequence[Any]) -> dict[str, Any] | None:
    """The chunks through the SDK's ``ChatCompletionStreamState`` (slow: ~75 µs per chunk)."""
    from openai.lib.streaming.chat import ChatCompletionStreamState

    state: Any = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(chunk)
    data = mapping.to_dict(state.current_completion_snapshot)
    return tidy_chat_snapshot(data) if isinstance(data, dict) else None


class _NotPlain(Exception):
    """A chunk the plain-dict merge does not handle: use the SDK's accumulator."""


_PLAIN_CHUNK_FIELDS = frozenset(
    {"id", "choices", "created", "model", "object", "service_tier", "system_fingerprint", "usage", "obfuscation"}
)
_PLAIN_CHOICE_FIELDS = frozenset({"index", "delta", "finish_reason", "logprobs"})
_PLAIN_TOOL_CALL_FIELDS = frozenset({"index", "id", "type", "function"})
_PLAIN_FUNCTION_FIELDS = frozenset({"name", "arguments"})


def _fields(model: Any, plain: frozenset[str]) -> list[tuple[str, Any]]:
    """A chunk model's fields as ``to_dict()`` gives them (the set ones, then extras),
    read as attributes; raises :class:`_NotPlain` for a field outside ``plain`` or a
    value that is not a string/number/None (those need the SDK's model dumps)."""
    fields_set = model.model_fields_set
    if not fields_set <= plain:
        raise _NotPlain
    items = [(key, getattr(model, key)) for key in fields_set]
    extra = model.__pydantic_extra__
    if extra:
        items.extend(extra.items())
    return items


def _plain_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise _NotPlain


def _delta_dict(delta: Any) -> dict[str, Any]:
    """``delta.to_dict()`` without pydantic, for role/content/refusal/tool-call deltas
    and string-valued extra fields (``reasoning_content`` of compatible servers)."""
    out: dict[str, Any] = {}
    for key, value in _fields(delta, _DELTA_FIELDS):
        if key == "tool_calls" and value is not None:
            calls = []
            for call in value:
                entry: dict[str, Any] = {}
                for call_key, call_value in _fields(call, _PLAIN_TOOL_CALL_FIELDS):
                    if call_key == "function" and call_value is not None:
                        call_value = {k: _plain_value(v) for k, v in _fields(call_value, _PLAIN_FUNCTION_FIELDS)}
                    else:
                        call_value = _plain_value(call_value)
                    entry[call_key] = call_value
                calls.append(entry)
            out[key] = calls
        else:
            out[key] = _plain_value(value)
    return out


_DELTA_FIELDS = frozenset({"role", "content", "refusal", "tool_calls"})
_CONTENT_ONLY = frozenset({"content"})


def _model_fields(cls: Any) -> tuple[str, ...]:
    return tuple(cls.model_fields)


_orders: dict[str, tuple[str, ...]] = {}


def _snapshot_orders() -> dict[str, tuple[str, ...]]:
    """Field order of the SDK's snapshot models (what their JSON dumps follow)."""
    if not _orders:
        from openai.types.chat import ParsedChatCompletion, ParsedChatCompletionMessage, ParsedChoice
        from openai.types.chat.parsed_function_tool_call import ParsedFunction, ParsedFunctionToolCall

        _orders.update(
            completion=_model_fields(ParsedChatCompletion),
            choice=_model_fields(ParsedChoice),
            message=_model_fields(ParsedChatCompletionMessage),
            tool_call=_model_fields(ParsedFunctionToolCall),
            function=_model_fields(ParsedFunction),
        )
    return _orders


def _ordered(data: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    out = {key: data[key] for key in order if key in data}
    if len(out) < len(data):
        out.update((key, value) for key, value in data.items() if key not in out)
    return out


def _accumulate_delta(acc: dict[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """The SDK's ``accumulate_delta`` (openai 3.54.0 ``lib/streaming/_deltas.py``) on
    the plain values a chat delta carries: strings concatenate, ``index``/``type``
    are replaced, indexed lists (tool calls) merge entry by entry."""
    for key, value in delta.items():
        if acc.get(key) is None:
            if isinstance(value, list) and any(isinstance(e, dict) and "index" in e for e in value):
                acc[key] = []
            else:
                acc[key] = value
                continue
        current = acc[key]
        if key == "index" or key == "type":
            acc[key] = value
        elif isinstance(current, str) and isinstance(value, str):  # noqa: SIM114 (mypy: str + str, number + number)
            acc[key] = current + value
        elif isinstance(current, (int, float)) and isinstance(value, (int, float)):
            acc[key] = current + value
        elif isinstance(current, dict) and isinstance(value, dict):
            _accumulate_delta(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            for entry in value:
                index = entry["index"]
                if index < len(current):
                    _accumulate_delta(current[index], entry)
                else:
                    current.insert(index, entry)
        else:
            raise _NotPlain
    return acc


def _dump_message(message: dict[str, Any], orders: dict[str, tuple[str, ...]]) -> None:
    """What the SDK's per-chunk ``model_dump`` of the message snapshot adds: every field
    of the message model (``parsed`` left out) and of its tool calls, None when unset."""
    for key in orders["message"]:
        if key != "parsed":
            message.setdefault(key, None)
    _dump_tool_calls(message, orders)


def _dump_tool_calls(message: dict[str, Any], orders: dict[str, tuple[str, ...]]) -> None:
    for call in message.get("tool_calls") or ():
        for key in orders["tool_call"]:
            call.setdefault(key, None)
        function = call.get("function")
        if isinstance(function, dict):
            for key in orders["function"]:
                if key != "parsed_arguments":
                    function.setdefault(key, None)


def merge_chat_chunks(chunks: Sequence[Any]) -> dict[str, Any]:
    """Chat completion chunks merged like ``ChatCompletionStreamState`` (no response
    format) and dumped like ``to_dict(snapshot)``, over plain values: O(1) per delta.
    Raises :class:`_NotPlain` for chunks that need the SDK's accumulator."""
    orders = _snapshot_orders()
    first = chunks[0]
    data = mapping.to_dict(first)
    if not isinstance(data, dict):
        raise _NotPlain
    data.pop("obfuscation", None)
    data = {"system_fingerprint": None, **data, "object": "chat.completion"}
    choices: list[dict[str, Any]] = data["choices"]
    dumped: set[int] = set()  # choices whose message went through the SDK's model_dump once
    for position, chunk in enumerate(chunks):
        if not chunk.model_fields_set <= _PLAIN_CHUNK_FIELDS or chunk.__pydantic_extra__:
            raise _NotPlain
        for choice in chunk.choices:
            if not choice.model_fields_set <= _PLAIN_CHOICE_FIELDS or choice.__pydantic_extra__ or choice.logprobs is not None:
                raise _NotPlain
            raw = choice.delta
            if raw.model_fields_set == _CONTENT_ONLY and not raw.__pydantic_extra__:
                delta: dict[str, Any] = {"content": _plain_value(raw.content)}  # the common chunk
            else:
                delta = _delta_dict(raw)
            index = choice.index
            if position == 0 or index >= len(choices):
                fields = {k: _plain_value(getattr(choice, k)) for k in choice.model_fields_set if k != "delta"}
                state = {**fields, "message": _accumulate_delta({}, delta)}
                if position == 0:
                    choices[index] = state
                else:
                    choices.append(state)
            else:
                state = choices[index]
                message = state["message"]
                if index not in dumped:
                    _dump_message(message, orders)
                    dumped.add(index)
                elif message.get("tool_calls"):
                    _dump_tool_calls(message, orders)
                content = delta.get("content")
                if len(delta) == 1 and isinstance(content, str) and isinstance(message["content"], str):
                    message["content"] += content
                else:
                    _accumulate_delta(message, delta)
            if choice.finish_reason:
                state["finish_reason"] = choice.finish_reason
    if len(chunks) > 1:
        last = chunks[-1]
        data["usage"] = mapping.to_dict(last.usage) if last.usage is not None else None
        data["system_fingerprint"] = last.system_fingerprint
    for i, choice_data in enumerate(choices):
        message = choice_data["message"]
        if message.get("tool_calls"):
            message["tool_calls"] = [
                _ordered({**call, "function": _ordered(call["function"], orders["function"])}, orders["tool_call"])
                if isinstance(call.get("function"), dict)
                else _ordered(call, orders["tool_call"])
                for call in message["tool_calls"]
            ]
        choice_data["message"] = _ordered(message, orders["message"])
        choices[i] = _ordered(choice_data, orders["choice"])
    return _ordered(data, orders["completion"])


def tidy_chat_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """The SDK's snapshot sets every message field (``audio: null``, ``parsed: null``,
    tool calls' stream ``index``); drop those so a streamed response reads like the
    non-streamed one."""
    for choice in data.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        for key in [k for k, v in message.items() if v is None and k not in ("content", "refusal")]:
            del message[key]
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict):
                call.pop("index", None)
                function = call.get("function")
                if isinstance(function, dict) and function.get("parsed_arguments") is None:
                    function.pop("parsed_arguments", None)
    return data


def accumulate_completions(chunks: Sequence[Any]) -> dict[str, Any] | None:
    """Legacy text-completion chunks -> one ``text_completion`` dict (the SDK has no accumulator)."""
    return _merge_choice_chunks(chunks, "text_completion") if chunks else None


def _merge_choice_chunks(chunks: Sequence[Any], kind: str) -> dict[str, Any]:
    first = chunks[0]
    data: dict[str, Any] = {"object": kind}
    for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
        value = getattr(first, key, None)
        if value is not None:
            data[key] = value
    choices: dict[int, dict[str, Any]] = {}
    usage: Any = None
    for chunk in chunks:
        if getattr(chunk, "usage", None) is not None:
            usage = chunk.usage
        for choice in getattr(chunk, "choices", None) or []:
            state = choices.setdefault(choice.index, {"index": choice.index, "finish_reason": None})
            if choice.finish_reason:
                state["finish_reason"] = choice.finish_reason
            delta = getattr(choice, "delta", None)
            if delta is None:  # text completion
                state["text"] = state.get("text", "") + (choice.text or "")
                continue
            message = state.setdefault("message", {"role": "assistant"})
            for key in ("content", "refusal"):
                piece = getattr(delta, key, None)
                if piece is not None:
                    message[key] = (message.get(key) or "") + piece
            for call in getattr(delta, "tool_calls", None) or []:
                calls = message.setdefault("tool_calls", {})
                entry = calls.setdefault(call.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                if call.id:
                    entry["id"] = call.id
                function = getattr(call, "function", None)
                if function is not None:
                    entry["function"]["name"] += function.name or ""
                    entry["function"]["arguments"] += function.arguments or ""
    for state in choices.values():
        message = state.get("message")
        if message and "tool_calls" in message:
            message["tool_calls"] = [message["tool_calls"][i] for i in sorted(message["tool_calls"])]
    data["choices"] = [choices[i] for i in sorted(choices)]
    if usage is not None:
        data["usage"] = mapping.to_dict(usage)
    return data


def accumulate_responses(events: Sequence[Any]) -> dict[str, Any] | None:
    """Responses stream events -> one ``response`` dict: the terminal event's response
    (``response.completed`` / ``incomplete`` / ``failed``) when it came; otherwise the
    partial response rebuilt from the events received so far."""
    for event in reversed(events):
        if getattr(event, "type", None) in _TERMINAL_EVENTS and getattr(event, "response", None) is not None:
            data = mapping.to_dict(event.response)
            if isinstance(data, dict):
                if not data.get("output"):
                    partial = _rebuild_response(events)
                    if partial and partial.get("output"):
                        data["output"] = partial["output"]
                return data
    return _rebuild_response(events)


def _rebuild_response(events: Sequence[Any]) -> dict[str, Any] | None:
    base: dict[str, Any] | None = None
    items: dict[int, dict[str, Any]] = {}
    for event in events:
        kind = getattr(event, "type", None)
        if kind in _START_EVENTS and getattr(event, "response", None) is not None:
            base = mapping.to_dict(event.response)
        elif kind in ("response.output_item.added", "response.output_item.done") and getattr(event, "item", None):
            items[event.output_index] = mapping.to_dict(event.item)
        elif kind == "response.content_part.added":
            item = items.get(event.output_index)
            if item is not None:
                item.setdefault("content", []).append(mapping.to_dict(event.part))
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            key = "text" if kind == "response.output_text.delta" else "refusal"
            content = (items.get(event.output_index) or {}).get("content") or []
            if event.content_index < len(content):
                part = content[event.content_index]
                part[key] = (part.get(key) or "") + event.delta
        elif kind == "response.function_call_arguments.delta":
            item = items.get(event.output_index)
            if item is not None:
                item["arguments"] = (item.get("arguments") or "") + event.delta
    if base is None and not items:
        return None
    data = dict(base or {"object": "response"})
    data["output"] = [items[i] for i in sorted(items)]
    return data

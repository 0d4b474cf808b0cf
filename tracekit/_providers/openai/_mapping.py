"""Pure functions mapping the OpenAI SDK's data to span data (openai 3.x; written against 3.54.0).

Requests are mapped from the call's keyword arguments; responses from the SDK's own
JSON shape (``to_dict(mode="json")``), so a streamed response accumulated into that
shape goes through exactly the same code as a non-streamed one. Nothing here starts
or ends spans, and ``openai`` is imported only inside functions that need it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tracekit import _attributes as attr
from tracekit._llm._span_data import record_models, record_usage
from tracekit._span_handle import Span

logger = logging.getLogger("tracekit")

#: request arguments that are transport settings, not the request: never recorded
#: (``extra_headers`` and ``extra_query`` may carry credentials -- gateways take keys as
#: ``?api-key=``/``?key=`` -- and the SDK adds its helper/raw markers to the headers)
_DROPPED_KWARGS = frozenset({"extra_headers", "extra_query", "timeout"})

_REQUEST_PARAMS: Mapping[str, str] = {
    "temperature": attr.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": attr.GEN_AI_REQUEST_TOP_P,
    "max_tokens": attr.GEN_AI_REQUEST_MAX_TOKENS,
    "max_completion_tokens": attr.GEN_AI_REQUEST_MAX_TOKENS,
    "max_output_tokens": attr.GEN_AI_REQUEST_MAX_TOKENS,
    "seed": attr.GEN_AI_REQUEST_SEED,
    "frequency_penalty": attr.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": attr.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "n": attr.GEN_AI_REQUEST_CHOICE_COUNT,
}

_TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_START_EVENTS = frozenset({"response.created", "response.in_progress", "response.queued"})


# --- helpers -----------------------------------------------------------------------------


def is_given(value: Any) -> bool:
    """False for the SDK's "argument not given" sentinels (``NOT_GIVEN``, ``omit``)."""
    return type(value).__name__ not in ("NotGiven", "Omit")


def to_dict(obj: Any) -> Any:
    """An SDK model in its own JSON shape (what went over the wire, unset fields left out)."""
    to_dict_method = getattr(obj, "to_dict", None)
    if callable(to_dict_method):
        return to_dict_method(mode="json", warnings=False)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True, warnings=False)
    return obj


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


# --- requests --------------------------------------------------------------------------------


def format_param(key: str, value: type) -> Any:
    """A pydantic class given as ``response_format`` (chat) or ``text_format`` (responses),
    as the JSON the SDK sends for it; its name when the SDK cannot convert it."""
    try:
        if key == "text_format":
            from openai.lib._parsing._responses import type_to_text_format_param

            return type_to_text_format_param(value)
        from openai.lib._parsing._completions import type_to_response_format_param

        return type_to_response_format_param(value)
    except Exception:  # an SDK without these helpers, or a class it rejects
        logger.debug("tracekit: cannot convert %s=%r to its JSON schema", key, value, exc_info=True)
        return {"type": "json_schema", "name": getattr(value, "__name__", repr(value))}


def request_inputs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request as the app gave it: every argument except the transport ones and
    the not-given sentinels. One-shot iterators are not consumed (the SDK needs them)."""
    inputs: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in _DROPPED_KWARGS or not is_given(value):
            continue
        if isinstance(value, type):
            value = format_param(key, value)
        elif isinstance(value, Iterator):
            value = f"<{type(value).__name__}: one-shot iterator, not recorded>"
        inputs[key] = value
    return inputs


def request_attributes(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``gen_ai.request.*`` parameters of a request."""
    values: dict[str, Any] = {}
    for key, name in _REQUEST_PARAMS.items():
        value = kwargs.get(key)
        if value is not None and is_given(value) and isinstance(value, (int, float)):
            values[name] = value
    stop = kwargs.get("stop")
    if isinstance(stop, str):
        values[attr.GEN_AI_REQUEST_STOP] = [stop]
    elif isinstance(stop, Sequence) and stop and all(isinstance(s, str) for s in stop):
        values[attr.GEN_AI_REQUEST_STOP] = list(stop)
    if kwargs.get("stream") is True:
        values[attr.STREAM] = True
    return values


def output_type(kwargs: Mapping[str, Any]) -> str:
    """``gen_ai.output.type``: ``json`` when a structured output is requested, else ``text``."""
    fmt = kwargs.get("response_format")
    if fmt is None or not is_given(fmt):
        fmt = kwargs.get("text_format")
    if fmt is None or not is_given(fmt):
        text = kwargs.get("text")
        fmt = _get(text, "format") if text is not None and is_given(text) else None
    if isinstance(fmt, type):
        return "json"
    kind = _get(fmt, "type") if fmt is not None else None
    return "json" if kind in ("json_schema", "json_object") else "text"


def tool_definitions(kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Function tools of a request in the chat-completions shape MLflow draws
    (``{"type": "function", "function": {...}}``); Responses' flat tools are converted,
    built-in tools (web search, file search…) stay in the inputs only."""
    tools: list[dict[str, Any]] = []
    raw_tools = kwargs.get("tools")
    if isinstance(raw_tools, Sequence) and not isinstance(raw_tools, str):
        for tool in raw_tools:
            if not isinstance(tool, Mapping) or tool.get("type") != "function":
                continue
            function = tool.get("function")
            if isinstance(function, Mapping):
                tools.append({"type": "function", "function": dict(function)})
            elif "name" in tool:
                keys = ("name", "description", "parameters", "strict")
                tools.append({"type": "function", "function": {k: tool[k] for k in keys if k in tool}})
    functions = kwargs.get("functions")  # the legacy ``functions=`` argument
    if isinstance(functions, Sequence) and not isinstance(functions, str):
        tools.extend({"type": "function", "function": dict(f)} for f in functions if isinstance(f, Mapping))
    return tools


# --- responses ------------------------------------------------------------------------------


def record_openai_usage(span: Span, usage: Any) -> None:
    """Usage of any OpenAI endpoint: ``prompt/completion_tokens`` (chat, completions,
    embeddings) or ``input/output_tokens`` (responses), with cached, cache-write and
    reasoning token counts when the server reports them (zeros are left out)."""
    if not isinstance(usage, Mapping):
        return
    if "input_tokens" in usage:
        input_tokens, output_tokens = usage.get("input_tokens"), usage.get("output_tokens")
        input_details, output_details = usage.get("input_tokens_details"), usage.get("output_tokens_details")
    else:
        input_tokens, output_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
        input_details, output_details = usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
    input_details = input_details if isinstance(input_details, Mapping) else {}
    output_details = output_details if isinstance(output_details, Mapping) else {}
    record_usage(
        span,
        input_tokens,
        output_tokens,
        usage.get("total_tokens"),
        cache_read=input_details.get("cached_tokens") or None,
        cache_creation=input_details.get("cache_write_tokens") or None,
        reasoning=output_details.get("reasoning_tokens") or None,
    )


def _record_common(span: Span, data: Mapping[str, Any]) -> None:
    span.set_outputs(data)
    record_models(span, None, data.get("model"))
    record_openai_usage(span, data.get("usage"))
    span.set_attribute(attr.GEN_AI_RESPONSE_ID, data.get("id"))


def record_choices_response(span: Span, data: Any) -> None:
    """A chat completion or a text completion, as the JSON dict of the SDK's model."""
    if not isinstance(data, Mapping):
        return
    _record_common(span, data)
    choices = data.get("choices")
    reasons = [c["finish_reason"] for c in choices or [] if isinstance(c, Mapping) and c.get("finish_reason")]
    if reasons:
        span.set_attribute(attr.GEN_AI_FINISH_REASONS, reasons)


def responses_finish_reason(data: Mapping[str, Any]) -> str | None:
    """The Responses API has no finish reason: derive one from the status. ``stop`` or
    ``tool_calls`` for a completed response, the ``incomplete_details.reason`` (e.g.
    ``max_output_tokens``, ``content_filter``) for an incomplete one, else the status."""
    status = data.get("status")
    if status == "completed":
        output = data.get("output") or []
        calls = any(isinstance(item, Mapping) and str(item.get("type", "")).endswith("_call") for item in output)
        return "tool_calls" if calls else "stop"
    if status == "incomplete":
        details = data.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return str(reason) if reason else "incomplete"
    return str(status) if status and status not in ("in_progress", "queued") else None


def record_responses_response(span: Span, data: Any) -> None:
    """A Responses API response, as the JSON dict of the SDK's model. A ``failed``
    response (an error reported inside a 200 answer or a stream) sets status ERROR."""
    if not isinstance(data, Mapping):
        return
    _record_common(span, data)
    reason = responses_finish_reason(data)
    if reason:
        span.set_attribute(attr.GEN_AI_FINISH_REASONS, [reason])
    if data.get("status") == "failed":
        error = data.get("error")
        code = error.get("code") if isinstance(error, Mapping) else None
        message = error.get("message") if isinstance(error, Mapping) else None
        span.set_attribute(attr.ERROR_TYPE, str(code or "response.failed"))
        span.set_status("ERROR", str(message or code or "response failed"))


def record_embeddings_response(span: Span, data: Any) -> None:
    """An embeddings response: the vectors (bounded like every output), usage, dimension."""
    if not isinstance(data, Mapping):
        return
    _record_common(span, data)
    items = data.get("data")
    first = items[0] if isinstance(items, list) and items else None
    vector = first.get("embedding") if isinstance(first, Mapping) else None
    if isinstance(vector, list):
        span.set_attribute(attr.GEN_AI_EMBEDDINGS_DIMENSION, len(vector))
    elif isinstance(vector, str):  # base64 of little-endian float32
        span.set_attribute(attr.GEN_AI_EMBEDDINGS_DIMENSION, len(vector) * 3 // 4 // 4)


# --- stream accumulation (run once, at the end of a stream) -------------------------------------


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
    data = to_dict(state.current_completion_snapshot)
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
    data = to_dict(first)
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
        data["usage"] = to_dict(last.usage) if last.usage is not None else None
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
        data["usage"] = to_dict(usage)
    return data


def accumulate_responses(events: Sequence[Any]) -> dict[str, Any] | None:
    """Responses stream events -> one ``response`` dict: the terminal event's response
    (``response.completed`` / ``incomplete`` / ``failed``) when it came; otherwise the
    partial response rebuilt from the events received so far."""
    for event in reversed(events):
        if getattr(event, "type", None) in _TERMINAL_EVENTS and getattr(event, "response", None) is not None:
            data = to_dict(event.response)
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
            base = to_dict(event.response)
        elif kind in ("response.output_item.added", "response.output_item.done") and getattr(event, "item", None):
            items[event.output_index] = to_dict(event.item)
        elif kind == "response.content_part.added":
            item = items.get(event.output_index)
            if item is not None:
                item.setdefault("content", []).append(to_dict(event.part))
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

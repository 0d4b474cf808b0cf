"""Pure functions mapping the OpenAI SDK's data to the call record (openai 3.x; written against 3.54.0).

Requests are mapped from the call's keyword arguments; responses from the SDK's own
JSON shape (``to_dict(mode="json")``), so a streamed response accumulated into that
shape (:mod:`._accumulate`) goes through exactly the same code as a non-streamed one.
Nothing here starts or ends spans or writes attribute keys, and ``openai`` is
imported only inside functions that need it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tracekit._llm._record import CallRecord, Usage

logger = logging.getLogger("tracekit")

#: request arguments that are transport settings, not the request: never recorded
#: (``extra_headers`` and ``extra_query`` may carry credentials -- gateways take keys as
#: ``?api-key=``/``?key=`` -- and the SDK adds its helper/raw markers to the headers)
_DROPPED_KWARGS = frozenset({"extra_headers", "extra_query", "timeout"})

#: request argument -> the call record's field (the last of the three max_* given wins)
_REQUEST_PARAMS: Mapping[str, str] = {
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "seed": "seed",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "n": "choice_count",
}


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


def request_parameters(record: CallRecord, kwargs: Mapping[str, Any]) -> None:
    """The request's parameters (``gen_ai.request.*``) and stream flag."""
    for key, name in _REQUEST_PARAMS.items():
        value = kwargs.get(key)
        if value is not None and is_given(value) and isinstance(value, (int, float)):
            setattr(record, name, value)
    stop = kwargs.get("stop")
    if isinstance(stop, str):
        record.stop = [stop]
    elif isinstance(stop, Sequence) and stop and all(isinstance(s, str) for s in stop):
        record.stop = list(stop)
    if kwargs.get("stream") is True:
        record.stream = True


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


def record_openai_usage(record: CallRecord, usage: Any) -> None:
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
    record.usage = Usage(
        input_tokens,
        output_tokens,
        usage.get("total_tokens"),
        cache_read=input_details.get("cached_tokens") or None,
        cache_creation=input_details.get("cache_write_tokens") or None,
        reasoning=output_details.get("reasoning_tokens") or None,
    )


def _record_common(record: CallRecord, data: Mapping[str, Any]) -> None:
    record.outputs = data
    record.response_model = data.get("model")
    record_openai_usage(record, data.get("usage"))
    record.response_id = data.get("id")


def record_choices_response(record: CallRecord, data: Any) -> None:
    """A chat completion or a text completion, as the JSON dict of the SDK's model."""
    if not isinstance(data, Mapping):
        return
    _record_common(record, data)
    choices = data.get("choices")
    reasons = [c["finish_reason"] for c in choices or [] if isinstance(c, Mapping) and c.get("finish_reason")]
    if reasons:
        record.finish_reasons = reasons


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


def record_responses_response(record: CallRecord, data: Any) -> None:
    """A Responses API response, as the JSON dict of the SDK's model. A ``failed``
    response (an error reported inside a 200 answer or a stream) sets status ERROR."""
    if not isinstance(data, Mapping):
        return
    _record_common(record, data)
    reason = responses_finish_reason(data)
    if reason:
        record.finish_reasons = [reason]
    if data.get("status") == "failed":
        error = data.get("error")
        code = error.get("code") if isinstance(error, Mapping) else None
        message = error.get("message") if isinstance(error, Mapping) else None
        record.error_type = str(code or "response.failed")
        record.error_message = str(message or code or "response failed")


def record_embeddings_response(record: CallRecord, data: Any) -> None:
    """An embeddings response: the vectors (bounded like every output), usage, dimension."""
    if not isinstance(data, Mapping):
        return
    _record_common(record, data)
    items = data.get("data")
    first = items[0] if isinstance(items, list) and items else None
    vector = first.get("embedding") if isinstance(first, Mapping) else None
    if isinstance(vector, list):
        record.embedding_dimension = len(vector)
    elif isinstance(vector, str):  # base64 of little-endian float32
        record.embedding_dimension = len(vector) * 3 // 4 // 4

"""Pure functions mapping Anthropic Messages requests, responses and stream events to the call record.

Nothing here starts or ends spans, imports the SDK at module level, or keeps a
reference to user data: :mod:`tracekit.anthropic` calls these from its endpoint
hooks, which the core (:mod:`tracekit._llm`) guards.

Token usage: Anthropic's ``usage.input_tokens`` counts only the input tokens that
were neither read from nor written to the prompt cache; ``cache_read_input_tokens``
and ``cache_creation_input_tokens`` are disjoint from it. tracekit records
``input_tokens`` as the sum of the three (the prompt's full size, the way OpenAI and
Gemini count it and the OpenTelemetry GenAI conventions ask), keeps the two cache
counts beside it, and ``total_tokens = input_tokens + output_tokens``.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from tracekit._llm import CallRecord, Usage
from tracekit._providers.anthropic._accumulate import NotPlain, accumulate_plain

#: keyword arguments that never go into a span: transport options and headers
#: (which may carry keys); ``extra_body`` is merged in instead, as it is sent
_NOT_RECORDED = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})

#: request parameter -> the call record's field (gen_ai.request.*)
_PARAMETERS: Mapping[str, str] = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop_sequences": "stop",
}

logger = logging.getLogger("tracekit")

NOT_RECORDED_ITERATOR = "<iterator: not recorded, it can be read only once>"


def is_sentinel(value: Any) -> bool:
    """The SDK's "argument not given" markers (``NOT_GIVEN`` / ``not_given``, ``omit``)."""
    return type(value).__name__ in ("NotGiven", "Omit")


def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a mapping, ``obj.key`` for an SDK model; None when missing."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _format_type(value: Any) -> Any:
    """``output_format`` is a Python type (``messages.parse`` / ``stream``): record its
    name and JSON schema, which is what goes over the wire as ``output_config.format``."""
    if not isinstance(value, type):
        return value
    described: dict[str, Any] = {"type": f"{value.__module__}.{value.__qualname__}"}
    schema = getattr(value, "model_json_schema", None)
    if callable(schema):
        try:
            described["schema"] = schema()
        except Exception:
            pass  # a type pydantic cannot describe: its name is enough
    return described


def request_inputs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request as sent: every given keyword argument and the ``extra_body`` fields,
    without headers, query, timeout or the SDK's not-given sentinels.

    A one-shot iterator (``messages=(m for m in ...)``) is not read: the SDK reads it
    once to build the request, and reading it here first would send an empty list.
    """
    inputs: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in _NOT_RECORDED or is_sentinel(value):
            continue
        if key == "output_format":
            value = _format_type(value)
        inputs[key] = NOT_RECORDED_ITERATOR if isinstance(value, Iterator) else value
    extra = kwargs.get("extra_body")
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            inputs[str(key)] = NOT_RECORDED_ITERATOR if isinstance(value, Iterator) else value
    return inputs


def request_parameters(record: CallRecord, inputs: Mapping[str, Any]) -> None:
    """The ``gen_ai.request.*`` parameters of the recorded inputs."""
    for key, field in _PARAMETERS.items():
        value = inputs.get(key)
        if value is None:
            continue
        if key == "stop_sequences":
            if isinstance(value, Sequence) and not isinstance(value, str):
                record.stop = [str(v) for v in value]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            setattr(record, field, value)


def _tool_dict(tool: Any) -> Mapping[str, Any] | None:
    if isinstance(tool, Mapping):
        return tool
    # beta runnable tools (``@beta_tool``) and memory tools expose the param they send
    to_dict = getattr(tool, "to_dict", None)
    if callable(to_dict):
        value = to_dict()
        return value if isinstance(value, Mapping) else None
    return None


def openai_tools(tools: Any) -> list[dict[str, Any]]:
    """Anthropic tool definitions as OpenAI-style ones (``mlflow.chat.tools``).

    A client tool ``{name, description, input_schema}`` becomes
    ``{"type": "function", "function": {name, description, parameters}}``; a server
    tool (``web_search_…``, ``bash_…``: a ``type`` and no schema) keeps its name and
    says which built-in it is in the description.
    """
    if tools is None or isinstance(tools, (str, bytes, Iterator)) or not isinstance(tools, Iterable):
        return []
    converted: list[dict[str, Any]] = []
    for tool in tools:
        spec = _tool_dict(tool)
        if spec is None:
            continue
        name = spec.get("name")
        if not name:
            continue
        function: dict[str, Any] = {"name": str(name)}
        if "input_schema" in spec:
            if spec.get("description"):
                function["description"] = str(spec["description"])
            function["parameters"] = spec["input_schema"]
        else:
            function["description"] = f"Anthropic server tool {spec.get('type', name)}"
        converted.append({"type": "function", "function": function})
    return converted


def record_request(record: CallRecord, kwargs: Mapping[str, Any], *, stream: bool) -> None:
    """Inputs, parameters, tools, requested model and the stream flag of one request."""
    inputs = request_inputs(kwargs)
    record.inputs = inputs
    request_parameters(record, inputs)
    if stream:
        record.stream = True
    record.tools = openai_tools(inputs.get("tools"))
    record.request_model = inputs.get("model")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_message(record: CallRecord, requested_model: Any, message: Any) -> None:
    """A (possibly accumulated) Message: outputs, served model, id, stop reason, usage."""
    record.outputs = message
    record.request_model = requested_model
    record.response_model = _get(message, "model")
    message_id = _get(message, "id")
    if message_id:
        record.response_id = str(message_id)
    stop_reason = _get(message, "stop_reason")
    if stop_reason:
        record.finish_reasons = [str(stop_reason)]
    usage = _get(message, "usage")
    if usage is None:
        return
    fresh = _int(_get(usage, "input_tokens"))
    output = _int(_get(usage, "output_tokens"))
    cache_read = _int(_get(usage, "cache_read_input_tokens"))
    cache_creation = _int(_get(usage, "cache_creation_input_tokens"))
    if fresh is None and output is None:
        return
    prompt = (fresh or 0) + (cache_read or 0) + (cache_creation or 0)
    record.usage = Usage(
        prompt,
        output or 0,
        prompt + (output or 0),
        cache_read=cache_read,
        cache_creation=cache_creation,
    )


# --- stream accumulation ---------------------------------------------------------------


def accumulate(events: Sequence[Any], *, beta: bool = False, request_headers: Any = None) -> Any:
    """The Message that ``events`` (raw stream events, in order) add up to; None before
    ``message_start``. Common streams add up over plain dicts (:mod:`._accumulate`, the
    SDK's result at a fraction of its cost); others use the SDK's own accumulator, and a
    small one of ours over plain JSON when the SDK has none or it fails on an event it
    does not know."""
    if not events:
        return None
    if not beta:
        try:
            return accumulate_plain(events)
        except NotPlain:
            pass
        except Exception:
            logger.debug("tracekit: anthropic plain accumulation failed; using the SDK's accumulator", exc_info=True)
    try:
        return _accumulate_with_sdk(events, beta, request_headers)
    except Exception:
        return accumulate_json(events)


def _accumulate_with_sdk(events: Sequence[Any], beta: bool, request_headers: Any) -> Any:
    options: dict[str, Any] = {}
    if beta:
        # the beta accumulator knows the beta block types; since anthropic ~0.50 it
        # reads the request's anthropic-beta header (fine-grained tool streaming)
        from anthropic.lib.streaming._beta_messages import accumulate_event as accumulate_beta

        accumulate_event: Any = accumulate_beta
        options["request_headers"] = request_headers
    else:
        from anthropic.lib.streaming._messages import accumulate_event
    snapshot: Any = None
    json_bufs: dict[int, bytes] = {}
    for event in events:
        if snapshot is None and _get(event, "type") != "message_start":
            continue
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=json_bufs, **options)
    return snapshot


def _as_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def accumulate_json(events: Iterable[Any]) -> dict[str, Any] | None:
    """The fallback accumulator: the Message as JSON from raw stream events (models or dicts)."""
    message: dict[str, Any] | None = None
    buffers: dict[int, str] = {}
    for raw in events:
        event = _as_json(raw)
        if not isinstance(event, Mapping):
            continue
        kind = event.get("type")
        if kind == "message_start":
            message = copy.deepcopy(dict(event.get("message") or {}))
            message["content"] = list(message.get("content") or [])
            continue
        if message is None:
            continue
        index = event.get("index")
        content: list[dict[str, Any]] = message["content"]
        if kind == "content_block_start":
            content.append(copy.deepcopy(dict(event.get("content_block") or {})))
        elif kind == "content_block_delta" and isinstance(index, int) and 0 <= index < len(content):
            block, delta = content[index], event.get("delta") or {}
            delta_type = delta.get("type")
            if delta_type == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif delta_type == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif delta_type == "signature_delta":
                block["signature"] = delta.get("signature")
            elif delta_type == "input_json_delta":
                buffers[index] = buffers.get(index, "") + delta.get("partial_json", "")
                try:
                    block["input"] = json.loads(buffers[index])
                except ValueError:
                    pass  # incomplete JSON so far: keep the last complete value
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            for key in ("stop_reason", "stop_sequence"):
                if key in delta:
                    message[key] = delta[key]
            usage = dict(message.get("usage") or {})
            usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
            message["usage"] = usage
    return message

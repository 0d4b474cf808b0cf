"""Anthropic stream events added up over plain dicts: the SDK's accumulator, cheaply.

``anthropic.lib.streaming._messages.accumulate_event`` (anthropic 2.17.0) builds a
``ParsedMessage`` with ``construct`` and re-constructs every content block from its
``to_dict()``: about half of what tracing a 20-event stream costs the app's thread.
:func:`accumulate_plain` gives exactly the dict that ``model_dump(mode="json")`` of
the SDK's snapshot gives (key order included: it becomes ``mlflow.spanOutputs``),
dumping only the ``message_start`` message and each block's start once and reading
deltas as attributes.

It knows the common events only -- text, tool-input JSON, thinking and signature
deltas, ``message_delta`` stop fields and token counts -- and raises
:class:`NotPlain` for anything else (citations, server-tool blocks, a container or
stop details, beta streams, dict events), so that the caller uses the SDK's
accumulator for that stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class NotPlain(Exception):
    """An event :func:`accumulate_plain` does not handle: use the SDK's accumulator."""


#: content block types whose deltas are handled here, with the delta type each takes
_BLOCK_DELTAS = {"text": "text_delta", "tool_use": "input_json_delta", "thinking": "thinking_delta"}
#: events the SDK's accumulator reads nothing from
_IGNORED = frozenset({"content_block_stop", "message_stop", "ping"})
#: ``message_delta`` usage counts copied when not None (as the SDK does); the model-valued
#: ones (``server_tool_use``, ``output_tokens_details``) are not handled here
_USAGE_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _dump(model: Any) -> dict[str, Any]:
    """A model's JSON dump, as the SDK's snapshot dumps it; NotPlain for anything else."""
    if isinstance(model, dict) or not hasattr(model, "model_dump"):
        raise NotPlain
    data = model.model_dump(mode="json", warnings=False)
    if not isinstance(data, dict):
        raise NotPlain
    return data


def accumulate_plain(events: Sequence[Any]) -> dict[str, Any] | None:
    """The dict ``model_dump(mode="json")`` gives for the SDK's (non-beta) snapshot of
    ``events``; None when no ``message_start`` came. Raises :class:`NotPlain` for an
    event it does not handle and ``ValueError`` for tool input JSON the SDK rejects."""
    message: dict[str, Any] | None = None
    content: list[dict[str, Any]] = []
    kinds: list[str] = []  # each block's type
    pieces: dict[int, list[str]] = {}  # text / thinking pieces per block, joined at the end
    json_bufs: dict[int, list[str]] = {}  # tool input JSON pieces per block
    for event in events:
        kind = getattr(event, "type", None)
        if type(kind) is not str:
            raise NotPlain  # a dict event: the SDK constructs a model from it
        if message is None:
            if kind != "message_start":
                continue  # the SDK path skips events before message_start too
            message = _dump(event.message)
            if message.get("content") or not isinstance(message.get("usage"), dict):
                raise NotPlain
            content = message["content"] = []
            continue
        if kind == "content_block_delta":
            index = event.index
            delta = event.delta
            delta_type = delta.type
            if not 0 <= index < len(content):
                raise NotPlain  # the SDK raises IndexError (and its caller falls back)
            block_type = kinds[index]
            if delta_type == "signature_delta" and block_type == "thinking":
                content[index]["signature"] = delta.signature
            elif _BLOCK_DELTAS.get(block_type) != delta_type:
                raise NotPlain  # citations, or a delta for another block type
            elif delta_type == "text_delta":
                pieces[index].append(delta.text)
            elif delta_type == "thinking_delta":
                pieces[index].append(delta.thinking)
            else:
                json_bufs.setdefault(index, []).append(delta.partial_json)
        elif kind == "content_block_start":
            block = _dump(event.content_block)
            block_type = block.get("type")
            if block_type not in _BLOCK_DELTAS:
                raise NotPlain
            if block_type == "text" and block.get("citations") is not None:
                raise NotPlain
            kinds.append(block_type)
            content.append(block)
            key = "thinking" if block_type == "thinking" else "text"
            if block_type != "tool_use":
                if not isinstance(block.get(key), str):
                    raise NotPlain
                pieces[len(content) - 1] = [block[key]]
        elif kind == "message_delta":
            _message_delta(message, event)
        elif kind not in _IGNORED:
            raise NotPlain
    if message is None:
        return None
    for index, parts in pieces.items():
        content[index]["thinking" if kinds[index] == "thinking" else "text"] = "".join(parts)
    for index, parts in json_bufs.items():
        buffer = "".join(parts).encode("utf-8")
        if buffer:
            from jiter import from_json  # the parser the SDK uses (a dependency of anthropic)

            # The SDK parses the growing buffer after every delta, in partial mode; a
            # prefix that fails makes the whole buffer fail, so one parse at the end
            # gives the same value, or the same ValueError
            content[index]["input"] = from_json(buffer, partial_mode=True)
    return message


def _message_delta(message: dict[str, Any], event: Any) -> None:
    delta = event.delta
    if getattr(delta, "stop_details", None) is not None or getattr(delta, "container", None) is not None:
        raise NotPlain
    stop_reason, stop_sequence = delta.stop_reason, delta.stop_sequence
    if not (stop_reason is None or isinstance(stop_reason, str)) or not (stop_sequence is None or isinstance(stop_sequence, str)):
        raise NotPlain
    message["stop_reason"] = stop_reason
    message["stop_sequence"] = stop_sequence
    if "stop_details" in message:
        message["stop_details"] = None
    usage = event.usage
    if getattr(usage, "server_tool_use", None) is not None or getattr(usage, "output_tokens_details", None) is not None:
        raise NotPlain
    counts: dict[str, Any] = message["usage"]
    counts["output_tokens"] = _count(usage.output_tokens)
    for key in _USAGE_COUNTS:
        value = getattr(usage, key, None)
        if value is not None:
            counts[key] = _count(value)


def _count(value: Any) -> Any:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise NotPlain

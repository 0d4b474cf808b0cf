"""OpenAI chat completions and legacy completions, plain and streamed (fake server).

Shapes follow the types of openai 3.54.0 (``openai/types/chat``, ``completion``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ._model import FakeResponse, json_response
from ._openai_common import _FINGERPRINT, _chat_usage, _headers, _tool_call_id, error_response
from ._scenarios import CREATED, Call
from ._stream import StreamBuilder, ToolCallPlan, completion_units, plan_tool_calls, structured_text

__all__ = ["chat", "completions"]

# --------------------------------------------------------------------------- chat


def _chat_tools(body: dict[str, Any]) -> list[tuple[str, Any]]:
    tools: list[tuple[str, Any]] = []
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            fn = tool["function"]
            tools.append((str(fn.get("name", "tool")), fn.get("parameters")))
    for fn in body.get("functions") or []:  # legacy `functions=`
        if isinstance(fn, dict):
            tools.append((str(fn.get("name", "tool")), fn.get("parameters")))
    return tools


def _chat_text(call: Call) -> str:
    """Reply content, JSON for ``response_format`` json_schema / json_object."""
    if call.scenario in ("safety_block", "safety_block_response", "empty_stream"):
        return ""
    fmt = call.body.get("response_format")
    if isinstance(fmt, dict) and call.scenario != "refusal":
        if fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema") or {}
            return structured_text(schema)
        if fmt.get("type") == "json_object":
            return json.dumps({"message": call.options.text})
    return call.reply_text


def _chat_finish(call: Call, tool_calls: Sequence[ToolCallPlan]) -> str:
    if tool_calls:
        return "tool_calls"
    if call.scenario in ("safety_block", "safety_block_response"):
        return "content_filter"
    if call.scenario == "cutoff":
        return "length"
    return "stop"


def chat(call: Call) -> FakeResponse:
    tool_calls = plan_tool_calls(call, _chat_tools(call.body))
    text = "" if tool_calls else _chat_text(call)
    base = {
        "id": f"chatcmpl-fake-{call.number}",
        "created": CREATED,
        "model": call.served_model,
        "system_fingerprint": _FINGERPRINT,
        "service_tier": "default",
    }
    refusal = call.scenario == "refusal"
    if not call.stream:
        if call.scenario == "cutoff":
            text = "".join(call.pieces(text)[: call.cut_point(len(call.pieces(text)))])
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if (refusal or tool_calls) else text,
            "refusal": text if refusal else None,
            "annotations": [],
        }
        if tool_calls:
            message["tool_calls"] = [
                {
                    "id": _tool_call_id(call, plan),
                    "type": "function",
                    "function": {"name": plan.name, "arguments": plan.arguments_json},
                }
                for plan in tool_calls
            ]
        payload = {
            **base,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _chat_finish(call, tool_calls)}],
            "usage": _chat_usage(call, completion_units(call, text, tool_calls)),
        }
        return json_response(200, payload, _headers(call), delay=call.first_token_delay)

    include_usage = bool((call.body.get("stream_options") or {}).get("include_usage"))
    out = StreamBuilder(call)

    def chunk(delta: dict[str, Any], finish: str | None = None, *, content: bool = False) -> None:
        data: dict[str, Any] = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            data["usage"] = None
        out.add(data, content=content)

    if call.scenario == "empty_stream":
        out.add_raw(b"data: [DONE]\n\n")
        return out.response(_headers(call))

    first: dict[str, Any] = {"role": "assistant", "content": None if (refusal or tool_calls) else ""}
    if refusal:
        first["refusal"] = ""
    chunk(first)
    pieces = call.pieces(text)
    if call.breaks_stream:
        pieces = pieces[: call.cut_point(len(pieces))]
    for piece in pieces:
        chunk({"refusal": piece} if refusal else {"content": piece}, content=True)
    for plan in tool_calls:
        chunk(
            {
                "tool_calls": [
                    {
                        "index": plan.index,
                        "id": _tool_call_id(call, plan),
                        "type": "function",
                        "function": {"name": plan.name, "arguments": ""},
                    }
                ]
            }
        )
        for fragment in plan.fragments():
            chunk({"tool_calls": [{"index": plan.index, "function": {"arguments": fragment}}]}, content=True)
    if call.scenario == "midstream_error":
        error = error_response(call, 500, call.options.error_message)
        out.add_raw(b"data: " + error.body + b"\n\n")
        return out.response(_headers(call))
    if call.scenario == "cutoff":
        return out.response(_headers(call))
    if call.scenario == "disconnect":
        return out.response(_headers(call), end="abort")
    chunk({}, _chat_finish(call, tool_calls))
    if include_usage:
        out.add(
            {
                **base,
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": _chat_usage(call, completion_units(call, text, tool_calls)),
            }
        )
    out.add_raw(b"data: [DONE]\n\n")
    return out.response(_headers(call))


# --------------------------------------------------------------------------- completions


def completions(call: Call) -> FakeResponse:
    text = call.reply_text
    base = {
        "id": f"cmpl-fake-{call.number}",
        "created": CREATED,
        "model": call.served_model,
        "object": "text_completion",
        "system_fingerprint": _FINGERPRINT,
    }
    finish = "content_filter" if call.scenario.startswith("safety_block") else "stop"
    if call.scenario.startswith("safety_block"):
        text = ""
    pieces = call.pieces(text)
    if not call.stream:
        if call.scenario == "cutoff":
            pieces, finish = pieces[: call.cut_point(len(pieces))], "length"
        payload = {
            **base,
            "choices": [{"text": "".join(pieces), "index": 0, "logprobs": None, "finish_reason": finish}],
            "usage": _chat_usage(call, len(pieces)),
        }
        return json_response(200, payload, _headers(call), delay=call.first_token_delay)

    include_usage = bool((call.body.get("stream_options") or {}).get("include_usage"))
    out = StreamBuilder(call)
    if call.scenario == "empty_stream":
        out.add_raw(b"data: [DONE]\n\n")
        return out.response(_headers(call))
    if call.breaks_stream:
        pieces = pieces[: call.cut_point(len(pieces))]
    for piece in pieces:
        out.add({**base, "choices": [{"text": piece, "index": 0, "logprobs": None, "finish_reason": None}]}, content=True)
    if call.scenario == "midstream_error":
        out.add_raw(b"data: " + error_response(call, 500, call.options.error_message).body + b"\n\n")
        return out.response(_headers(call))
    if call.scenario in ("cutoff", "disconnect"):
        return out.response(_headers(call), end="abort" if call.scenario == "disconnect" else "complete")
    out.add({**base, "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": finish}]})
    if include_usage:
        out.add({**base, "choices": [], "usage": _chat_usage(call, len(pieces))})
    out.add_raw(b"data: [DONE]\n\n")
    return out.response(_headers(call))

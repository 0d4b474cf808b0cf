"""OpenAI wire protocol: chat completions, responses, completions, embeddings.

Shapes follow the types of openai 3.54.0 (``openai/types``). The SDK parses
leniently, but its stream helpers are strict about ordering: the Responses
helper needs ``response.created`` first and the same response id on every
lifecycle event, and a ``response.completed`` whose output items were all
announced with ``output_item.added`` / ``output_item.done``.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Sequence
from typing import Any

from ._model import FakeResponse, json_response
from ._scenarios import (
    CACHE_CREATION_TOKENS,
    CACHED_TOKENS,
    CREATED,
    REASONING_TEXT,
    Call,
    embedding_vector,
)
from ._stream import (
    StreamBuilder,
    ToolCallPlan,
    completion_units,
    plan_tool_calls,
    reasoning_tokens,
    structured_text,
)

__all__ = ["handle", "error_response"]

_FINGERPRINT = "fp_fake"


def _headers(call: Call) -> list[tuple[str, str]]:
    return [("x-request-id", f"req_fake_{call.number}"), ("openai-processing-ms", "1")]


def error_response(call: Call | None, status: int, message: str | None = None) -> FakeResponse:
    """An error in OpenAI's shape: ``{"error": {message, type, param, code}}``."""
    model = call.model if call else "unknown"
    kind, code, default = {
        400: ("invalid_request_error", None, "Invalid request (fake error_400)."),
        401: (
            "invalid_request_error",
            "invalid_api_key",
            "Incorrect API key provided: sk-fake. You can find your API key at https://platform.openai.com/account/api-keys.",
        ),
        404: (
            "invalid_request_error",
            "model_not_found",
            f"The model `{model}` does not exist or you do not have access to it.",
        ),
        429: (
            "requests",
            "rate_limit_exceeded",
            f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, Requested 1.",
        ),
        500: (
            "server_error",
            None,
            "The server had an error while processing your request. Sorry about that!",
        ),
        529: ("server_error", None, "The engine is currently overloaded, please try again later."),
    }.get(status, ("invalid_request_error", None, f"Error {status}."))
    headers = _headers(call) if call else []
    if status == 429 and call is not None:
        headers.append(("retry-after", _seconds(call.options.retry_after)))
    body = {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
    return json_response(status, body, headers)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def handle(call: Call, endpoint: str) -> FakeResponse:
    """Answer one OpenAI request (``endpoint`` is chat, responses, completions or embeddings)."""
    status = call.error_status
    if status is not None:
        return error_response(call, status, call.options.error_message)
    if endpoint == "embeddings":
        return _embeddings(call)
    if not call.stream:
        if call.scenario == "disconnect":
            return FakeResponse.drop()
        if call.scenario == "midstream_error":
            return error_response(call, 500, call.options.error_message)
    if endpoint == "chat":
        return _chat(call)
    if endpoint == "responses":
        return _responses(call)
    return _completions(call)


# --------------------------------------------------------------------------- usage


def _chat_usage(call: Call, output_units: int) -> dict[str, Any]:
    prompt = call.prompt_tokens
    cached = cache_write = 0
    if call.scenario == "cached_usage":
        cached, cache_write = CACHED_TOKENS, CACHE_CREATION_TOKENS
    reasoning = reasoning_tokens(call)
    prompt += cached + cache_write
    completion = output_units + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0, "cache_write_tokens": cache_write},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _responses_usage(call: Call, output_units: int) -> dict[str, Any]:
    usage = _chat_usage(call, output_units)
    return {
        "input_tokens": usage["prompt_tokens"],
        "input_tokens_details": {
            "cached_tokens": usage["prompt_tokens_details"]["cached_tokens"],
            "cache_write_tokens": usage["prompt_tokens_details"]["cache_write_tokens"],
        },
        "output_tokens": usage["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": usage["completion_tokens_details"]["reasoning_tokens"]},
        "total_tokens": usage["total_tokens"],
    }


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


def _tool_call_id(call: Call, plan: ToolCallPlan) -> str:
    return f"call_fake_{call.number}_{plan.index}"


def _chat(call: Call) -> FakeResponse:
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


def _completions(call: Call) -> FakeResponse:
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


# --------------------------------------------------------------------------- embeddings


def _embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return [" ".join(map(str, value))]  # one pre-tokenized input
        return [v if isinstance(v, str) else " ".join(map(str, v)) for v in value]
    return [""]


def _embeddings(call: Call) -> FakeResponse:
    inputs = _embedding_inputs(call.body.get("input"))
    dims = call.body.get("dimensions")
    dimensions = dims if isinstance(dims, int) and dims > 0 else call.options.embedding_dimensions
    b64 = call.body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(inputs):
        vector = embedding_vector(text, dimensions)
        # openai 3.54.0 asks for base64 unless the caller chose a format, then
        # decodes little-endian float32 itself.
        encoded: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode() if b64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = max(1, sum(len(t) for t in inputs) // 4)
    payload = {
        "object": "list",
        "data": data,
        "model": call.served_model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json_response(200, payload, _headers(call), delay=call.first_token_delay)


# --------------------------------------------------------------------------- responses


def _responses_tools(body: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (str(tool.get("name", "tool")), tool.get("parameters"))
        for tool in body.get("tools") or []
        if isinstance(tool, dict) and tool.get("type") == "function"
    ]


def _responses_text(call: Call) -> str:
    if call.scenario in ("safety_block", "safety_block_response", "empty_stream"):
        return ""
    fmt = (call.body.get("text") or {}).get("format") if isinstance(call.body.get("text"), dict) else None
    if isinstance(fmt, dict) and call.scenario != "refusal":
        if fmt.get("type") == "json_schema":
            return structured_text(fmt.get("schema") or {})
        if fmt.get("type") == "json_object":
            return json.dumps({"message": call.options.text})
    return call.reply_text


def _responses(call: Call) -> FakeResponse:
    tool_calls = plan_tool_calls(call, _responses_tools(call.body))
    text = "" if tool_calls else _responses_text(call)
    refusal = call.scenario == "refusal"
    reasoning = call.wants_reasoning
    blocked = call.scenario.startswith("safety_block")
    n = call.number
    response_id = f"resp_fake_{n}"
    reasoning_item = {
        "id": f"rs_fake_{n}",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": REASONING_TEXT}],
    }
    message_id = f"msg_fake_{n}"

    def part(value: str) -> dict[str, Any]:
        if refusal:
            return {"type": "refusal", "refusal": value}
        return {"type": "output_text", "text": value, "annotations": [], "logprobs": []}

    def message(value: str, status: str) -> dict[str, Any]:
        return {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": [part(value)] if status != "in_progress" else [],
        }

    def function_call(plan: ToolCallPlan, arguments: str, status: str) -> dict[str, Any]:
        return {
            "id": f"fc_fake_{n}_{plan.index}",
            "type": "function_call",
            "call_id": _tool_call_id(call, plan),
            "name": plan.name,
            "arguments": arguments,
            "status": status,
        }

    def response(status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        body = call.body
        return {
            "id": response_id,
            "object": "response",
            "created_at": CREATED,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "metadata": body.get("metadata") or {},
            "model": call.served_model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "service_tier": "default",
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation", "disabled"),
            "usage": usage,
            "user": None,
            **extra,
        }

    final_output: list[dict[str, Any]] = []
    if reasoning:
        final_output.append(reasoning_item)
    if tool_calls:
        final_output += [function_call(p, p.arguments_json, "completed") for p in tool_calls]
    elif not blocked and call.scenario != "empty_stream":
        final_output.append(message(text, "completed"))
    units = completion_units(call, text, tool_calls)
    blocked_extra: dict[str, Any] = {"incomplete_details": {"reason": "content_filter"}} if blocked else {}

    if not call.stream:
        if call.scenario == "cutoff":
            pieces = call.pieces(text)
            text = "".join(pieces[: call.cut_point(len(pieces))])
            final_output = [*([reasoning_item] if reasoning else []), message(text, "incomplete")]
            payload = response(
                "incomplete",
                final_output,
                _responses_usage(call, len(call.pieces(text))),
                incomplete_details={"reason": "max_output_tokens"},
            )
        else:
            payload = response(
                "incomplete" if blocked else "completed", final_output, _responses_usage(call, units), **blocked_extra
            )
        return json_response(200, payload, _headers(call), delay=call.first_token_delay)

    out = StreamBuilder(call)
    seq = 0

    def emit(kind: str, content: bool = False, **fields: Any) -> None:
        nonlocal seq
        out.add({"type": kind, "sequence_number": seq, **fields}, event=kind, content=content)
        seq += 1

    emit("response.created", response=response("in_progress", [], None))
    emit("response.in_progress", response=response("in_progress", [], None))
    index = 0
    if reasoning:
        item_id = reasoning_item["id"]
        emit("response.output_item.added", output_index=index, item={**reasoning_item, "summary": []})
        emit(
            "response.reasoning_summary_part.added",
            item_id=item_id,
            output_index=index,
            summary_index=0,
            part={"type": "summary_text", "text": ""},
        )
        for piece in call.pieces(REASONING_TEXT)[:4]:
            emit(
                "response.reasoning_summary_text.delta",
                True,
                item_id=item_id,
                output_index=index,
                summary_index=0,
                delta=piece,
            )
        # Only the first pieces are streamed above, so the done events carry the full text.
        emit(
            "response.reasoning_summary_text.done",
            item_id=item_id,
            output_index=index,
            summary_index=0,
            text=REASONING_TEXT,
        )
        emit(
            "response.reasoning_summary_part.done",
            item_id=item_id,
            output_index=index,
            summary_index=0,
            part={"type": "summary_text", "text": REASONING_TEXT},
        )
        emit("response.output_item.done", output_index=index, item=reasoning_item)
        index += 1

    if call.scenario == "empty_stream":
        emit("response.completed", response=response("completed", final_output, _responses_usage(call, 0)))
        return out.response(_headers(call))
    if blocked:
        emit(
            "response.incomplete",
            response=response("incomplete", final_output, _responses_usage(call, 0), **blocked_extra),
        )
        return out.response(_headers(call))

    for plan in tool_calls:
        item_id = f"fc_fake_{n}_{plan.index}"
        emit("response.output_item.added", output_index=index, item=function_call(plan, "", "in_progress"))
        for fragment in plan.fragments():
            emit("response.function_call_arguments.delta", True, item_id=item_id, output_index=index, delta=fragment)
        emit(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=index,
            name=plan.name,
            arguments=plan.arguments_json,
        )
        emit("response.output_item.done", output_index=index, item=function_call(plan, plan.arguments_json, "completed"))
        index += 1

    if not tool_calls:
        emit("response.output_item.added", output_index=index, item=message("", "in_progress"))
        emit("response.content_part.added", item_id=message_id, output_index=index, content_index=0, part=part(""))
        pieces = call.pieces(text)
        if call.breaks_stream:
            pieces = pieces[: call.cut_point(len(pieces))]
        for piece in pieces:
            if refusal:
                emit("response.refusal.delta", True, item_id=message_id, output_index=index, content_index=0, delta=piece)
            else:
                emit(
                    "response.output_text.delta",
                    True,
                    item_id=message_id,
                    output_index=index,
                    content_index=0,
                    delta=piece,
                    logprobs=[],
                )
        if call.scenario == "midstream_error":
            message_text = call.options.error_message or (
                "The server had an error while processing your request. Sorry about that!"
            )
            emit("error", code="server_error", message=message_text, param=None)
            failed = response("failed", [], None)
            failed["error"] = {"code": "server_error", "message": message_text}
            emit("response.failed", response=failed)
            return out.response(_headers(call))
        if call.scenario == "cutoff":
            return out.response(_headers(call))
        if call.scenario == "disconnect":
            return out.response(_headers(call), end="abort")
        if refusal:
            emit("response.refusal.done", item_id=message_id, output_index=index, content_index=0, refusal=text)
        else:
            emit(
                "response.output_text.done",
                item_id=message_id,
                output_index=index,
                content_index=0,
                text=text,
                logprobs=[],
            )
        emit("response.content_part.done", item_id=message_id, output_index=index, content_index=0, part=part(text))
        emit("response.output_item.done", output_index=index, item=message(text, "completed"))

    emit("response.completed", response=response("completed", final_output, _responses_usage(call, units)))
    return out.response(_headers(call))

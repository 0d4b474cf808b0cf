"""Anthropic wire protocol: ``/v1/messages`` and ``/v1/messages/count_tokens``.

Shapes follow anthropic 2.12.0 (``anthropic/types``). Its SSE reader skips
events without an ``event:`` line, so every event carries one; ``event: error``
mid-stream raises ``APIStatusError`` in the SDK.
"""

from __future__ import annotations

from typing import Any

from ._model import FakeResponse, json_response
from ._scenarios import CACHE_CREATION_TOKENS, CACHED_TOKENS, REASONING_TEXT, Call
from ._stream import (
    StreamBuilder,
    ToolCallPlan,
    completion_units,
    plan_tool_calls,
    reasoning_tokens,
    structured_text,
)

__all__ = ["error_response", "handle"]

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request (fake error_400)."),
    401: ("authentication_error", "invalid x-api-key"),
    404: ("not_found_error", "model: {model}"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def _headers(call: Call | None) -> list[tuple[str, str]]:
    return [("request-id", f"req_fake_{call.number}")] if call else []


def _error_body(call: Call | None, status: int, message: str | None) -> dict[str, Any]:
    kind, default = _ERRORS.get(status, ("api_error", f"Error {status}."))
    text = message or default.format(model=call.model if call else "unknown")
    body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": text}}
    if call is not None:
        body["request_id"] = f"req_fake_{call.number}"
    return body


def error_response(call: Call | None, status: int, message: str | None = None) -> FakeResponse:
    """An error in Anthropic's shape: ``{"type": "error", "error": {type, message}}``."""
    headers = _headers(call)
    if status == 429 and call is not None:
        value = call.options.retry_after
        headers.append(("retry-after", str(int(value)) if float(value).is_integer() else str(value)))
    return json_response(status, _error_body(call, status, message), headers)


def handle(call: Call, endpoint: str) -> FakeResponse:
    """Answer one Anthropic request (``endpoint`` is messages or count_tokens)."""
    status = call.error_status
    if status is not None:
        return error_response(call, status, call.options.error_message)
    if endpoint == "count_tokens":
        return json_response(200, {"input_tokens": call.prompt_tokens}, _headers(call))
    if not call.stream:
        if call.scenario == "disconnect":
            return FakeResponse.drop()
        if call.scenario == "midstream_error":
            return error_response(call, 529, call.options.error_message)
    return _messages(call)


def _tools(body: dict[str, Any]) -> list[tuple[str, Any]]:
    # Server tools (web search, ...) have a `type` and no input_schema: not callable here.
    return [
        (str(tool.get("name", "tool")), tool.get("input_schema"))
        for tool in body.get("tools") or []
        if isinstance(tool, dict) and "input_schema" in tool
    ]


def _text(call: Call) -> str:
    if call.scenario in ("safety_block", "safety_block_response", "empty_stream"):
        return ""
    for holder in (call.body.get("output_config"), call.body):
        fmt = holder.get("output_format" if holder is call.body else "format") if isinstance(holder, dict) else None
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and call.scenario != "refusal":
            return structured_text(fmt.get("schema") or {})
    return call.reply_text


def _stop_reason(call: Call, tool_calls: list[ToolCallPlan]) -> str:
    if tool_calls:
        return "tool_use"
    if call.scenario in ("refusal", "safety_block", "safety_block_response"):
        return "refusal"
    if call.scenario == "cutoff":
        return "max_tokens"
    return "end_turn"


def _usage(call: Call, output: int, *, final: bool = True) -> dict[str, Any]:
    cached = call.scenario == "cached_usage"
    creation = CACHE_CREATION_TOKENS if cached else 0
    return {
        "input_tokens": call.prompt_tokens,
        "output_tokens": output if final else 1,
        "cache_creation_input_tokens": creation,
        "cache_read_input_tokens": CACHED_TOKENS if cached else 0,
        "cache_creation": {"ephemeral_5m_input_tokens": creation, "ephemeral_1h_input_tokens": 0},
        "service_tier": "standard",
    }


def _messages(call: Call) -> FakeResponse:
    n = call.number
    tool_calls = plan_tool_calls(call, _tools(call.body))
    text = "" if tool_calls else _text(call)
    thinking = call.wants_reasoning
    signature = f"fake-signature-{n}"
    output_units = completion_units(call, text, tool_calls) + reasoning_tokens(call)
    stop_reason = _stop_reason(call, tool_calls)

    def tool_block(plan: ToolCallPlan, value: dict[str, Any]) -> dict[str, Any]:
        return {"type": "tool_use", "id": f"toolu_fake_{n}_{plan.index}", "name": plan.name, "input": value}

    message: dict[str, Any] = {
        "id": f"msg_fake_{n}",
        "type": "message",
        "role": "assistant",
        "model": call.served_model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }

    if not call.stream:
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": REASONING_TEXT, "signature": signature})
        if call.scenario == "cutoff":
            pieces = call.pieces(text)
            text = "".join(pieces[: call.cut_point(len(pieces))])
            output_units = len(call.pieces(text))
        if text:
            content.append({"type": "text", "text": text})
        content += [tool_block(plan, plan.arguments) for plan in tool_calls]
        payload = {**message, "content": content, "stop_reason": stop_reason, "usage": _usage(call, output_units)}
        return json_response(200, payload, _headers(call), delay=call.first_token_delay)

    out = StreamBuilder(call)

    def emit(kind: str, content: bool = False, **fields: Any) -> None:
        out.add({"type": kind, **fields}, event=kind, content=content)

    emit("message_start", message={**message, "usage": _usage(call, output_units, final=False)})
    index = 0
    pinged = False

    def start(block: dict[str, Any]) -> None:
        nonlocal pinged
        emit("content_block_start", index=index, content_block=block)
        if not pinged:  # the real API pings once, right after the first block starts
            emit("ping")
            pinged = True

    if thinking:
        start({"type": "thinking", "thinking": "", "signature": ""})
        for piece in call.pieces(REASONING_TEXT)[:4]:
            emit("content_block_delta", True, index=index, delta={"type": "thinking_delta", "thinking": piece})
        # The streamed pieces above are a prefix; one last delta completes the text.
        rest = REASONING_TEXT[len("".join(call.pieces(REASONING_TEXT)[:4])) :]
        if rest:
            emit("content_block_delta", True, index=index, delta={"type": "thinking_delta", "thinking": rest})
        emit("content_block_delta", index=index, delta={"type": "signature_delta", "signature": signature})
        emit("content_block_stop", index=index)
        index += 1

    if text or call.breaks_stream:
        start({"type": "text", "text": ""})
        pieces = call.pieces(text)
        if call.breaks_stream:
            pieces = pieces[: call.cut_point(len(pieces))]
        for piece in pieces:
            emit("content_block_delta", True, index=index, delta={"type": "text_delta", "text": piece})
        if call.scenario == "midstream_error":
            out.add(_error_body(None, 529, call.options.error_message), event="error")
            return out.response(_headers(call))
        if call.scenario == "cutoff":
            return out.response(_headers(call))
        if call.scenario == "disconnect":
            return out.response(_headers(call), end="abort")
        emit("content_block_stop", index=index)
        index += 1

    for plan in tool_calls:
        start(tool_block(plan, {}))
        emit("content_block_delta", index=index, delta={"type": "input_json_delta", "partial_json": ""})
        for fragment in plan.fragments():
            emit("content_block_delta", True, index=index, delta={"type": "input_json_delta", "partial_json": fragment})
        emit("content_block_stop", index=index)
        index += 1

    final_usage = _usage(call, output_units)
    final_usage.pop("cache_creation")
    final_usage.pop("service_tier")
    emit("message_delta", delta={"stop_reason": stop_reason, "stop_sequence": None}, usage=final_usage)
    emit("message_stop")
    return out.response(_headers(call))

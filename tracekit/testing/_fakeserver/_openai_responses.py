"""The OpenAI Responses API (fake server): one response, or its stream of typed events.

Shapes follow the types of openai 3.54.0 (``openai/types/responses``). The SDK's
stream helper is strict about ordering: it needs ``response.created`` first and the
same response id on every lifecycle event, and a ``response.completed`` whose output
items were all announced with ``output_item.added`` / ``output_item.done``.
"""

from __future__ import annotations

import json
from typing import Any

from ._model import FakeResponse, json_response
from ._openai_common import _headers, _responses_usage, _tool_call_id
from ._scenarios import CREATED, REASONING_TEXT, Call
from ._stream import StreamBuilder, ToolCallPlan, completion_units, plan_tool_calls, structured_text

__all__ = ["responses"]

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


def responses(call: Call) -> FakeResponse:
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

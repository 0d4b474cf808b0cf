"""One call's conversation in a neutral form, from what tracekit recorded.

Every provider's request and response (``mlflow.spanInputs``/``mlflow.spanOutputs`` in
the wire format ``mlflow.message.format`` names) normalized into the OpenTelemetry
GenAI "parts" form: a list of ``{"role", "parts": [...]}`` input messages, the system
instructions given apart from the chat history, and the output messages with their
finish reasons. Part types: ``text``, ``tool_call`` (id, name, arguments as JSON),
``tool_call_response`` (id, response), ``reasoning``, ``uri``/``blob``/``file_data``.

Used by the OTLP exporter (``gen_ai.*`` and OpenInference attributes) and by the CLI's
conversation view. Pure functions; an unknown shape is skipped, never raised on.

>>> conversation({"mlflow.message.format": "anthropic",
...     "mlflow.spanInputs": '{"system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}'})[:2]
([{'role': 'user', 'parts': [{'type': 'text', 'content': 'hi'}]}], [{'type': 'text', 'content': 'Be brief.'}])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from tracekit import _attributes as attr

__all__ = ["Conversation", "compact_json", "conversation", "conversation_of", "finish_reason", "loads", "text_part"]

# --- helpers ------------------------------------------------------------------------------


def loads(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None  # cut to the size limit: no longer JSON, nothing to map


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _get(data: Any, *keys: str) -> Any:
    """The first of ``keys`` present in ``data`` (snake and camel spellings)."""
    if isinstance(data, Mapping):
        for key in keys:
            value = data.get(key)
            if value is not None:
                return value
    return None


def _args(value: Any) -> Any:
    """Tool-call arguments as a JSON value (OpenAI sends them as a JSON string)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def text_part(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


Conversation = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def conversation_of(fmt: Any, inputs: Any, outputs: Any, attributes: Mapping[str, Any]) -> Conversation | None:
    """(input messages, system instructions, output messages) in semconv's parts form."""
    finish = attributes.get(attr.GEN_AI_FINISH_REASONS)
    finish_reasons = [str(f) for f in finish] if isinstance(finish, (list, tuple)) else []
    if attributes.get(attr.GEN_AI_OPERATION) == attr.OP_EMBEDDINGS:
        return None
    if fmt == "openai":
        return _openai(inputs, outputs, finish_reasons)
    if fmt == "anthropic":
        return _anthropic(inputs, outputs)
    if fmt == "gemini":
        return _gemini(inputs, outputs)
    return None


def _openai_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        kind = _get(part, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(text_part(str(_get(part, "text") or "")))
        elif kind == "refusal":
            parts.append(text_part(str(_get(part, "refusal") or "")))
        elif kind in ("image_url", "input_image"):
            url = _get(part, "image_url")
            url = _get(url, "url") if isinstance(url, Mapping) else url
            parts.append({"type": "uri", "modality": "image", "uri": str(url)} if url else {"type": kind})
        elif isinstance(kind, str):
            parts.append({"type": kind})
    return parts


def _openai_message(message: Mapping[str, Any]) -> dict[str, Any]:
    role = str(message.get("role") or "user")
    parts = _openai_parts(message.get("content"))
    if role == "tool":
        content = message.get("content")
        response = content if isinstance(content, str) else " ".join(p.get("content", "") for p in parts)
        parts = [{"type": "tool_call_response", "id": message.get("tool_call_id"), "response": response}]
    for call in message.get("tool_calls") or []:
        function = _get(call, "function") or {}
        parts.append(
            {
                "type": "tool_call",
                "id": _get(call, "id"),
                "name": _get(function, "name"),
                "arguments": _args(_get(function, "arguments")),
            }
        )
    out: dict[str, Any] = {"role": "system" if role == "developer" else role, "parts": parts}
    if message.get("name"):
        out["name"] = message["name"]
    return out


def _responses_items(items: Any) -> list[dict[str, Any]]:
    """Responses API input/output items as messages (function calls and outputs included)."""
    if isinstance(items, str):
        return [{"role": "user", "parts": [text_part(items)]}]
    messages: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        kind = _get(item, "type")
        if kind == "function_call":
            part = {
                "type": "tool_call",
                "id": _get(item, "call_id"),
                "name": _get(item, "name"),
                "arguments": _args(_get(item, "arguments")),
            }
            messages.append({"role": "assistant", "parts": [part]})
        elif kind == "function_call_output":
            part = {"type": "tool_call_response", "id": _get(item, "call_id"), "response": _get(item, "output")}
            messages.append({"role": "tool", "parts": [part]})
        elif kind == "reasoning":
            summary = " ".join(str(_get(s, "text") or "") for s in _get(item, "summary") or [])
            messages.append({"role": "assistant", "parts": [{"type": "reasoning", "content": summary}]})
        elif isinstance(item, Mapping) and "role" in item:
            role = str(item["role"])
            messages.append({"role": "system" if role == "developer" else role, "parts": _openai_parts(item.get("content"))})
    return messages


#: provider finish reasons in semconv's words (gen_ai.output.messages' finish_reason)
_FINISH = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "tool_use": "tool_call",
    "content_filter": "content_filter",
    "safety": "content_filter",
    "refusal": "content_filter",
    "recitation": "content_filter",
    "blocklist": "content_filter",
    "prohibited_content": "content_filter",
    "error": "error",
}


def finish_reason(reason: Any) -> str:
    text = str(reason or "stop")
    return _FINISH.get(text.lower(), text)


def _merge_assistant(messages: list[dict[str, Any]], reason: str) -> list[dict[str, Any]]:
    """One output message of the assistant's parts, as semconv expects for one choice."""
    parts = [part for message in messages for part in message["parts"]]
    return [{"role": "assistant", "parts": parts, "finish_reason": reason}] if parts else []


def _openai(inputs: Any, outputs: Any, finish_reasons: list[str]) -> Conversation:
    messages: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    if isinstance(inputs, Mapping):
        if isinstance(inputs.get("messages"), list):
            messages = [_openai_message(m) for m in inputs["messages"] if isinstance(m, Mapping)]
        elif "input" in inputs:
            messages = _responses_items(inputs["input"])
        elif "prompt" in inputs:
            prompt = inputs["prompt"]
            prompts = prompt if isinstance(prompt, list) else [prompt]
            messages = [{"role": "user", "parts": [text_part(str(p))]} for p in prompts]
        if isinstance(inputs.get("instructions"), str):
            system = [text_part(inputs["instructions"])]
    if isinstance(outputs, Mapping):
        for choice in outputs.get("choices") or []:
            reason = str(_get(choice, "finish_reason") or "stop")
            message = _get(choice, "message")
            if isinstance(message, Mapping):
                item = _openai_message({**message, "role": "assistant"})
                item["finish_reason"] = reason
                out.append(item)
            elif isinstance(_get(choice, "text"), str):
                out.append({"role": "assistant", "parts": [text_part(choice["text"])], "finish_reason": reason})
        if isinstance(outputs.get("output"), list):
            out = _merge_assistant(_responses_items(outputs["output"]), finish_reasons[0] if finish_reasons else "stop")
    return messages, system, out


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else []:
        kind = _get(block, "type")
        if kind == "text":
            parts.append(text_part(str(_get(block, "text") or "")))
        elif kind in ("tool_use", "server_tool_use"):
            parts.append(
                {"type": "tool_call", "id": _get(block, "id"), "name": _get(block, "name"), "arguments": _get(block, "input")}
            )
        elif kind == "tool_result":
            result = _get(block, "content")
            if isinstance(result, list):
                result = " ".join(str(_get(b, "text") or "") for b in result)
            parts.append({"type": "tool_call_response", "id": _get(block, "tool_use_id"), "response": result})
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": str(_get(block, "thinking") or "")})
        elif isinstance(kind, str):
            source = _get(block, "source")
            modality = "image" if kind == "image" else None
            parts.append(
                {
                    "type": kind,
                    **({"modality": modality} if modality else {}),
                    **(
                        {"mime_type": _get(source, "media_type")}
                        if isinstance(source, Mapping) and _get(source, "media_type")
                        else {}
                    ),
                }
            )
    return parts


def _role_of(parts: Iterable[Mapping[str, Any]], role: str) -> str:
    """A user turn holding only tool results is the tool speaking (semconv's ``tool`` role)."""
    kinds = {part.get("type") for part in parts}
    return "tool" if kinds == {"tool_call_response"} else role


def _anthropic(inputs: Any, outputs: Any) -> Conversation:
    messages: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    if isinstance(inputs, Mapping):
        for message in inputs.get("messages") or []:
            if isinstance(message, Mapping):
                parts = _anthropic_blocks(message.get("content"))
                messages.append({"role": _role_of(parts, str(message.get("role") or "user")), "parts": parts})
        system = [p for p in _anthropic_blocks(inputs.get("system")) if p.get("type") == "text"]
    if isinstance(outputs, Mapping) and "content" in outputs:
        out = [
            {
                "role": "assistant",
                "parts": _anthropic_blocks(outputs.get("content")),
                "finish_reason": str(outputs.get("stop_reason") or "stop"),
            }
        ]
    return messages, system, out


def _gemini_parts(parts: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, str):
            out.append(text_part(part))
            continue
        call = _get(part, "function_call", "functionCall")
        response = _get(part, "function_response", "functionResponse")
        inline = _get(part, "inline_data", "inlineData")
        file_data = _get(part, "file_data", "fileData")
        if call is not None:
            out.append({"type": "tool_call", "id": _get(call, "id"), "name": _get(call, "name"), "arguments": _get(call, "args")})
        elif response is not None:
            out.append(
                {
                    "type": "tool_call_response",
                    "id": _get(response, "id") or _get(response, "name"),
                    "response": _get(response, "response"),
                }
            )
        elif _get(part, "text") is not None:
            text = str(_get(part, "text"))
            out.append({"type": "reasoning", "content": text} if _get(part, "thought") else text_part(text))
        elif inline is not None:
            out.append({"type": "blob", "mime_type": _get(inline, "mime_type", "mimeType"), "modality": "image", "content": ""})
        elif file_data is not None:
            out.append(
                {
                    "type": "file_data",
                    "modality": "image",
                    "uri": _get(file_data, "file_uri", "fileUri"),
                    "mime_type": _get(file_data, "mime_type", "mimeType"),
                }
            )
    return out


def _gemini_contents(contents: Any) -> list[dict[str, Any]]:
    if isinstance(contents, str):
        return [{"role": "user", "parts": [text_part(contents)]}]
    messages: list[dict[str, Any]] = []
    loose: list[Any] = []
    for item in contents if isinstance(contents, list) else [contents]:
        if isinstance(item, Mapping) and "parts" in item:
            parts = _gemini_parts(item.get("parts"))
            role = "assistant" if item.get("role") == "model" else str(item.get("role") or "user")
            messages.append({"role": _role_of(parts, role), "parts": parts})
        elif item is not None:
            loose.append(item)  # a bare string or part: the SDK sends these as one user turn
    if loose:
        messages.append({"role": "user", "parts": _gemini_parts(loose)})
    return messages


def _gemini(inputs: Any, outputs: Any) -> Conversation:
    messages: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    if isinstance(inputs, Mapping):
        messages = _gemini_contents(inputs.get("contents"))
        instruction = _get(_get(inputs, "config"), "system_instruction", "systemInstruction")
        if instruction is not None:
            system = [p for m in _gemini_contents(instruction) for p in m["parts"] if p.get("type") == "text"]
    if isinstance(outputs, Mapping):
        for candidate in outputs.get("candidates") or []:
            content = _get(candidate, "content")
            parts = _gemini_parts(_get(content, "parts"))
            reason = str(_get(candidate, "finish_reason", "finishReason") or "stop")
            out.append({"role": "assistant", "parts": parts, "finish_reason": reason})
    return messages, system, out


def conversation(attributes: Mapping[str, Any]) -> Conversation | None:
    """(input messages, system instructions, output messages) of the span with
    ``attributes``; None when it is not a model call tracekit knows the format of."""
    fmt = attributes.get(attr.MESSAGE_FORMAT)
    if not fmt:
        return None
    return conversation_of(fmt, loads(attributes.get(attr.SPAN_INPUTS)), loads(attributes.get(attr.SPAN_OUTPUTS)), attributes)

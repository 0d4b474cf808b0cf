"""The call as every OpenTelemetry backend reads it: GenAI message attributes and
OpenInference keys, derived from what tracekit recorded.

tracekit records each call once, as MLflow reads it (``mlflow.spanInputs`` = the
request as the SDK sent it, ``mlflow.spanOutputs`` = the response, ``mlflow.message.format``
= whose wire format). Backends other than MLflow read other keys:

* ``genai``: the OpenTelemetry GenAI semantic conventions' content attributes in their
  "parts" JSON form (semconv 1.37+): ``gen_ai.input.messages``, ``gen_ai.output.messages``,
  ``gen_ai.system_instructions``, ``gen_ai.tool.definitions``.
* ``openinference``: the keys Arize Phoenix and other OpenInference backends read:
  ``openinference.span.kind``, ``input.value``/``output.value`` with mime types,
  ``llm.input_messages.*``/``llm.output_messages.*`` (tool calls included),
  ``llm.model_name``, ``llm.provider``, ``llm.system``, ``llm.token_count.*``,
  ``llm.invocation_parameters``, ``llm.tools.*``.

Both are derived here, in the export thread, from the recorded attributes: the app's
thread pays nothing for them, the local store and MLflow keep exactly what they had,
and content capture off or masking applies to every family because the source is the
already-masked record. Each message list is normalized once and encoded once per
family. Pure functions; nothing here raises for odd data (a shape it does not know
is skipped, the rest still mapped).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit import _errors

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["FAMILIES", "parse_families", "semconv_attributes", "with_semconv"]

FAMILIES = ("genai", "openinference")

_KINDS = {
    "LLM": "LLM",
    "CHAT_MODEL": "LLM",
    "EMBEDDING": "EMBEDDING",
    "RETRIEVER": "RETRIEVER",
    "RERANKER": "RERANKER",
    "TOOL": "TOOL",
    "AGENT": "AGENT",
    "GUARDRAIL": "GUARDRAIL",
    "EVALUATOR": "EVALUATOR",
    "UNKNOWN": "UNKNOWN",
}
#: OpenInference's ``llm.provider`` / ``llm.system`` for tracekit's provider names
_OI_PROVIDER = {"openai": ("openai", "openai"), "anthropic": ("anthropic", "anthropic"), "gemini": ("google", "vertexai")}
#: request keys that are the conversation or the model, not invocation parameters
_NOT_PARAMETERS = frozenset(
    {"messages", "model", "tools", "input", "instructions", "prompt", "system", "contents", "config", "stream"}
)


def parse_families(text: str | None) -> tuple[str, ...]:
    """``genai,openinference`` (the default), one of them, or ``none``.

    >>> parse_families("openinference")
    ('openinference',)
    """
    if text is None or not text.strip():
        return FAMILIES
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if names == ("none",):
        return ()
    unknown = [name for name in names if name not in FAMILIES]
    if unknown:
        raise ValueError(f"TRACEKIT_OTLP_ATTRIBUTES={text!r}: expected a comma-separated list of {', '.join(FAMILIES)}, or none")
    return names


def semconv_attributes(attributes: Mapping[str, Any], families: Sequence[str] = FAMILIES) -> dict[str, Any]:
    """The attributes to add to a span with ``attributes`` (keys it has already win)."""
    out: dict[str, Any] = {}
    if not families:
        return out
    span_type = str(attributes.get(attr.SPAN_TYPE) or "UNKNOWN")
    inputs = _loads(attributes.get(attr.SPAN_INPUTS))
    outputs = _loads(attributes.get(attr.SPAN_OUTPUTS))
    fmt = attributes.get(attr.MESSAGE_FORMAT)
    conversation = _conversation(fmt, inputs, outputs, attributes) if fmt else None
    tools = _loads(attributes.get(attr.CHAT_TOOLS))
    tools = tools if isinstance(tools, list) else []
    if "genai" in families and conversation is not None:
        messages, system, outputs_messages = conversation
        outputs_messages = [{**m, "finish_reason": _finish(m.get("finish_reason"))} for m in outputs_messages]
        if messages:
            out[attr.GEN_AI_INPUT_MESSAGES] = _dumps(messages)
        if system:
            out[attr.GEN_AI_SYSTEM_INSTRUCTIONS] = _dumps(system)
        if outputs_messages:
            out[attr.GEN_AI_OUTPUT_MESSAGES] = _dumps(outputs_messages)
        if tools:
            out[attr.GEN_AI_TOOL_DEFINITIONS] = _dumps([_flat_tool(t) for t in tools])
    if "openinference" in families:
        out.update(_openinference(attributes, span_type, conversation, tools, inputs, outputs))
    return {key: value for key, value in out.items() if key not in attributes}


# --- helpers ------------------------------------------------------------------------------


def _loads(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None  # cut to the size limit: no longer JSON, nothing to map


def _dumps(value: Any) -> str:
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


def _text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def _flat_tool(tool: Any) -> Any:
    """An OpenAI-style ``{"type":"function","function":{...}}`` as semconv's flat definition."""
    function = _get(tool, "function")
    if isinstance(function, Mapping):
        return {"type": "function", **function}
    return tool


# --- one normalized conversation per wire format ----------------------------------------

Conversation = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def _conversation(fmt: Any, inputs: Any, outputs: Any, attributes: Mapping[str, Any]) -> Conversation | None:
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
        return [_text(content)]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        kind = _get(part, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(_text(str(_get(part, "text") or "")))
        elif kind == "refusal":
            parts.append(_text(str(_get(part, "refusal") or "")))
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
        return [{"role": "user", "parts": [_text(items)]}]
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


def _finish(reason: Any) -> str:
    text = str(reason or "stop")
    return _FINISH.get(text.lower(), text)


def _merge_assistant(messages: list[dict[str, Any]], finish_reason: str) -> list[dict[str, Any]]:
    """One output message of the assistant's parts, as semconv expects for one choice."""
    parts = [part for message in messages for part in message["parts"]]
    return [{"role": "assistant", "parts": parts, "finish_reason": finish_reason}] if parts else []


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
            messages = [{"role": "user", "parts": [_text(str(p))]} for p in prompts]
        if isinstance(inputs.get("instructions"), str):
            system = [_text(inputs["instructions"])]
    if isinstance(outputs, Mapping):
        for choice in outputs.get("choices") or []:
            reason = str(_get(choice, "finish_reason") or "stop")
            message = _get(choice, "message")
            if isinstance(message, Mapping):
                item = _openai_message({**message, "role": "assistant"})
                item["finish_reason"] = reason
                out.append(item)
            elif isinstance(_get(choice, "text"), str):
                out.append({"role": "assistant", "parts": [_text(choice["text"])], "finish_reason": reason})
        if isinstance(outputs.get("output"), list):
            out = _merge_assistant(_responses_items(outputs["output"]), finish_reasons[0] if finish_reasons else "stop")
    return messages, system, out


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [_text(content)]
    parts: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else []:
        kind = _get(block, "type")
        if kind == "text":
            parts.append(_text(str(_get(block, "text") or "")))
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
            out.append(_text(part))
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
            out.append({"type": "reasoning", "content": text} if _get(part, "thought") else _text(text))
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
        return [{"role": "user", "parts": [_text(contents)]}]
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


# --- OpenInference ---------------------------------------------------------------------------


def _oi_messages(prefix: str, messages: Sequence[Mapping[str, Any]], into: dict[str, Any]) -> None:
    for i, message in enumerate(messages):
        base = f"{prefix}.{i}.message"
        into[f"{base}.role"] = str(message.get("role"))
        texts: list[str] = []
        calls = 0
        for part in message.get("parts") or []:
            kind = part.get("type")
            if kind in ("text", "reasoning"):
                texts.append(str(part.get("content") or ""))
            elif kind == "tool_call":
                call = f"{base}.tool_calls.{calls}.tool_call"
                calls += 1
                if part.get("id"):
                    into[f"{call}.id"] = str(part["id"])
                into[f"{call}.function.name"] = str(part.get("name"))
                into[f"{call}.function.arguments"] = _dumps(part.get("arguments") if part.get("arguments") is not None else {})
            elif kind == "tool_call_response":
                if part.get("id"):
                    into[f"{base}.tool_call_id"] = str(part["id"])
                response = part.get("response")
                texts.append(response if isinstance(response, str) else _dumps(response))
        if texts:
            into[f"{base}.content"] = "\n".join(texts)


def _openinference(
    attributes: Mapping[str, Any],
    span_type: str,
    conversation: Conversation | None,
    tools: list[Any],
    inputs: Any,
    outputs: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"openinference.span.kind": _KINDS.get(span_type, "CHAIN")}
    for key, target, parsed in ((attr.SPAN_INPUTS, "input", inputs), (attr.SPAN_OUTPUTS, "output", outputs)):
        value = attributes.get(key)
        if isinstance(value, str):
            out[f"{target}.value"] = value
            out[f"{target}.mime_type"] = "application/json" if parsed is not None or value == "null" else "text/plain"
    model = attributes.get(attr.GEN_AI_RESPONSE_MODEL) or attributes.get(attr.GEN_AI_REQUEST_MODEL)
    if model:
        out["llm.model_name"] = str(model)
    provider = attributes.get(attr.LLM_PROVIDER)
    if provider:
        oi_provider, oi_system = _OI_PROVIDER.get(str(provider), (str(provider), str(provider)))
        out["llm.provider"] = oi_provider
        out["llm.system"] = oi_system
    usage = _loads(attributes.get(attr.TOKEN_USAGE))
    if isinstance(usage, Mapping):
        for source, target in (
            (attr.USAGE_INPUT, "llm.token_count.prompt"),
            (attr.USAGE_OUTPUT, "llm.token_count.completion"),
            (attr.USAGE_TOTAL, "llm.token_count.total"),
            (attr.USAGE_CACHE_READ, "llm.token_count.prompt_details.cache_read"),
            (attr.USAGE_CACHE_CREATION, "llm.token_count.prompt_details.cache_write"),
            (attr.USAGE_REASONING, "llm.token_count.completion_details.reasoning"),
        ):
            if isinstance(usage.get(source), int):
                out[target] = usage[source]
    reasoning = attributes.get(attr.GEN_AI_USAGE_REASONING)
    if isinstance(reasoning, int):
        out.setdefault("llm.token_count.completion_details.reasoning", reasoning)
    if span_type in ("LLM", "CHAT_MODEL") and isinstance(inputs, Mapping):
        parameters = {k: v for k, v in inputs.items() if k not in _NOT_PARAMETERS}
        config = inputs.get("config")
        if isinstance(config, Mapping):
            parameters.update({k: v for k, v in config.items() if k not in ("tools", "system_instruction", "systemInstruction")})
        out["llm.invocation_parameters"] = _dumps(parameters)
    if conversation is not None:
        messages, system, outputs = conversation
        if system:
            text = "\n".join(str(p.get("content") or "") for p in system)
            messages = [{"role": "system", "parts": [_text(text)]}, *messages]
        _oi_messages("llm.input_messages", messages, out)
        _oi_messages("llm.output_messages", outputs, out)
    for i, tool in enumerate(tools):
        out[f"llm.tools.{i}.tool.json_schema"] = _dumps(tool)
    return out


def with_semconv(spans: Sequence[ReadableSpan], families: Sequence[str]) -> list[ReadableSpan]:
    """``spans`` with the attributes of ``families`` added (a span whose mapping fails
    is sent as it was: one odd span never costs the others their export)."""
    from tracekit._export._encode import _with_attributes

    out: list[ReadableSpan] = []
    for span in spans:
        try:
            extra = semconv_attributes(span.attributes or {}, families)
        except Exception:
            _errors.report("export.semconv")
            extra = {}
        out.append(_with_attributes(span, {**(span.attributes or {}), **extra}) if extra else span)
    return out

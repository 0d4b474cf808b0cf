"""Gemini wire protocol (as google-genai 3.4.0 speaks it to the Developer API).

``POST .../models/{model}:generateContent``, ``:streamGenerateContent?alt=sse``,
``:embedContent``, ``:batchEmbedContents`` (what ``client.models.embed_content``
calls with an API key) and ``:countTokens``. Field names are the camelCase JSON
names (``usageMetadata``, ``finishReason``...), which genai maps to snake_case.

Like the real API, every streamed chunk carries ``usageMetadata`` with the
running count; the last chunk holds the final numbers and the ``finishReason``.
"""

from __future__ import annotations

from typing import Any

from ._model import FakeResponse, json_response
from ._scenarios import CACHED_TOKENS, REASONING_TEXT, Call, embedding_vector, input_texts
from ._stream import StreamBuilder, completion_units, plan_tool_calls, reasoning_tokens, structured_text

__all__ = ["error_response", "handle"]

_STATUS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "API key not valid. Please pass a valid API key."),
    404: ("NOT_FOUND", "models/{model} is not found for API version v1beta, or is not supported for generateContent."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    529: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
}

_BLOCKED_RATINGS = [
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
]


def _error_body(call: Call | None, status: int, message: str | None) -> dict[str, Any]:
    name, default = _STATUS.get(status, ("UNKNOWN", f"Error {status}."))
    text = message or default.format(model=call.model if call else "unknown")
    return {"error": {"code": status, "message": text, "status": name}}


def error_response(call: Call | None, status: int, message: str | None = None) -> FakeResponse:
    """An error in Google's shape: ``{"error": {code, message, status}}``."""
    headers: list[tuple[str, str]] = []
    if status == 429 and call is not None:
        value = call.options.retry_after
        headers.append(("retry-after", str(int(value)) if float(value).is_integer() else str(value)))
    return json_response(status, _error_body(call, status, message), headers)


def handle(call: Call, endpoint: str) -> FakeResponse:
    """Answer one Gemini request; ``endpoint`` is the method after the colon."""
    status = call.error_status
    if status is not None:
        return error_response(call, status, call.options.error_message)
    if endpoint == "countTokens":
        return json_response(200, {"totalTokens": call.prompt_tokens})
    if endpoint in ("embedContent", "batchEmbedContents"):
        return _embed(call, endpoint)
    if not call.stream:
        if call.scenario == "disconnect":
            return FakeResponse.drop()
        if call.scenario == "midstream_error":
            return error_response(call, 500, call.options.error_message)
    return _generate(call)


def _embed(call: Call, endpoint: str) -> FakeResponse:
    def vector(request: dict[str, Any]) -> dict[str, Any]:
        dims = request.get("outputDimensionality") or (request.get("embedContentConfig") or {}).get("outputDimensionality")
        dimensions = dims if isinstance(dims, int) and dims > 0 else call.options.embedding_dimensions
        return {"values": embedding_vector("\n".join(input_texts(request.get("content"))), dimensions)}

    if endpoint == "embedContent":
        return json_response(200, {"embedding": vector(call.body)})
    requests = [r for r in call.body.get("requests") or [] if isinstance(r, dict)]
    return json_response(200, {"embeddings": [vector(r) for r in requests]})


def _tools(body: dict[str, Any]) -> list[tuple[str, Any]]:
    tools: list[tuple[str, Any]] = []
    for tool in body.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        for decl in tool.get("functionDeclarations") or []:
            if isinstance(decl, dict):
                schema = decl.get("parametersJsonSchema") or decl.get("parameters")
                tools.append((str(decl.get("name", "tool")), schema))
    return tools


def _text(call: Call) -> str:
    if call.scenario in ("safety_block", "safety_block_response", "empty_stream"):
        return ""
    config = call.body.get("generationConfig") or {}
    if isinstance(config, dict) and call.scenario != "refusal":
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        if schema:
            return structured_text(schema)
        if config.get("responseMimeType") == "application/json":
            return structured_text({"type": "object", "properties": {"message": {"const": call.options.text}}})
    return call.reply_text


def _usage(call: Call, candidates: int, *, thoughts: int) -> dict[str, Any]:
    cached = CACHED_TOKENS if call.scenario == "cached_usage" else 0
    prompt = call.prompt_tokens + cached
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if cached:
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    if not candidates:
        del usage["candidatesTokenCount"]  # the real API omits zero counts
    return usage


def _generate(call: Call) -> FakeResponse:
    n = call.number
    tool_calls = plan_tool_calls(call, _tools(call.body))
    text = "" if tool_calls else _text(call)
    thoughts = reasoning_tokens(call)
    envelope = {"modelVersion": call.served_model, "responseId": f"fake-{n}"}
    function_parts = [{"functionCall": {"name": p.name, "args": p.arguments}} for p in tool_calls]
    thought_part = {"text": REASONING_TEXT, "thought": True}
    finish = "SAFETY" if call.scenario == "safety_block_response" else "STOP"

    def candidate(parts: list[dict[str, Any]], finish_reason: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish_reason:
            result["finishReason"] = finish_reason
        if finish_reason == "SAFETY":
            del result["content"]  # a blocked candidate comes back without content
            result["safetyRatings"] = _BLOCKED_RATINGS
        return result

    prompt_blocked = {
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": _BLOCKED_RATINGS},
        "usageMetadata": _usage(call, 0, thoughts=0),
        **envelope,
    }

    if not call.stream or call.request.query.get("alt") != "sse":
        if call.scenario == "safety_block":
            payload: Any = prompt_blocked
        elif call.scenario == "empty_stream":
            payload = {
                "candidates": [{"finishReason": "STOP", "index": 0}],
                "usageMetadata": _usage(call, 0, thoughts=0),
                **envelope,
            }
        else:
            finish_reason = finish
            if call.scenario == "cutoff":
                pieces = call.pieces(text)
                text = "".join(pieces[: call.cut_point(len(pieces))])
                finish_reason = "MAX_TOKENS"
            parts = (
                ([thought_part] if thoughts and call.wants_reasoning else [])
                + ([{"text": text}] if text else [])
                + function_parts
            )
            units = completion_units(call, text, tool_calls)
            payload = {
                "candidates": [candidate(parts, finish_reason)],
                "usageMetadata": _usage(call, units, thoughts=thoughts),
                **envelope,
            }
        if call.stream:
            # streamGenerateContent without alt=sse answers one JSON array of chunks.
            payload = [payload]
        return json_response(200, payload, delay=call.first_token_delay)

    out = StreamBuilder(call)
    if call.scenario == "empty_stream":
        return out.response()
    if call.scenario == "safety_block":
        out.add(prompt_blocked)
        return out.response()

    produced = 0
    if call.wants_reasoning:
        out.add(
            {
                "candidates": [candidate([thought_part])],
                "usageMetadata": _usage(call, 0, thoughts=thoughts),
                **envelope,
            },
            content=True,
        )
    pieces = call.pieces(text)
    if call.breaks_stream or call.scenario == "safety_block_response":
        pieces = pieces[: call.cut_point(len(pieces))]
    for i, piece in enumerate(pieces):
        produced += 1
        last = i == len(pieces) - 1 and not tool_calls and not call.breaks_stream and finish == "STOP"
        out.add(
            {
                "candidates": [candidate([{"text": piece}], "STOP" if last else None)],
                "usageMetadata": _usage(call, produced, thoughts=thoughts),
                **envelope,
            },
            content=True,
        )
    if call.scenario == "midstream_error":
        out.add(_error_body(call, 500, call.options.error_message))
        return out.response()
    if call.scenario == "cutoff":
        return out.response()
    if call.scenario == "disconnect":
        return out.response(end="abort")
    if tool_calls:
        units = completion_units(call, "", tool_calls)
        out.add(
            {
                "candidates": [candidate(function_parts, "STOP")],
                "usageMetadata": _usage(call, units, thoughts=thoughts),
                **envelope,
            },
            content=True,
        )
    elif finish == "SAFETY":
        out.add(
            {
                "candidates": [candidate([], "SAFETY")],
                "usageMetadata": _usage(call, produced, thoughts=thoughts),
                **envelope,
            }
        )
    elif not pieces:
        out.add(
            {
                "candidates": [candidate([{"text": ""}], "STOP")],
                "usageMetadata": _usage(call, 0, thoughts=thoughts),
                **envelope,
            }
        )
    return out.response()

"""google-genai responses -> the call record: the response as JSON, streams merged into one
response, usage, finish reasons, safety blocks.

Everything works on the JSON form of ``GenerateContentResponse``
(``model_dump(mode="json", exclude_none=True)``), so a streamed response merged
from its chunks and a non-streamed one go through the same extraction and can be
compared field by field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tracekit._llm import CallRecord, Usage

#: not part of the model's answer: ``sdk_http_response`` holds the HTTP response
#: headers, ``automatic_function_calling_history`` is written by the SDK's own
#: function-calling loop after the model call returned (google-genai 3.4.0 sets it on
#: the very chunk objects it yields, so it must be excluded when a stream ends)
_RESPONSE_SKIP = frozenset({"sdk_http_response", "automatic_function_calling_history"})

#: part keys that make a plain text part, which a stream delivers in pieces
_TEXT_PART_KEYS = frozenset({"text", "thought", "thought_signature"})


def response_json(response: Any) -> dict[str, Any]:
    """A ``GenerateContentResponse`` (or ``EmbedContentResponse``) in the SDK's JSON shape."""
    try:
        data = response.model_dump(mode="json", exclude_none=True, exclude=set(_RESPONSE_SKIP))
    except Exception:
        # ``parsed`` holds the app's own pydantic object when a response_schema was
        # given; one the SDK cannot encode is left out rather than losing the response
        data = response.model_dump(mode="json", exclude_none=True, exclude={*_RESPONSE_SKIP, "parsed"})
    return dict(data)


# --- merging a stream ------------------------------------------------------------------


def _is_text_part(part: Mapping[str, Any]) -> bool:
    return "text" in part and part.keys() <= _TEXT_PART_KEYS  # a keys view: no set built


def _merge_parts(parts: list[dict[str, Any]], incoming: Sequence[Any]) -> None:
    for part in incoming:
        if type(part) is not dict and not isinstance(part, Mapping):  # dict first: an ABC check is slow
            continue
        last = parts[-1] if parts else None
        if (
            last is not None
            and _is_text_part(part)
            and _is_text_part(last)
            and bool(last.get("thought")) == bool(part.get("thought"))
        ):
            # consecutive text (or thought) pieces are one part in a non-streamed response
            last["text"] = str(last.get("text", "")) + str(part.get("text") or "")
            if part.get("thought_signature"):
                last["thought_signature"] = part["thought_signature"]
        elif _is_text_part(part) and not part.get("text") and not part.get("thought_signature") and parts:
            continue  # an empty text piece adds nothing
        else:
            parts.append(dict(part))


def _merge_logprobs(target: dict[str, Any], incoming: Mapping[str, Any]) -> None:
    for key, value in incoming.items():
        if isinstance(value, list) and isinstance(target.get(key), list):
            target[key] = [*target[key], *value]
        elif isinstance(value, (int, float)) and isinstance(target.get(key), (int, float)):
            target[key] = target[key] + value
        else:
            target[key] = value


def _merge_candidate(target: dict[str, Any], incoming: Mapping[str, Any]) -> None:
    for key, value in incoming.items():
        if key == "content" and (type(value) is dict or isinstance(value, Mapping)):
            content = target.setdefault("content", {})
            if value.get("role") and not content.get("role"):
                content["role"] = value["role"]
            parts = content.setdefault("parts", [])
            _merge_parts(parts, value.get("parts") or [])
            for other, item in value.items():
                if other not in ("role", "parts"):
                    content[other] = item
        elif key == "citation_metadata" and isinstance(value, Mapping):
            citations = target.setdefault("citation_metadata", {}).setdefault("citations", [])
            citations.extend(value.get("citations") or [])
        elif key == "logprobs_result" and isinstance(value, Mapping):
            _merge_logprobs(target.setdefault("logprobs_result", {}), value)
        else:
            # finish_reason, safety_ratings, grounding metadata, token counts: the last word
            target[key] = value


def merge_chunks(chunks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge streamed chunks (JSON form) into one response of the non-streamed shape.

    Text pieces are concatenated per candidate (thought text apart from answer
    text), function calls and other parts are kept in order, and the last chunk's
    ``finish_reason``, ``usage_metadata`` (a running total in Gemini streams),
    ``model_version`` and ``response_id`` win.
    """
    merged: dict[str, Any] = {}
    candidates: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for key, value in chunk.items():
            if key == "candidates" and isinstance(value, list):
                for position, candidate in enumerate(value):
                    if type(candidate) is not dict and not isinstance(candidate, Mapping):
                        continue
                    index = candidate.get("index", position)
                    _merge_candidate(candidates.setdefault(int(index), {}), candidate)
            else:
                merged[key] = value
    if candidates:
        merged["candidates"] = [candidates[i] for i in sorted(candidates)]
    for candidate in merged.get("candidates", []):
        content = candidate.get("content")
        if isinstance(content, dict) and not content.get("parts"):
            content.pop("parts", None)
            if not content:
                del candidate["content"]
    return merged


def add_parsed(merged: dict[str, Any]) -> None:
    """Give a merged structured-output stream the ``parsed`` value the SDK gives a
    non-streamed response (each streamed chunk only holds a piece of the JSON text)."""
    if "parsed" in merged:
        return
    candidates = merged.get("candidates") or [{}]
    parts = (candidates[0].get("content") or {}).get("parts") or []
    text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, Mapping) and not p.get("thought"))
    try:
        merged["parsed"] = json.loads(text)
    except ValueError:
        pass  # not JSON after all: the SDK leaves parsed unset too


# --- recording --------------------------------------------------------------------------


def usage(data: Mapping[str, Any]) -> dict[str, int] | None:
    """Token counts of a response's ``usage_metadata``, mapped to tracekit's usage.

    * input = ``prompt_token_count`` (which already includes cached tokens) plus
      ``tool_use_prompt_token_count``;
    * output = ``candidates_token_count`` plus ``thoughts_token_count``: Gemini bills
      thinking as output, so cost and totals come out right; the thinking share is
      also reported as reasoning tokens;
    * total = ``total_token_count`` as reported;
    * cache_read = ``cached_content_token_count``.
    """
    meta = data.get("usage_metadata")
    if not isinstance(meta, Mapping):
        return None

    def count(key: str) -> int | None:
        value = meta.get(key)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    prompt, tool_prompt = count("prompt_token_count"), count("tool_use_prompt_token_count")
    candidates, thoughts = count("candidates_token_count"), count("thoughts_token_count")
    if prompt is None and candidates is None and count("total_token_count") is None:
        return None
    result = {
        "input": (prompt or 0) + (tool_prompt or 0),
        "output": (candidates or 0) + (thoughts or 0),
    }
    total = count("total_token_count")
    result["total"] = total if total is not None else result["input"] + result["output"]
    cached = count("cached_content_token_count")
    if cached is not None:
        result["cache_read"] = cached
    if thoughts is not None:
        result["reasoning"] = thoughts
    return result


def finish_reasons(data: Mapping[str, Any]) -> list[str]:
    """Each candidate's finish reason; for a blocked prompt (no candidates), the block reason."""
    reasons = [str(c["finish_reason"]) for c in data.get("candidates") or [] if isinstance(c, Mapping) and c.get("finish_reason")]
    block = block_reason(data)
    if not reasons and block:
        reasons.append(block)
    return reasons


def finished(data: Mapping[str, Any]) -> bool:
    """True when the response says it is over: a candidate's finish reason or a prompt block."""
    return bool(finish_reasons(data))


def block_reason(data: Mapping[str, Any]) -> str | None:
    feedback = data.get("prompt_feedback")
    reason = feedback.get("block_reason") if isinstance(feedback, Mapping) else None
    return str(reason) if reason else None


def record_response(record: CallRecord, data: Mapping[str, Any], requested_model: Any) -> None:
    """Outputs, served model, response id, finish reasons, safety block and usage."""
    record.outputs = data
    record.request_model = requested_model
    record.response_model = data.get("model_version")
    if data.get("response_id"):
        record.response_id = str(data["response_id"])
    reasons = finish_reasons(data)
    if reasons:
        record.finish_reasons = reasons
    block = block_reason(data)
    if block:
        record.block_reason = block
    counts = usage(data)
    if counts is not None:
        record.usage = Usage(
            counts["input"],
            counts["output"],
            counts["total"],
            cache_read=counts.get("cache_read"),
            reasoning=counts.get("reasoning"),
        )

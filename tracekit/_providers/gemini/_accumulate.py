"""A stream's chunks merged into one response, dumping each chunk only where it counts.

:func:`merge_chunks` merges the chunks' JSON form; dumping every chunk whole
(``model_dump(mode="json", exclude_none=True)``) was most of what ending a 20-chunk
stream cost the app's thread, though the merge keeps only the *last* value of every
field but ``candidates`` (``usage_metadata``, ``model_version``, ``response_id``, ...).
:func:`merge_stream` dumps each chunk's candidates alone, notes which other fields each
chunk has (not None, in a dump's key order), and dumps the last value of each of those
once, from the chunk that had it last: the same dict as merging whole dumps, key order
included (it is recorded as ``mlflow.spanOutputs``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tracekit._providers.gemini import _mapping

#: part keys that make a plain text part, which a stream delivers in pieces
_TEXT_PART_KEYS = frozenset({"text", "thought", "thought_signature"})


class _Whole(Exception):
    """A chunk this merge does not take apart: merge whole dumps."""


#: response class -> its fields but ``candidates``, in declaration order (a dump's key
#: order), or None when a dump of it is not plain field by field
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _fields(cls: type) -> tuple[str, ...] | None:
    if cls in _FIELDS:
        return _FIELDS[cls]
    fields: Any = getattr(cls, "model_fields", None)
    decorators: Any = getattr(cls, "__pydantic_decorators__", None)
    names: tuple[str, ...] | None = None
    if (
        isinstance(fields, dict)
        and decorators is not None
        and not decorators.model_serializers
        and not decorators.field_serializers
        and not any(f.exclude for f in fields.values())
    ):
        names = tuple(n for n in fields if n != "candidates" and n not in _mapping._RESPONSE_SKIP)
    _FIELDS[cls] = names
    return names


#: fields of the common streamed candidate: a piece of text (or thought) and, at the
#: end, a finish reason
_TEXT_CANDIDATE = frozenset({"content", "index", "finish_reason"})
_TEXT_CONTENT = frozenset({"parts", "role"})
_TEXT_PART = frozenset({"text", "thought"})


def _text_candidate(candidate: Any, types: Any) -> dict[str, Any] | None:
    """The dump of a text-only candidate, built by hand (pydantic's costs ~2 µs); None
    for any other candidate. Used only when :func:`_text_ready` says the classes allow
    it: it leans on ``model_fields_set``, as the fields left unset are None (every field
    of these google-genai classes defaults to None) and pydantic marks a field set on
    assignment too."""
    if not candidate.model_fields_set <= _TEXT_CANDIDATE:
        return None
    content = candidate.content
    index = candidate.index
    reason = candidate.finish_reason
    if (
        type(content) is not types.Content
        or not content.model_fields_set <= _TEXT_CONTENT
        or not (index is None or type(index) is int)
        or not (reason is None or isinstance(reason, types.FinishReason))
    ):
        return None
    role = content.role
    if not (role is None or type(role) is str):
        return None
    parts: list[dict[str, Any]] | None = None
    if content.parts is not None:
        parts = []
        for part in content.parts:
            if type(part) is not types.Part or not part.model_fields_set <= _TEXT_PART:
                return None
            text, thought = part.text, part.thought
            if not (text is None or type(text) is str) or not (thought is None or type(thought) is bool):
                return None
            piece: dict[str, Any] = {}
            if text is not None:
                piece["text"] = text
            if thought is not None:
                piece["thought"] = thought
            parts.append(piece)
    dumped_content: dict[str, Any] = {}
    if parts is not None:
        dumped_content["parts"] = parts
    if role is not None:
        dumped_content["role"] = role
    out: dict[str, Any] = {"content": dumped_content}
    if reason is not None:
        out["finish_reason"] = reason.value
    if index is not None:
        out["index"] = index
    return out


#: class -> whether every field defaults to None, none is left out of dumps, and no
#: serializer or after-validator is in play (google-genai 3.6 has one "before" validator)
_PLAIN: dict[type, bool] = {}


def _plain_class(cls: Any) -> bool:
    plain = _PLAIN.get(cls)
    if plain is None:
        decorators: Any = getattr(cls, "__pydantic_decorators__", None)
        fields: Any = getattr(cls, "model_fields", None)
        plain = (
            isinstance(fields, dict)
            and decorators is not None
            and not decorators.model_serializers
            and not decorators.field_serializers
            and all(v.info.mode == "before" for v in decorators.model_validators.values())
            and not decorators.field_validators
            and all(f.default is None and not f.exclude for f in fields.values())
            and cls.model_config.get("extra") != "allow"
        )
        _PLAIN[cls] = plain
    return plain


def _text_ready(types: Any) -> bool:
    return _plain_class(types.Candidate) and _plain_class(types.Content) and _plain_class(types.Part)


def merge_stream(chunks: Sequence[Any]) -> dict[str, Any]:
    """``merge_chunks([response_json(c) for c in chunks])``, with less dumping."""
    try:
        return _merge(chunks)
    except _Whole:
        pass
    return merge_chunks([_mapping.response_json(chunk) for chunk in chunks])


def _merge(chunks: Sequence[Any]) -> dict[str, Any]:
    from google.genai import types  # only reached with google-genai's chunks in hand

    lite: list[dict[str, Any]] = []
    last: dict[str, int] = {}  # field -> the last chunk that had it
    by_hand = _text_ready(types)
    for position, chunk in enumerate(chunks):
        cls = type(chunk)
        names = _fields(cls) if cls is types.GenerateContentResponse else None
        if names is None or chunk.__pydantic_extra__ or chunk.parsed is not None:
            raise _Whole  # parsed holds the app's own object: response_json handles it
        data: dict[str, Any] = {}
        candidates = chunk.candidates
        if candidates is not None:
            dumped: list[dict[str, Any] | None] = []
            for candidate in candidates:
                # a subclass would dump its own fields, the field's type does not
                if candidate is not None and type(candidate) is not types.Candidate:
                    raise _Whole
                if candidate is None:
                    dumped.append(None)
                else:
                    text = _text_candidate(candidate, types) if by_hand else None
                    dumped.append(text if text is not None else candidate.model_dump(mode="json", exclude_none=True))
            data["candidates"] = dumped
        for name in names:
            if getattr(chunk, name) is not None:
                data[name] = None  # a placeholder: the merge keeps the last value only
                last[name] = position
        lite.append(data)
    merged = merge_chunks(lite)
    fields: dict[int, set[str]] = {}
    for name, position in last.items():
        fields.setdefault(position, set()).add(name)
    for position, include in fields.items():
        # replacing a key's value keeps its place in the dict
        merged.update(chunks[position].model_dump(mode="json", exclude_none=True, include=include))
    return merged


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

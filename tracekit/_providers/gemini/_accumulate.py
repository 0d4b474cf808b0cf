"""A stream's chunks merged into one response, dumping each chunk only where it counts.

:func:`._response.merge_chunks` merges the chunks' JSON form; dumping every chunk whole
(``model_dump(mode="json", exclude_none=True)``) was most of what ending a 20-chunk
stream cost the app's thread, though the merge keeps only the *last* value of every
field but ``candidates`` (``usage_metadata``, ``model_version``, ``response_id``, ...).
:func:`merge_stream` dumps each chunk's candidates alone, notes which other fields each
chunk has (not None, in a dump's key order), and dumps the last value of each of those
once, from the chunk that had it last: the same dict as merging whole dumps, key order
included (it is recorded as ``mlflow.spanOutputs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracekit._providers.gemini import _response


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
        names = tuple(n for n in fields if n != "candidates" and n not in _response._RESPONSE_SKIP)
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
    return _response.merge_chunks([_response.response_json(chunk) for chunk in chunks])


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
    merged = _response.merge_chunks(lite)
    fields: dict[int, set[str]] = {}
    for name, position in last.items():
        fields.setdefault(position, set()).add(name)
    for position, include in fields.items():
        # replacing a key's value keeps its place in the dict
        merged.update(chunks[position].model_dump(mode="json", exclude_none=True, include=include))
    return merged

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
    for position, chunk in enumerate(chunks):
        cls = type(chunk)
        names = _fields(cls) if cls is types.GenerateContentResponse else None
        if names is None or chunk.__pydantic_extra__ or chunk.parsed is not None:
            raise _Whole  # parsed holds the app's own object: response_json handles it
        data: dict[str, Any] = {}
        candidates = chunk.candidates
        if candidates is not None:
            dumped = []
            for candidate in candidates:
                # a subclass would dump its own fields, the field's type does not
                if candidate is not None and type(candidate) is not types.Candidate:
                    raise _Whole
                dumped.append(None if candidate is None else candidate.model_dump(mode="json", exclude_none=True))
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

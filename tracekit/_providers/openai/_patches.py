"""The openai patch table and ``autolog`` (the public face is ``tracekit.openai``).

What is traced and how to use it: the public face's docstring and ``docs/openai.md``.
"""

from __future__ import annotations

import logging

from tracekit import _llm
from tracekit._providers.openai._endpoints import (
    ChatEndpoint,
    ChatStreamHelperEndpoint,
    CompletionsEndpoint,
    EmbeddingsEndpoint,
    ResponsesEndpoint,
    ResponsesStreamHelperEndpoint,
)

__all__ = ["autolog"]

logger = logging.getLogger("tracekit")

_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
_EMBEDDINGS = "openai.resources.embeddings"
_COMPLETIONS = "openai.resources.completions"

_chat = ChatEndpoint()
_chat_stream = ChatStreamHelperEndpoint()
_responses = ResponsesEndpoint()
_responses_stream = ResponsesStreamHelperEndpoint()
_embeddings = EmbeddingsEndpoint()
_completions = CompletionsEndpoint()
#: hands each traced call the headers of its HTTP response (openai 3.x ``_process_response``:
#: the one method every endpoint's response passes, streamed or not, raw or parsed)
_tap = _llm.ResponseTap()
_BASE = "openai._base_client"

#: The one table that drives both ``autolog()`` and ``autolog(disable=True)``. A row
#: missing from the installed SDK is skipped alone. The ``stream()`` helpers are sync
#: methods on the async resources too (they return an async context manager).
PATCHES: tuple[_llm.Patch, ...] = (
    _llm.Patch(_CHAT, "Completions", "create", _chat),
    _llm.Patch(_CHAT, "AsyncCompletions", "create", _chat, is_async=True),
    _llm.Patch(_CHAT, "Completions", "parse", _chat),
    _llm.Patch(_CHAT, "AsyncCompletions", "parse", _chat, is_async=True),
    _llm.Patch(_CHAT, "Completions", "stream", _chat_stream),
    _llm.Patch(_CHAT, "AsyncCompletions", "stream", _chat_stream),
    _llm.Patch(_RESPONSES, "Responses", "create", _responses),
    _llm.Patch(_RESPONSES, "AsyncResponses", "create", _responses, is_async=True),
    _llm.Patch(_RESPONSES, "Responses", "parse", _responses),
    _llm.Patch(_RESPONSES, "AsyncResponses", "parse", _responses, is_async=True),
    _llm.Patch(_RESPONSES, "Responses", "stream", _responses_stream),
    _llm.Patch(_RESPONSES, "AsyncResponses", "stream", _responses_stream),
    _llm.Patch(_EMBEDDINGS, "Embeddings", "create", _embeddings),
    _llm.Patch(_EMBEDDINGS, "AsyncEmbeddings", "create", _embeddings, is_async=True),
    _llm.Patch(_COMPLETIONS, "Completions", "create", _completions),
    _llm.Patch(_COMPLETIONS, "AsyncCompletions", "create", _completions, is_async=True),
    _llm.Patch(_BASE, "SyncAPIClient", "_process_response", _tap),
    _llm.Patch(_BASE, "AsyncAPIClient", "_process_response", _tap),
)


def autolog(disable: bool = False) -> None:
    """Trace every OpenAI SDK call (or stop: ``disable=True`` removes every patch).

    Idempotent; works before or after ``import openai`` and before or after clients
    were created (the SDK's classes are patched, not its instances). Raises
    ``ImportError`` when the ``openai`` package is missing.

    >>> import tracekit
    >>> tracekit.openai.autolog()
    >>> tracekit.openai.autolog(disable=True)
    """
    if disable:
        removed = _llm.remove(PATCHES)
        logger.debug("tracekit: openai autolog off (%d methods unpatched)", len(removed))
        return
    try:
        import openai  # noqa: F401
    except ImportError:
        raise ImportError("tracekit.openai.autolog() needs the openai package: pip install 'tracekit[openai]'") from None
    applied = _llm.apply(PATCHES)
    logger.debug("tracekit: openai autolog on (%d methods patched)", len(applied))

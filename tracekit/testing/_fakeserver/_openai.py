"""OpenAI wire protocol: chat completions, responses, completions, embeddings.

Shapes follow the types of openai 3.54.0 (``openai/types``). The SDK parses
leniently, but its stream helpers are strict about ordering (see
``_openai_responses``). This module routes a request to its endpoint's module:
``_openai_chat`` (chat completions, legacy completions), ``_openai_responses``,
``_openai_embeddings``; what they share (headers, the error body, usage) is
``_openai_common``'s.
"""

from __future__ import annotations

from ._model import FakeResponse
from ._openai_chat import chat, completions
from ._openai_common import error_response
from ._openai_embeddings import embeddings
from ._openai_responses import responses
from ._scenarios import Call

__all__ = ["handle", "error_response"]


def handle(call: Call, endpoint: str) -> FakeResponse:
    """Answer one OpenAI request (``endpoint`` is chat, responses, completions or embeddings)."""
    status = call.error_status
    if status is not None:
        return error_response(call, status, call.options.error_message)
    if endpoint == "embeddings":
        return embeddings(call)
    if not call.stream:
        if call.scenario == "disconnect":
            return FakeResponse.drop()
        if call.scenario == "midstream_error":
            return error_response(call, 500, call.options.error_message)
    if endpoint == "chat":
        return chat(call)
    if endpoint == "responses":
        return responses(call)
    return completions(call)

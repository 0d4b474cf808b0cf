"""Which exchanges are model calls: recognized by path (its end, so any gateway prefix
works) and request body. Everything else passes through untraced."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

OPENAI_CHAT = "openai.chat"
OPENAI_RESPONSES = "openai.responses"
OPENAI_EMBEDDINGS = "openai.embeddings"
ANTHROPIC_MESSAGES = "anthropic.messages"
GEMINI_GENERATE = "gemini.generate"
GEMINI_EMBED = "gemini.embed"

_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    # (path suffix, kind, what the SDK's base URL leaves out of the path)
    ("/chat/completions", OPENAI_CHAT, "/chat/completions"),
    ("/responses", OPENAI_RESPONSES, "/responses"),
    ("/embeddings", OPENAI_EMBEDDINGS, "/embeddings"),
    ("/v1/messages", ANTHROPIC_MESSAGES, "/v1/messages"),
)
_GEMINI = re.compile(r"(?P<prefix>/v[0-9a-z]+)?/(?:tuned)?[mM]odels/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$")
_GEMINI_METHODS = {
    "generateContent": (GEMINI_GENERATE, False),
    "streamGenerateContent": (GEMINI_GENERATE, True),
    "embedContent": (GEMINI_EMBED, False),
    "batchEmbedContents": (GEMINI_EMBED, False),
}


@dataclasses.dataclass(frozen=True)
class Exchange:
    """A recognized model call."""

    kind: str
    stream: bool
    #: the path before the endpoint's own part: with the upstream URL it makes the
    #: base URL an SDK would have been given (``server.address``, ``tracekit.gateway.path``)
    base_path: str
    model: str | None = None
    beta: bool = False
    method: str | None = None  # Gemini's method name (``batchEmbedContents`` ...)

    @property
    def provider(self) -> str:
        return self.kind.partition(".")[0]


def recognize(method: str, path: str, query: Mapping[str, str], body: Any) -> Exchange | None:
    """The exchange a request starts, or None for anything that is not a model call
    (model lists, token counting, files, a body that is not a JSON object)."""
    if method != "POST" or not isinstance(body, Mapping):
        return None
    path = path.rstrip("/")
    match = _GEMINI.search(path)
    if match is not None:
        found = _GEMINI_METHODS.get(match.group("method"))
        if found is None:
            return None
        kind, stream = found
        return Exchange(kind, stream, path[: match.start()], match.group("model"), method=match.group("method"))
    for suffix, kind, strip in _SUFFIXES:
        if path.endswith(suffix):
            if kind != OPENAI_EMBEDDINGS and not body.get("model") and kind != OPENAI_RESPONSES:
                return None
            beta = kind == ANTHROPIC_MESSAGES and str(query.get("beta", "")).lower() == "true"
            return Exchange(kind, body.get("stream") is True, path[: -len(strip)], body.get("model"), beta=beta)
    return None

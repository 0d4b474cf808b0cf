"""OpenAI embeddings (fake server): a vector per input, as floats or base64."""

from __future__ import annotations

import base64
import struct
from typing import Any

from ._model import FakeResponse, json_response
from ._openai_common import _headers
from ._scenarios import Call, embedding_vector

__all__ = ["embeddings"]

# --------------------------------------------------------------------------- embeddings


def _embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return [" ".join(map(str, value))]  # one pre-tokenized input
        return [v if isinstance(v, str) else " ".join(map(str, v)) for v in value]
    return [""]


def embeddings(call: Call) -> FakeResponse:
    inputs = _embedding_inputs(call.body.get("input"))
    dims = call.body.get("dimensions")
    dimensions = dims if isinstance(dims, int) and dims > 0 else call.options.embedding_dimensions
    b64 = call.body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(inputs):
        vector = embedding_vector(text, dimensions)
        # openai 3.54.0 asks for base64 unless the caller chose a format, then
        # decodes little-endian float32 itself.
        encoded: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode() if b64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = max(1, sum(len(t) for t in inputs) // 4)
    payload = {
        "object": "list",
        "data": data,
        "model": call.served_model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json_response(200, payload, _headers(call), delay=call.first_token_delay)

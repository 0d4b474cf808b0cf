"""Images and audio sent to Gemini as inline data (bytes in the SDK, base64 on the
wire) never land in the trace: the whole recorded input holds placeholders with
their MIME type and size (real SDK, fake server)."""

from __future__ import annotations

import base64
import json
from typing import Any

from gemini_spans import MODEL
from google.genai import types

from tracekit.testing import SpanCapture

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60  # short: found by the part's structure
WAV = b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8


def test_inline_image_and_audio_parts(client: Any, captured: SpanCapture) -> None:
    contents = [
        types.Part.from_bytes(data=PNG, mime_type="image/png"),
        types.Part.from_bytes(data=WAV, mime_type="audio/wav"),
        "What do you see and hear?",
    ]
    client.models.generate_content(model=MODEL, contents=contents)
    [span] = captured.spans
    assert span.inputs == {
        "model": MODEL,
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"data": f"<base64 image/png, {len(PNG)} bytes>", "mime_type": "image/png"}},
                    {"inline_data": {"data": f"<base64 audio/wav, {len(WAV)} bytes>", "mime_type": "audio/wav"}},
                    {"text": "What do you see and hear?"},
                ],
            }
        ],
    }
    text = json.dumps(span.attributes)
    for blob in (PNG, WAV):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            assert encode(blob).decode()[12:40] not in text

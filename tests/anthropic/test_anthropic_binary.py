"""Images and PDFs sent to Anthropic as base64 sources never land in the trace: the
whole recorded input holds placeholders with their MIME type and size, short images
too (real SDK, fake server)."""

from __future__ import annotations

import base64
import json

import anthropic

from tracekit.testing import SpanCapture

MODEL = "claude-sonnet-4-5"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60  # short: found by the block's structure, not its length
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 16


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_image_and_document_sources(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(PDF)}, "title": "Q3"},
        {"type": "text", "text": "Compare them."},
    ]
    client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": content}])  # type: ignore[list-item,misc]
    [span] = captured.spans
    assert span.inputs == {
        "model": MODEL,
        "max_tokens": 100,
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": f"<base64 image/png, {len(PNG)} bytes>"},
                    },
                    {
                        "type": "document",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": f"<base64 application/pdf, {len(PDF)} bytes>",
                        },
                        "title": "Q3",
                    },
                    {"type": "text", "text": "Compare them."},
                ],
            }
        ],
    }
    text = json.dumps(span.attributes)
    assert b64(PNG)[12:40] not in text and b64(PDF)[16:64] not in text

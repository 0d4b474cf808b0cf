"""Images, audio and files sent to OpenAI as base64 never land in the trace: the whole
recorded input holds placeholders with their MIME type and size (real SDK, fake server)."""

from __future__ import annotations

import base64
import json

from openai import OpenAI
from openai_helpers import MODEL, only_span

from tracekit import _attributes as attr
from tracekit.testing import SpanCapture

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
WAV = b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def assert_no_base64_anywhere(captured: SpanCapture) -> None:
    for span in captured.spans:
        text = json.dumps(span.attributes)
        for blob in (PNG, WAV, PDF):
            assert b64(blob)[16:64] not in text


def test_chat_image_audio_and_file_inputs(client: OpenAI, captured: SpanCapture) -> None:
    content = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(PNG)}", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": b64(WAV), "format": "wav"}},
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{b64(PDF)}", "filename": "report.pdf"}},
    ]
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}])  # type: ignore[misc,list-item]
    span = only_span(captured)
    assert span.inputs == {
        "model": MODEL,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "image_url", "image_url": {"url": f"<base64 image/png, {len(PNG)} bytes>", "detail": "low"}},
                    {"type": "input_audio", "input_audio": {"data": f"<base64 audio/wav, {len(WAV)} bytes>", "format": "wav"}},
                    {
                        "type": "file",
                        "file": {"file_data": f"<base64 application/pdf, {len(PDF)} bytes>", "filename": "report.pdf"},
                    },
                ],
            }
        ],
    }
    assert attr.TRUNCATED not in span.attributes
    assert_no_base64_anywhere(captured)


def test_responses_input_image_and_file(client: OpenAI, captured: SpanCapture) -> None:
    content = [
        {"type": "input_text", "text": "Summarize"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{b64(PNG)}", "detail": "auto"},
        {"type": "input_file", "file_data": f"data:application/pdf;base64,{b64(PDF)}", "filename": "r.pdf"},
    ]
    client.responses.create(model=MODEL, input=[{"role": "user", "content": content}])  # type: ignore[list-item,misc]
    span = only_span(captured)
    assert span.inputs == {
        "model": MODEL,
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Summarize"},
                    {"type": "input_image", "image_url": f"<base64 image/png, {len(PNG)} bytes>", "detail": "auto"},
                    {"type": "input_file", "file_data": f"<base64 application/pdf, {len(PDF)} bytes>", "filename": "r.pdf"},
                ],
            }
        ],
    }
    assert_no_base64_anywhere(captured)

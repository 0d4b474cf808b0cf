"""Binary payloads never land in a trace: every base64 form, in every provider's shape,
becomes ``<base64 MIME, N bytes>`` -- decided in one walk keyed on the structure."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tracekit import _binary
from tracekit._serialize import dumps

LIMIT = 1_000_000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # 2,056 bytes
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8
WAV = b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8
TINY_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40  # a short blob: found by its structure
RAW = bytes(range(256)) * 8  # no signature
JPEG = b"\xff\xd8\xff" + RAW


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def urlsafe(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def recorded(value: Any) -> Any:
    text, truncated = dumps(value, LIMIT)
    assert not truncated
    return json.loads(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"data:image/png;base64,{b64(PNG)}", f"<base64 image/png, {len(PNG)} bytes>"),
        (f"data:audio/wav;rate=16000;base64,{b64(WAV)}", f"<base64 audio/wav, {len(WAV)} bytes>"),
        (f"data:application/pdf;base64,{urlsafe(PDF)}", f"<base64 application/pdf, {len(PDF)} bytes>"),
        (f"data:image/png;base64,{base64.encodebytes(PNG).decode()}", f"<base64 image/png, {len(PNG)} bytes>"),
        (b64(PNG), f"<base64 image/png, {len(PNG)} bytes>"),  # bare, the type from its first bytes
        (urlsafe(RAW), f"<base64 {len(RAW)} bytes>"),
        (urlsafe(RAW).rstrip("="), f"<base64 {len(RAW)} bytes>"),
        (base64.encodebytes(RAW).decode(), f"<base64 {len(RAW)} bytes>"),  # line-wrapped (MIME)
        ("\r\n".join(b64(RAW)[i : i + 64] for i in range(0, len(b64(RAW)), 64)), f"<base64 {len(RAW)} bytes>"),
    ],
    ids=[
        "data-url",
        "data-url-params",
        "data-url-urlsafe",
        "data-url-wrapped",
        "bare-png",
        "urlsafe",
        "unpadded",
        "wrapped",
        "crlf-wrapped",
    ],
)
def test_every_base64_form(value: str, expected: str) -> None:
    assert recorded({"v": value}) == {"v": expected}
    assert recorded([value]) == [expected]


def test_anthropic_image_and_document_sources_even_short_ones() -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64(TINY_PNG)}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(PDF)}},
        {"type": "text", "text": "describe both"},
    ]
    assert recorded({"messages": [{"role": "user", "content": content}]}) == {
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": f"<base64 image/png, {len(TINY_PNG)} bytes>",
                        },
                    },
                    {
                        "type": "document",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": f"<base64 application/pdf, {len(PDF)} bytes>",
                        },
                    },
                    {"type": "text", "text": "describe both"},
                ],
            }
        ]
    }


def test_gemini_inline_data_as_bytes_and_as_base64() -> None:
    parts = [
        {"inline_data": {"data": TINY_PNG, "mime_type": "image/png"}},
        {"inline_data": {"data": urlsafe(RAW), "mime_type": "audio/L16"}},
        {"inlineData": {"data": b64(TINY_PNG), "mimeType": "image/png"}},
    ]
    assert recorded({"contents": [{"role": "user", "parts": parts}]}) == {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"data": f"<bytes image/png, {len(TINY_PNG)} bytes>", "mime_type": "image/png"}},
                    {"inline_data": {"data": f"<base64 audio/L16, {len(RAW)} bytes>", "mime_type": "audio/L16"}},
                    {"inlineData": {"data": f"<base64 image/png, {len(TINY_PNG)} bytes>", "mimeType": "image/png"}},
                ],
            }
        ]
    }


def test_gemini_sdk_part_objects() -> None:
    from google.genai import types

    part = types.Part.from_bytes(data=PNG, mime_type="image/png")
    data = recorded({"contents": [part]})
    blob = data["contents"][0]["inline_data"]
    assert (blob["data"], blob["mime_type"]) == (f"<base64 image/png, {len(PNG)} bytes>", "image/png")


def test_openai_image_url_input_audio_and_audio_output() -> None:
    request = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + b64(JPEG)}},
                    {"type": "input_audio", "input_audio": {"data": b64(b"short audio"), "format": "mp3"}},
                    {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{b64(PDF)}", "filename": "a.pdf"}},
                ],
            }
        ],
        "audio": {"voice": "alloy", "format": "wav"},
    }
    response = {"choices": [{"message": {"audio": {"id": "audio_1", "data": b64(WAV), "expires_at": 1, "transcript": "hi"}}}]}
    content = recorded(request)["messages"][0]["content"]
    assert content[0]["image_url"] == {"url": f"<base64 image/jpeg, {len(JPEG)} bytes>"}
    assert content[1]["input_audio"] == {"data": "<base64 audio/mp3, 11 bytes>", "format": "mp3"}
    assert content[2]["file"] == {"file_data": f"<base64 application/pdf, {len(PDF)} bytes>", "filename": "a.pdf"}
    audio = recorded(response)["choices"][0]["message"]["audio"]
    assert audio == {"id": "audio_1", "data": f"<base64 audio/wav, {len(WAV)} bytes>", "expires_at": 1, "transcript": "hi"}


def test_blobs_inside_longer_text() -> None:
    body = json.dumps({"image": f"data:image/png;base64,{b64(PNG)}", "blob": b64(RAW)})
    text = recorded({"raw_body": body})["raw_body"]
    assert json.loads(text) == {"image": f"<base64 image/png, {len(PNG)} bytes>", "blob": f"<base64 {len(RAW)} bytes>"}
    prompt = f"look at data:image/png;base64,{b64(TINY_PNG)} and answer"
    assert recorded(prompt) == f"look at <base64 image/png, {len(TINY_PNG)} bytes> and answer"


@pytest.mark.parametrize(
    "value",
    [
        "word " * 400,
        "a" * 5000,  # one long token
        "0123456789abcdef" * 200,  # a hex digest run: no upper case, no signature
        "/usr/lib/python3/" * 100,
        {"data": "plain text that is not base64!", "type": "base64"},
        {"audio": {"data": "not base64 at all: spaces, punctuation!", "format": "wav"}},
    ],
)
def test_text_that_is_not_binary_is_kept(value: Any) -> None:
    assert recorded(value) == value


def test_the_binary_walk_runs_only_when_a_blob_may_be_there() -> None:
    ordinary = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Summarize: " + "lorem ipsum dolor " * 500}]},
        separators=(",", ":"),
    )
    assert not _binary.may_hold_blobs(ordinary)  # the fast path stays fast: no JSON decode
    assert _binary.may_hold_blobs(json.dumps({"source": {"type": "base64", "data": "AAAA" * 20}}, separators=(",", ":")))

"""Binary payloads never land in a trace: each becomes ``<base64 MIME, N bytes>``.

One walk over the JSON data of an input or output, keyed on its structure, covers
every provider at once:

- a data URL anywhere (OpenAI ``image_url`` / ``input_image`` / ``file_data``, any
  app value): ``data:image/png;base64,...``;
- the ``data`` of a block whose ``type`` is ``base64`` (Anthropic image and document
  ``source`` blocks), of an ``inline_data`` / ``inlineData`` blob (Gemini parts, in
  requests and responses), of ``input_audio`` (OpenAI audio input, MIME type from its
  ``format``) and of ``audio`` (OpenAI audio output) -- whatever their length;
- any other string of 1 KiB or more that is base64 (standard or URL-safe alphabet,
  padded or not, line-wrapped or not) and looks like encoded binary.

The MIME type comes from a sibling key (``mime_type``, ``media_type``, ``format``...)
or, failing that, from the first bytes of the payload (PNG, JPEG, GIF, WebP, PDF,
WAV, MP3, OGG, FLAC, MP4, WebM). :func:`may_hold_blobs` is the cheap test that
decides whether the walk runs at all: substring tests and one regex scan of texts of
1 KiB and more, so ordinary payloads pay almost nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

#: strings shorter than this are base64 blobs only where the structure says so
MIN_BLOB = 1024

# A long run of base64 characters in JSON text (a backslash too: a line-wrapped blob
# shows its newlines as "\n" there). Only a trigger: the walk decides.
_RUN = re.compile(r"(?<![A-Za-z0-9+/_\\-])[A-Za-z0-9+/_\\-]{1024,}")
# Two substring scans find every short blob: a data URL or an Anthropic base64 source
# says "base64", and every keyed blob (Anthropic, Gemini, OpenAI audio) is a "data"
# string. A false hint costs one walk, never a wrong placeholder.
_STRUCTURE_HINTS = ("base64", '"data":"')

_DATA_URL_HEAD = r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[^;,\"\s]*)*);base64,"
#: a data URL inside a longer text (its payload ends at the first non-base64 character)
_DATA_URL = re.compile(_DATA_URL_HEAD + r"([A-Za-z0-9+/_-]+={0,2})", re.ASCII)
#: a whole string that is a data URL (line-wrapped payloads too)
_DATA_URL_WHOLE = re.compile(r"\s*" + _DATA_URL_HEAD + r"([A-Za-z0-9+/_\-\s]*={0,2})\s*", re.ASCII)
_B64_WHOLE = re.compile(r"[A-Za-z0-9+/_\-\s]+={0,2}\s*", re.ASCII)
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{1024,}={0,2}", re.ASCII)
_WHITESPACE = re.compile(r"\s+")

#: keys whose object holds binary ``data`` whatever its length (Gemini, OpenAI audio)
_BLOB_KEYS = frozenset({"inline_data", "inlineData", "input_audio", "audio"})
_MIME_KEYS = ("mime_type", "mimeType", "media_type", "mediaType", "content_type", "contentType")

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (8, b"WAVE", "audio/wav"),
    (0, b"%PDF", "application/pdf"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"\xff\xf3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (4, b"ftypM4A", "audio/mp4"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
)


def sniff(head: bytes) -> str | None:
    """The MIME type that the first bytes of a payload announce, if any."""
    for offset, magic, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    return None


def bytes_placeholder(data: bytes | bytearray | memoryview) -> str:
    """``<bytes image/png, N bytes>`` (the MIME type when the bytes announce one)."""
    size = len(data) if not isinstance(data, memoryview) else data.nbytes
    try:
        mime = sniff(bytes(data[:16]))
    except Exception:  # a memoryview of an odd format
        mime = None
    return f"<bytes {mime}, {size} bytes>" if mime else f"<bytes {size} bytes>"


def _sniff_base64(text: str) -> str | None:
    """The MIME type announced by the first bytes that base64 ``text`` encodes."""
    head = _WHITESPACE.sub("", text[:64])[:24].rstrip("=")
    head = head[: len(head) - len(head) % 4]
    try:
        return sniff(base64.urlsafe_b64decode(head.replace("+", "-").replace("/", "_")))
    except (binascii.Error, ValueError):
        return None


def _placeholder(payload: str, mime: str | None) -> str:
    """``<base64 MIME, N bytes>`` for the base64 text ``payload`` (whitespace ignored)."""
    compact = payload if payload.isalnum() else _WHITESPACE.sub("", payload)
    size = len(compact.rstrip("=")) * 3 // 4
    if mime is None:
        mime = _sniff_base64(compact)
    return f"<base64 {mime}, {size} bytes>" if mime else f"<base64 {size} bytes>"


def _looks_binary(text: str) -> bool:
    """A long base64 run that mixes the classes encoded binary mixes (prose and
    identifiers are long too), or that starts with a known file signature."""
    head = text[:256]
    if any(c.isdigit() for c in head) and any(c.isupper() for c in head) and any(c.islower() for c in head):
        return True
    return _sniff_base64(text) is not None


def may_hold_blobs(text: str) -> bool:
    """Whether the JSON ``text`` may hold a binary payload (cheap; the walk decides)."""
    if len(text) < 64:
        return False
    for hint in _STRUCTURE_HINTS:
        if hint in text:
            return True
    return len(text) >= MIN_BLOB and _RUN.search(text) is not None


def strip_text(text: str) -> str:
    """The JSON ``text`` with every binary payload replaced by its placeholder."""
    try:
        data = json.loads(text)
        stripped = _walk(data, None)
    except (ValueError, RecursionError):
        return _in_string(text)  # not JSON (or too deep to walk): replace within the text
    if stripped is data:
        return text
    return json.dumps(stripped, ensure_ascii=False, separators=(",", ":"))


def _walk(node: Any, key: str | None) -> Any:
    """``node`` with its blobs replaced; the same object when nothing changed."""
    if isinstance(node, str):
        return _string(node, None, False)
    if isinstance(node, list):
        items = [_walk(v, key) for v in node]
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if not isinstance(node, dict):
        return node
    mime: str | None = None
    for mime_key in _MIME_KEYS:
        value = node.get(mime_key)
        if isinstance(value, str) and "/" in value:
            mime = value
            break
    blob = node.get("type") == "base64" or key in _BLOB_KEYS
    if mime is None and key in ("input_audio", "audio") and isinstance(node.get("format"), str):
        mime = f"audio/{node['format']}"
    changed = False
    out: dict[str, Any] = {}
    for k, v in node.items():
        new = _string(v, mime, blob and k == "data") if isinstance(v, str) else _walk(v, k)
        changed = changed or new is not v
        out[k] = new
    return out if changed else node


_BYTES_MARK = re.compile(r"<bytes (\d+) bytes>")


def _string(text: str, mime: str | None, known_blob: bool) -> str:
    if known_blob:
        if text.startswith("<"):
            found = _BYTES_MARK.fullmatch(text)
            return f"<bytes {mime}, {found.group(1)} bytes>" if found and mime else text
        whole = _DATA_URL_WHOLE.fullmatch(text)
        if whole is not None:
            return _placeholder(whole.group(3), whole.group(1) or mime)
        if _B64_WHOLE.fullmatch(text):
            return _placeholder(text, mime)
        return text
    if len(text) < 64:
        return text
    if text.startswith(("data:", " data:", "\ndata:")):
        whole = _DATA_URL_WHOLE.fullmatch(text)
        if whole is not None:
            return _placeholder(whole.group(3), whole.group(1))
    if len(text) >= MIN_BLOB and _B64_WHOLE.fullmatch(text) and _looks_binary(text.lstrip()):
        return _placeholder(text, mime)
    if "base64," in text or len(text) >= MIN_BLOB:
        return _in_string(text)
    return text


def _replace_data_url(m: re.Match[str]) -> str:
    return _placeholder(m.group(3), m.group(1))


def _replace_run(m: re.Match[str]) -> str:
    run = m.group(0)
    return _placeholder(run, None) if _looks_binary(run) else run


def _in_string(text: str) -> str:
    """Blobs inside a longer text (JSON held in a string, a prompt quoting a data URL)."""
    if "base64," in text:
        text = _DATA_URL.sub(_replace_data_url, text)
    if len(text) >= MIN_BLOB:
        text = _B64_RUN.sub(_replace_run, text)
    return text

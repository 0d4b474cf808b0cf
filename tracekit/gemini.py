"""Trace every Gemini call made with the ``google-genai`` SDK.

>>> import tracekit
>>> tracekit.gemini.autolog()
>>> from google import genai
>>> client = genai.Client()
>>> client.models.generate_content(model="gemini-2.5-flash", contents="Hi")  # one CHAT_MODEL span

Traced, sync and async (``client.aio``): ``models.generate_content``,
``models.generate_content_stream``, ``models.embed_content``, and through them
``chats`` (``send_message``, ``send_message_stream``).

**One span per model call.** The patches sit on the methods that send one HTTP
request (``Models._generate_content``, ``_generate_content_stream``,
``_embed_content`` in google-genai 3.x) rather than on the public ones, because a
public call may make several model calls: automatic function calling (a Python
function in ``tools``) loops model -> function -> model, and automatic
continuation resumes a long stream over several requests. Each of those requests
gets its own span with its own request, response and token usage, and a chat turn
gives exactly one span (``Chat.send_message`` calls ``Models.generate_content``,
which is not traced twice). An SDK without those private methods is traced on the
public ones instead, one span per call.

See ``docs/gemini.md`` for every attribute recorded.
"""

from __future__ import annotations

from tracekit._providers.gemini._patches import autolog

__all__ = ["autolog"]

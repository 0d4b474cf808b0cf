"""Trace every call of the anthropic SDK: ``tracekit.anthropic.autolog()``.

>>> import anthropic, tracekit
>>> tracekit.anthropic.autolog()
>>> client = anthropic.Anthropic()
>>> client.messages.create(model="claude-sonnet-4-5", max_tokens=256,
...                        messages=[{"role": "user", "content": "hi"}])  # one CHAT_MODEL span

Traced, on ``Anthropic`` and ``AsyncAnthropic`` (and the Bedrock / Vertex clients,
which share the resource classes): ``messages.create`` (streamed or not),
``messages.stream()``, ``messages.parse``, the same three under ``beta.messages``,
and their ``with_raw_response`` / ``with_streaming_response`` forms. One span per
call, named ``chat {model}``. ``count_tokens`` and the batch API are not traced.
See ``docs/anthropic.md`` for what a span holds.
"""

from __future__ import annotations

from tracekit._providers.anthropic._patches import autolog

__all__ = ["autolog"]

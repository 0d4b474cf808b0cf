"""``tracekit proxy``: a local recording proxy for clients that cannot be autologged.

A coding agent (Claude Code, Codex CLI, Gemini CLI, Copilot CLI, OpenCode) or an app in
another language points its base URL at the proxy; the proxy forwards every request
unchanged to the upstream (a provider's API or a gateway), streams the answer back as
it arrives, and records each model call as the same LLM span tracekit's autolog
records for that call. Needs ``pip install 'tracekit[proxy]'`` (aiohttp). See
docs/proxy.md.

Modules: ``_routes`` (which exchanges are model calls), ``_wire`` (decoding, SSE),
``_sdk`` (wire JSON -> the SDK objects autolog's endpoints read), ``_record`` (one
span per call), ``_server`` (aiohttp), ``_run`` (the command's lifecycle).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["run"]


def run(
    upstream: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8788,
    session: str | None = None,
    command: Sequence[str] = (),
    read_timeout: float = 600.0,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (or until ``command`` exits); returns the exit code.
    Every span is flushed to the configured destination before it returns."""
    from tracekit import _tracer
    from tracekit._proxy._run import serve

    try:
        return asyncio.run(
            serve(
                upstream,
                host=host,
                port=port,
                session=session,
                command=command,
                read_timeout=read_timeout,
                out=out or sys.stdout,
                err=err or sys.stderr,
            )
        )
    finally:
        _tracer.flush(timeout=30)

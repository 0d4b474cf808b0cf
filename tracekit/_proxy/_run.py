"""Running the proxy: listen, print the listening line, stop on SIGINT/SIGTERM (or when
the wrapped command exits), flush every span before exiting."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from tracekit._proxy._server import ProxyServer

#: ``--upstream`` presets: the providers' public API roots (the client's own path,
#: ``/v1/...`` or ``/v1beta/...``, is appended unchanged)
PRESETS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def resolve_upstream(value: str) -> str:
    """A preset name or an http(s) URL; raises ValueError otherwise."""
    if value.lower() in PRESETS:
        return PRESETS[value.lower()]
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"--upstream must be one of {', '.join(PRESETS)} or an http(s) URL, not {value!r}")
    return value.rstrip("/")


def client_environment(base: str, upstream_name: str) -> dict[str, str]:
    """The base-URL variables that point the common clients at the proxy.

    Claude Code and the anthropic SDKs read ``ANTHROPIC_BASE_URL`` (without ``/v1``);
    Codex CLI and the openai SDKs ``OPENAI_BASE_URL`` (with ``/v1``); Gemini CLI and
    google-genai ``GOOGLE_GEMINI_BASE_URL``. A preset upstream sets only its provider's
    variable (the others keep reaching their own providers); a URL upstream (a gateway
    that speaks several protocols) sets them all. (No ``TRACEKIT_*`` variable: tracekit in
    the command would reject one it does not know.)
    """
    by_provider = {
        "openai": {"OPENAI_BASE_URL": base + "/v1"},
        "anthropic": {"ANTHROPIC_BASE_URL": base},
        "gemini": {"GOOGLE_GEMINI_BASE_URL": base},
    }
    env: dict[str, str] = {}
    names = [upstream_name.lower()] if upstream_name.lower() in by_provider else list(by_provider)
    for name in names:
        env.update(by_provider[name])
    return env


async def serve(
    upstream_arg: str,
    *,
    host: str,
    port: int,
    session: str | None,
    command: Sequence[str],
    read_timeout: float,
    out: TextIO,
    err: TextIO,
) -> int:
    upstream = resolve_upstream(upstream_arg)
    server = ProxyServer(upstream, session=session, read_timeout=read_timeout)
    real_port = await server.start(host, port)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{real_port}"
    if host not in LOOPBACK:
        print(
            f"tracekit proxy: WARNING: listening on {host}, not on loopback: anyone who can reach this "
            "address can send requests through it (with the credentials they bring) and read nothing back, "
            "but every call they make is recorded. Use --host 127.0.0.1 unless you mean it.",
            file=err,
            flush=True,
        )
    print(f"tracekit proxy: listening on {base} -> {server.shown_upstream}", file=out, flush=True)
    loop = asyncio.get_running_loop()
    from tracekit._proxy._sdk import preload

    # in a thread, after listening: ready at once, and the first call of each provider
    # does not import its SDK on the event loop (anthropic 2.17: ~0.9 s on a quiet machine)
    preloading = server.ready = loop.run_in_executor(None, preload)
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError):  # not the main thread / not supported
            pass
    code = 0
    try:
        if command:
            code = await _run_command(command, {**os.environ, **client_environment(base, upstream_arg)}, stop, received)
        else:
            await stop.wait()
            code = 0  # a signal is the normal way to stop a proxy
    finally:
        await server.stop()
        await preloading
    return code


async def _run_command(command: Sequence[str], env: dict[str, str], stop: asyncio.Event, received: list[int]) -> int:
    try:
        child = await asyncio.create_subprocess_exec(*command, env=env)
    except OSError as exc:
        print(f"tracekit proxy: cannot start {command[0]!r}: {exc}", file=sys.stderr, flush=True)
        return 127
    waiter = asyncio.ensure_future(child.wait())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        # we were asked to stop: pass the signal on and wait for the command
        if child.returncode is None:
            child.send_signal(received[0] if received else signal.SIGTERM)
        await waiter
    stopper.cancel()
    returncode = child.returncode if child.returncode is not None else 1
    return 128 - returncode if returncode < 0 else returncode

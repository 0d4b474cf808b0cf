"""``tracekit proxy``: the recording proxy (``tracekit._proxy``), imported on use."""

from __future__ import annotations

import argparse

from tracekit._cli._base import TRACKING_URI_ENV, CliError, Context, SubParsers


def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add ``proxy``."""
    proxy = subparsers.add_parser(
        "proxy",
        help="record what a client that cannot be autologged (a coding agent, another language) sends to the model",
        description="Forward every request unchanged to UPSTREAM and record each model call as an LLM span."
        " After `--`, a command to run with its base-URL variables pointing at the proxy.",
    )
    proxy.add_argument(
        "--upstream", required=True, metavar="NAME|URL", help="openai, anthropic, gemini, or any http(s) URL (a gateway)"
    )
    proxy.add_argument("--port", type=int, default=8788, help="port to listen on; 0 picks a free one (default 8788)")
    proxy.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    proxy.add_argument(
        "--session", metavar="NAME", help="session id of every trace (default: the client's session header, else one per run)"
    )
    proxy.add_argument(
        "--timeout", type=float, default=600.0, metavar="SECONDS", help="longest wait for upstream data (default 600)"
    )
    proxy.add_argument(
        "command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...: run it through the proxy, stop when it exits"
    )
    proxy.set_defaults(handler=run_proxy)


def run_proxy(args: argparse.Namespace, ctx: Context) -> int:
    """Import the proxy lazily (aiohttp is an optional extra) and serve."""
    import os

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise CliError("`tracekit proxy` needs aiohttp: pip install 'tracekit[proxy]'") from None
    from tracekit._proxy import run
    from tracekit._proxy._run import resolve_upstream

    try:
        resolve_upstream(args.upstream)
    except ValueError as exc:
        raise CliError(str(exc), exit_code=2) from None
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be 0..65535, not {args.port}", exit_code=2)
    if ctx.store_spec is not None:
        os.environ[TRACKING_URI_ENV] = f"sqlite:///{ctx.store_path()}"
    try:
        return run(
            args.upstream,
            host=args.host,
            port=args.port,
            session=args.session,
            command=command,
            read_timeout=args.timeout,
            out=ctx.out,
            err=ctx.err,
        )
    except OSError as exc:  # the port is taken, the host is not ours
        raise CliError(f"tracekit proxy: cannot listen on {args.host}:{args.port}: {exc}") from None

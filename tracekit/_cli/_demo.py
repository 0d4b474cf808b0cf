"""``tracekit demo``: run the bundled demo app (``tracekit._cli._demo_app``), imported on use."""

from __future__ import annotations

import argparse
import importlib
import inspect
import os

from tracekit._cli._base import TRACKING_URI_ENV, CliError, Context, SubParsers

DEMO_MODULE = "tracekit._cli._demo_app"


def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add ``demo``; its arguments are passed on to the demo untouched."""
    demo = subparsers.add_parser("demo", help="record a few example traces against a built-in fake LLM server, offline")
    demo.add_argument("--io", action="store_true", help="also print each span's inputs and outputs")
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, ctx: Context) -> int:
    """Import the demo lazily (it pulls in the provider SDKs) and run its ``main``."""
    try:
        module = importlib.import_module(DEMO_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != DEMO_MODULE:
            raise  # something the demo needs is missing: not the same message
        raise CliError(f"`tracekit demo` is not available: {DEMO_MODULE} is missing from this installation") from None
    argv = ["--io"] if args.io else []
    if ctx.store_spec is not None:
        # The demo records through the normal configuration; point it at --store.
        os.environ[TRACKING_URI_ENV] = f"sqlite:///{ctx.store_path()}"
        argv += ["--store", str(ctx.store_path())]
    argv += ["--color"] if ctx.color else ["--no-color"]
    main = module.main
    result = main(argv) if inspect.signature(main).parameters else main()
    return result if isinstance(result, int) else 0

"""The ``tracekit`` command line: a small registry of subcommands over argparse.

Adding a subcommand: write a module with a ``register(subparsers)`` function that adds
its parser and sets ``handler=run`` where ``run(args, ctx) -> int``, then add one
``(name, "module:function")`` entry to ``COMMANDS`` (or call :func:`add_command` at
import time). Register functions must be cheap: import heavy things in the handler.

>>> main(["--help"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO, cast

from tracekit._cli._base import CliError, Context, Handler, RegisterFn, SubParsers
from tracekit._errors import ConfigError
from tracekit._redact import redact_text
from tracekit._store import StoreSchemaError

__all__ = ["COMMANDS", "CliError", "Context", "Handler", "RegisterFn", "add_command", "main"]

# (command name, "module:function"): resolved when the parser is built, so a broken or
# missing module only breaks its own command's registration message, not the CLI.
COMMANDS: list[tuple[str, str | RegisterFn]] = [
    ("traces", "tracekit._cli._traces:register"),
    ("demo", "tracekit._cli._demo:register"),
    ("export", "tracekit._cli._export:register"),
    ("status", "tracekit._cli._status:register"),
    ("sync", "tracekit._cli._sync:register"),
    ("proxy", "tracekit._cli._proxy:register"),
]


def add_command(name: str, register: str | RegisterFn) -> None:
    """Register a subcommand; ``register`` is a function or a ``"module:function"`` path.

    >>> add_command("hello", lambda sub: None)  # doctest: +SKIP
    """
    if any(existing == name for existing, _ in COMMANDS):
        raise ValueError(f"tracekit command {name!r} is already registered")
    COMMANDS.append((name, register))


class _Parser(argparse.ArgumentParser):
    """Every (sub)parser accepts the global options, so they may follow the subcommand.

    Subparsers default to ``SUPPRESS`` so that a value given before the subcommand is
    not overwritten by the subparser's default.
    """

    def __init__(self, *args: Any, _top: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default: Any = None if _top else argparse.SUPPRESS
        group = self.add_argument_group("global options")
        group.add_argument(
            "--store",
            metavar="PATH_OR_URI",
            default=default,
            help="trace store: a path or sqlite:///PATH (default: $TRACEKIT_TRACKING_URI if sqlite,"
            " else $TRACEKIT_HOME/traces.db)",
        )
        color = group.add_mutually_exclusive_group()
        color.add_argument("--color", dest="color", action="store_const", const=True, default=default)
        color.add_argument(
            "--no-color",
            dest="color",
            action="store_const",
            const=False,
            default=default,
            help="force colour on or off (default: on for a terminal unless NO_COLOR is set)",
        )


    def error(self, message: str) -> NoReturn:
        """A usage error as one line (argparse's default prints the whole usage first)."""
        self.exit(2, f"tracekit: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered subcommand."""
    from tracekit import __version__

    parser = _Parser(prog="tracekit", description="Browse the traces tracekit recorded.", _top=True)
    parser.add_argument("--version", action="version", version=f"tracekit {__version__}")
    # _Parser is an ArgumentParser; argparse's stub types the action by parser class.
    subparsers = cast(
        "SubParsers[argparse.ArgumentParser]",
        parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser),
    )
    for name, register in COMMANDS:
        _resolve(name, register)(subparsers)
    return parser


def _resolve(name: str, register: str | RegisterFn) -> RegisterFn:
    if callable(register):
        return register
    module_name, _, function = register.partition(":")
    fn: RegisterFn = getattr(importlib.import_module(module_name), function or "register")
    return fn


def _use_color(flag: bool | None, stream: TextIO) -> bool:
    if flag is not None:
        return flag
    # https://no-color.org: any non-empty NO_COLOR disables colour.
    return not os.environ.get("NO_COLOR") and stream.isatty()


def _can_encode_box_drawing(stream: TextIO) -> bool:
    try:
        "├─█…✗".encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 failure, 2 usage error)."""
    out, err = sys.stdout, sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(out)
        return 2
    ctx = Context(
        store_spec=args.store,
        color=_use_color(args.color, out),
        unicode=_can_encode_box_drawing(out),
        out=out,
        err=err,
    )
    try:
        return handler(args, ctx)
    except CliError as exc:
        print(f"tracekit: error: {redact_text(exc.message)}", file=err)
        return exc.exit_code
    except ConfigError as exc:  # a bad TRACEKIT_* variable met by a command
        print(f"tracekit: error: {exc}", file=err)
        return 2
    except StoreSchemaError as exc:
        print(f"tracekit: error: {exc}", file=err)
        return 1
    except sqlite3.Error as exc:  # a store that went bad while reading (locked, corrupt, disk)
        try:
            where = f" {ctx.store_path()}"
        except CliError:
            where = ""
        print(f"tracekit: error: cannot use the trace store{where}: {exc}", file=err)
        return 1
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error. Point stdout at
        # devnull so the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user; the traceback on request
        if os.environ.get("TRACEKIT_DEBUG"):
            raise
        message = redact_text(f"{type(exc).__name__}: {exc}")
        print(f"tracekit: internal error: {message} (TRACEKIT_DEBUG=1 shows more)", file=err)
        return 1

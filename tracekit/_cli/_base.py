"""What every subcommand shares: the run context, the error type, the handler type."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tracekit._store import SQLiteStore, default_store_path, store_path_from_uri

TRACKING_URI_ENV = "TRACEKIT_TRACKING_URI"


class CliError(Exception):
    """A failure to report as one line on stderr, exiting with ``exit_code``.

    >>> raise CliError("no trace tr-00 in /tmp/t.db")  # doctest: +SKIP
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass
class Context:
    """Global options resolved once, handed to every subcommand handler."""

    store_spec: str | None  # --store as given, or None
    color: bool
    unicode: bool  # False when stdout cannot encode box-drawing characters
    out: TextIO
    err: TextIO

    def store_path(self) -> Path:
        """``--store``, else ``$TRACEKIT_TRACKING_URI`` when it is sqlite, else the default file."""
        spec = self.store_spec
        if spec is None:
            env = os.environ.get(TRACKING_URI_ENV, "")
            spec = env if env.startswith("sqlite:") else None
        if spec is None:
            return default_store_path()
        try:
            return store_path_from_uri(spec)
        except ValueError as exc:
            raise CliError(f"bad --store {spec!r}: {exc}", exit_code=2) from None

    def open_store(self) -> SQLiteStore:
        """The store to read; a missing file is a user-facing error, not an empty list."""
        path = self.store_path()
        if not path.exists():
            raise CliError(f"no traces yet at {path} — run an instrumented app or `tracekit demo`")
        return SQLiteStore(path)


Handler = Callable[[argparse.Namespace, Context], int]
"""A subcommand's entry point: set it with ``parser.set_defaults(handler=...)``."""

SubParsers = argparse._SubParsersAction
"""What ``ArgumentParser.add_subparsers()`` returns; register functions receive one."""

RegisterFn = Callable[["SubParsers[argparse.ArgumentParser]"], None]
"""Adds one top-level subcommand: ``sub = subparsers.add_parser(name, ...)``."""

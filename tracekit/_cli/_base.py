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
MIN_WIDTH = 60
SQLITE_HEADER = b"SQLite format 3\x00"


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

    def width(self) -> int | None:
        """Columns to fit: ``COLUMNS``, else the terminal's width; ``None`` (no limit) when
        the output is not a terminal. Never under 60: narrower layouts are not readable."""
        import shutil

        raw = os.environ.get("COLUMNS", "").strip()
        if raw.isdigit() and int(raw) > 0:
            return max(MIN_WIDTH, int(raw))
        try:
            if not self.out.isatty():
                return None
        except (AttributeError, ValueError):  # a closed or odd stream
            return None
        return max(MIN_WIDTH, shutil.get_terminal_size((100, 24)).columns)

    def store_path(self) -> Path:
        """``--store``, else ``$TRACEKIT_TRACKING_URI`` when it is sqlite, else the default file."""
        spec = self.store_spec
        if spec is None:
            env = os.environ.get(TRACKING_URI_ENV, "")
            spec = env if env.startswith("sqlite:") else None
        if spec is None:
            return default_store_path()
        if "://" in spec and not spec.startswith("sqlite:"):
            raise CliError(
                f"--store {spec!r} is a URL, but the CLI reads a local trace store file (a path or sqlite:///PATH);"
                " traces sent to a server are read in its own UI",
                exit_code=2,
            )
        try:
            return store_path_from_uri(spec)
        except ValueError as exc:
            raise CliError(f"bad --store {spec!r}: {exc}", exit_code=2) from None

    def open_store(self) -> SQLiteStore:
        """The store to read; a missing file is a user-facing error, not an empty list."""
        path = self.store_path()
        if not path.exists():
            raise CliError(f"no traces yet at {path} — run an instrumented app or `tracekit demo`")
        check_store_file(path)
        return SQLiteStore(path)


def check_store_file(path: Path) -> None:
    """Raise a one-line :class:`CliError` when ``path`` is not a trace store tracekit can read.

    Checked before SQLite opens the file: opening would also *create* tracekit's tables
    in someone else's SQLite database.
    """
    if path.is_dir():
        raise CliError(f"{path} is a directory, not a trace store file (give the .db file inside, e.g. {path / 'traces.db'})")
    try:
        with path.open("rb") as f:
            header = f.read(16)
    except OSError as exc:
        raise CliError(f"cannot read the trace store {path}: {exc.strerror or exc}") from None
    if header and header != SQLITE_HEADER:
        raise CliError(f"{path} is not a trace store: not an SQLite database file")
    if not header:
        return  # an empty file: a store created but never written
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise CliError(f"{path} is not a readable trace store: {exc}") from None
    if tables and "traces" not in tables and version == 0:
        raise CliError(f"{path} is an SQLite database, but not a tracekit trace store (it has no traces table)")


Handler = Callable[[argparse.Namespace, Context], int]
"""A subcommand's entry point: set it with ``parser.set_defaults(handler=...)``."""

SubParsers = argparse._SubParsersAction
"""What ``ArgumentParser.add_subparsers()`` returns; register functions receive one."""

RegisterFn = Callable[["SubParsers[argparse.ArgumentParser]"], None]
"""Adds one top-level subcommand: ``sub = subparsers.add_parser(name, ...)``."""

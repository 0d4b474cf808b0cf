"""``tracekit traces list`` and ``tracekit traces show``."""

from __future__ import annotations

import argparse
import json

from tracekit._cli import _render
from tracekit._cli._base import CliError, Context, SubParsers
from tracekit._cli._times import parse_time
from tracekit._model import Trace, normalize_trace_id
from tracekit._store import SQLiteStore

STATUSES = ("OK", "ERROR", "IN_PROGRESS")
MIN_PREFIX = 4  # shorter id prefixes match too much to be useful


def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add ``traces`` with its ``list`` and ``show`` subcommands."""
    traces = subparsers.add_parser("traces", help="list and show recorded traces")
    traces.set_defaults(handler=lambda args, ctx: _usage(traces))
    sub = traces.add_subparsers(title="commands", metavar="COMMAND")

    ls = sub.add_parser("list", help="list traces, newest first")
    ls.add_argument("--name", help="substring of the trace name, or a glob (*, ?, [...]) on the whole name")
    ls.add_argument("--status", type=str.upper, choices=STATUSES, help="only traces with this status")
    ls.add_argument("--since", metavar="TIME", help="started at or after TIME: ISO time or age (10m, 2h, 1d)")
    ls.add_argument("--until", metavar="TIME", help="started before TIME: ISO time or age")
    ls.add_argument("--limit", type=_positive_int, default=20, help="at most this many traces (default 20)")
    ls.add_argument("--json", action="store_true", help="print a JSON array of trace summaries")
    ls.set_defaults(handler=run_list)

    show = sub.add_parser("show", help="show one trace as a span tree with a waterfall")
    show.add_argument("trace_id", metavar="ID", help="trace id (tr-<hex> or <hex>), or a unique prefix of it")
    show.add_argument("--io", action="store_true", help="also print each span's inputs and outputs")
    show.add_argument("--json", action="store_true", help="print the whole trace as JSON")
    show.add_argument(
        "--chat", action="store_true", help="show each model call as a conversation (system, user, assistant, tools)"
    )
    show.set_defaults(handler=run_show)

    export = sub.add_parser("export", help="write one trace as OTLP/JSON, e.g. to attach to a bug report")
    export.add_argument("trace_id", metavar="ID", help="trace id (tr-<hex> or <hex>), or a unique prefix of it")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(handler=run_export)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _time_option(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise CliError(f"bad {name}: {exc}", exit_code=2) from None


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """Print the newest traces as a table (or JSON)."""
    since = _time_option("--since", args.since)
    until = _time_option("--until", args.until)
    store = ctx.open_store()
    infos = store.list_traces(name=args.name, status=args.status, since_ns=since, until_ns=until, limit=args.limit)
    if args.json:
        print(json.dumps([info.to_dict() for info in infos], indent=2, ensure_ascii=False), file=ctx.out)
        return 0
    if not infos:
        print("no traces match" if _filtered(args) else f"no traces yet at {store.path}", file=ctx.err)
        return 0
    style = _render.Style(color=ctx.color, unicode=ctx.unicode)
    for line in _render.trace_list(infos, style):
        print(line, file=ctx.out)
    return 0


def _filtered(args: argparse.Namespace) -> bool:
    return any(getattr(args, k) is not None for k in ("name", "status", "since", "until"))


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    """Print one trace as a tree with a waterfall (or JSON)."""
    store = ctx.open_store()
    trace = _find(store, args.trace_id)
    if args.json:
        print(json.dumps(trace.to_dict(), indent=2, ensure_ascii=False, default=str), file=ctx.out)
        return 0
    style = _render.Style(color=ctx.color, unicode=ctx.unicode)
    if args.chat:
        from tracekit._cli._chat import chat_lines

        lines = [*_render.trace_header(trace.info, style), *chat_lines(trace, style, _width())]
        for line in lines:
            print(line, file=ctx.out)
        return 0
    for line in _render.trace_tree(trace, style, show_io=args.io):
        print(line, file=ctx.out)
    return 0


def run_export(args: argparse.Namespace, ctx: Context) -> int:
    """Write one trace as an OTLP/JSON ``ExportTraceServiceRequest``."""
    from pathlib import Path

    from tracekit._export._encode import readable_from_data
    from tracekit._export._otlp_json import to_otlp_json

    trace = _find(ctx.open_store(), args.trace_id)
    text = json.dumps(to_otlp_json([readable_from_data(span) for span in trace.spans]), indent=2, ensure_ascii=False)
    if args.output is None:
        print(text, file=ctx.out)
        return 0
    try:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {trace.info.trace_id} ({len(trace.spans)} spans) to {args.output} as OTLP/JSON", file=ctx.err)
    return 0


def _width() -> int:
    """The terminal's width (``COLUMNS`` wins), never under 60 columns."""
    import shutil

    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _find(store: SQLiteStore, text: str) -> Trace:
    """The trace for a full id in either form, or for an unambiguous prefix."""
    try:
        full = normalize_trace_id(text)
    except ValueError:
        full = None
    if full is not None:
        trace = store.get_trace(full)
        if trace is None:
            raise CliError(f"no trace {full} in {store.path}")
        return trace
    bare = text.strip().lower().removeprefix("tr-")
    if len(bare) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in bare):
        raise CliError(f"not a trace id: {text!r} (expected tr-<32 hex>, <32 hex>, or a prefix of at least 4 hex)")
    matches = store.find_trace_ids(bare, limit=6)
    if not matches:
        raise CliError(f"no trace matches {text!r} in {store.path}")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise CliError(f"trace id prefix {text!r} is ambiguous: {shown}")
    trace = store.get_trace(matches[0])
    if trace is None:  # deleted between the two reads
        raise CliError(f"no trace {matches[0]} in {store.path}")
    return trace

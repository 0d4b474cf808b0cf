"""``tracekit traces list`` and ``tracekit traces show``."""

from __future__ import annotations

import argparse
import json

from tracekit._cli import _render, _style
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
    ls.add_argument("--session", metavar="ID", help="only traces of this session (update_current_trace(session_id=...))")
    ls.add_argument("--user", metavar="ID", help="only traces of this user")
    ls.add_argument(
        "--tag", metavar="KEY=VALUE", action="append", default=[], type=_tag, help="only traces with this tag (repeatable)"
    )
    ls.add_argument("--model", help="only traces with a model call to this model (served or requested name)")
    ls.add_argument("--type", dest="span_type", metavar="TYPE", help="only traces with a span of this type (LLM, TOOL, ...)")
    ls.add_argument(
        "--search", metavar="TEXT", help="only traces whose inputs or outputs contain TEXT (case-insensitive; scans)"
    )
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

    prune = sub.add_parser("prune", help="delete old traces from the local store (safe while apps write)")
    prune.add_argument("--older-than", metavar="AGE", help="delete traces started more than AGE ago (30d, 12h, 90m)")
    prune.add_argument("--keep", metavar="N", type=_non_negative_int, help="keep only the newest N traces")
    prune.add_argument("--dry-run", action="store_true", help="say how many traces would go, delete nothing")
    prune.set_defaults(handler=run_prune)

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


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be at least 0")
    return value


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _time_option(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise CliError(f"bad {name}: {exc}", exit_code=2) from None


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """Print the newest matching traces as a table (or JSON), and how many more matched."""
    from tracekit._store._query import TraceFilter, find_traces

    wanted = TraceFilter(
        name=args.name,
        status=args.status,
        since_ns=_time_option("--since", args.since),
        until_ns=_time_option("--until", args.until),
        session=args.session,
        user=args.user,
        tags=tuple(args.tag),
        model=args.model,
        span_type=args.span_type,
        search=args.search,
    )
    store = ctx.open_store()
    found = find_traces(store, wanted, limit=args.limit)
    more = f"{_style.Style(unicode=ctx.unicode).ellipsis} and {found.more} more; --limit to see them"
    if args.json:
        rows = [{**info.to_dict(), "cost_usd": found.cost_usd.get(info.trace_id)} for info in found.traces]
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=ctx.out)
        if found.more:
            print(more, file=ctx.err)
        return 0
    if not found.traces:
        print("no traces match" if _filtered(args) else f"no traces yet at {store.path}", file=ctx.err)
        return 0
    style = _style.Style(color=ctx.color, unicode=ctx.unicode)
    for line in _render.trace_list(found.traces, style, found.cost_usd, ctx.width()):
        print(line, file=ctx.out)
    if found.more:
        print(style.paint(more, "dim"), file=ctx.out)
    return 0


def _filtered(args: argparse.Namespace) -> bool:
    keys = ("name", "status", "since", "until", "session", "user", "model", "span_type", "search")
    return bool(args.tag) or any(getattr(args, k) is not None for k in keys)


def run_prune(args: argparse.Namespace, ctx: Context) -> int:
    """Delete traces by age and/or count, in small transactions (apps may keep writing)."""
    import time

    from tracekit._store._prune import prune

    if args.older_than is None and args.keep is None:
        raise CliError("traces prune needs --older-than AGE and/or --keep N", exit_code=2)
    older = None
    if args.older_than is not None:
        older = _time_option("--older-than", args.older_than)
        if older is not None and older > time.time_ns():
            raise CliError(f"bad --older-than: {args.older_than!r} is in the future", exit_code=2)
    store = ctx.open_store()
    if args.dry_run:
        from tracekit._store._query import TraceFilter, find_traces

        total = find_traces(store, TraceFilter(), limit=1).total
        doomed = total if older is None else find_traces(store, TraceFilter(until_ns=older), limit=1).total
        if args.keep is not None:
            # the newest --keep survive; of the rest, those older than the age (if any) go
            doomed = min(doomed, max(0, total - args.keep)) if older is not None else max(0, total - args.keep)
        print(f"would delete {doomed} of {total} trace(s) from {store.path}", file=ctx.out)
        return 0
    deleted = prune(store, older_than_ns=older, keep=args.keep)
    print(f"deleted {deleted} trace(s) from {store.path}; {store.count()} left", file=ctx.out)
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    """Print one trace as a tree with a waterfall (or JSON)."""
    store = ctx.open_store()
    trace = _find(store, args.trace_id)
    if args.json:
        print(json.dumps(trace.to_dict(), indent=2, ensure_ascii=False, default=str), file=ctx.out)
        return 0
    style = _style.Style(color=ctx.color, unicode=ctx.unicode)
    if args.chat:
        from tracekit._cli._chat import chat_lines

        lines = [*_render.trace_header(trace.info, style), *chat_lines(trace, style, ctx.width() or _width())]
        for line in lines:
            print(line, file=ctx.out)
        return 0
    for line in _render.trace_tree(trace, style, show_io=args.io, width=ctx.width()):
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

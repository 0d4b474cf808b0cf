"""Text rendering for the CLI: tables, the span tree with its waterfall, colours.

Pure functions from model objects to lines of text, so the output can be checked
against golden files. Widths are measured on the plain text; colour codes are added
around already padded cells so that they never shift a column.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tracekit import _attributes as attr
from tracekit._cli._style import Cell, Style, clip
from tracekit._model import CONTINUES_REMOTE, SpanData, Trace, TraceInfo

WATERFALL_WIDTH = 32
NAME_WIDTH_MAX = 48
IO_STRING_MAX = 300  # characters of one string value shown by --io
IO_LINES_MAX = 40  # lines of one inputs/outputs block shown by --io

_STATUS_STYLE = {"OK": "green", "ERROR": "red", "IN_PROGRESS": "yellow", "UNSET": "dim"}

# --- values --------------------------------------------------------------------------
def format_duration(ms: float | None) -> str:
    """A short human duration: ``0.4ms``, ``12ms``, ``1.25s``, ``2m05s``.

    >>> format_duration(1250)
    '1.25s'
    """
    if ms is None:
        return "-"
    if ms < 10:
        return f"{ms:.1f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f}s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes}m{seconds:02d}s"


def format_tokens(usage: dict[str, int] | None) -> str:
    """``in/out/total`` tokens, ``-`` when there is no usage.

    >>> format_tokens({"input_tokens": 3, "output_tokens": 4, "total_tokens": 7})
    '3/4/7'
    """
    if not usage:
        return "-"

    def part(key: str) -> str:
        return str(usage[key]) if key in usage else "?"

    return f"{part(attr.USAGE_INPUT)}/{part(attr.USAGE_OUTPUT)}/{part(attr.USAGE_TOTAL)}"


def format_time(ns: int) -> str:
    """Local wall-clock time of an epoch-nanosecond timestamp, to the second."""
    return datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")




# --- tables --------------------------------------------------------------------------


def format_cost(usd: float | None) -> str:
    """US dollars, with more digits for the small amounts one call costs.

    >>> format_cost(0.00042), format_cost(1.5), format_cost(None)
    ('$0.00042', '$1.50', '-')
    """
    if usd is None:
        return "-"
    if usd >= 1:
        return f"${usd:.2f}"
    return f"${usd:.5f}".rstrip("0").rstrip(".") if usd else "$0"


def short_ids(ids: Sequence[str]) -> list[str]:
    """The shortest prefixes (at least 8 hex digits, without ``tr-``) that tell ``ids`` apart.

    >>> short_ids(["tr-0af7651916cd43dd8448eb211c80319c", "tr-5b8efff798038103d269b633813fc60c"])
    ['0af76519', '5b8efff7']
    """
    bare = [i.removeprefix("tr-") for i in ids]
    for length in range(8, 33):
        cut = [b[:length] for b in bare]
        if len(set(cut)) == len(set(bare)):
            return cut
    return bare


def _trace_status(info: TraceInfo) -> str:
    """The status, marked when this trace continues a caller's (its root is elsewhere)."""
    return f"{info.status} (remote parent)" if CONTINUES_REMOTE in info.metadata else info.status


def trace_list(
    infos: Sequence[TraceInfo], style: Style, costs: dict[str, float] | None = None, width: int | None = None
) -> list[str]:
    """The ``traces list`` table, fitted to ``width`` columns (``None``: no limit).

    Narrower than the natural layout, it clips names, shortens ids to a prefix
    ``traces show`` accepts, shortens times, then drops the token detail.
    """
    from tracekit._cli import _fit

    costs = costs or {}

    def tokens(info: TraceInfo, key: str) -> Cell:
        usage = info.token_usage or {}
        return (str(usage[key]) if key in usage else "-", None)

    columns = [
        _fit.Column("TRACE ID", [(info.trace_id, "dim") for info in infos]),
        _fit.Column("NAME", [(info.name, None) for info in infos], clip_to=40),
        _fit.Column("START", [(format_time(info.start_time_ns), None) for info in infos]),
        _fit.Column("DURATION", [(format_duration(info.duration_ms), None) for info in infos], right=True),
        _fit.Column("STATUS", [(_trace_status(info), _STATUS_STYLE.get(info.status)) for info in infos]),
        _fit.Column("IN", [tokens(info, attr.USAGE_INPUT) for info in infos], right=True),
        _fit.Column("OUT", [tokens(info, attr.USAGE_OUTPUT) for info in infos], right=True),
        _fit.Column("TOTAL", [tokens(info, attr.USAGE_TOTAL) for info in infos], right=True),
        _fit.Column("COST", [(format_cost(costs.get(info.trace_id)), None) for info in infos], right=True),
    ]

    def short_id(by: dict[str, _fit.Column]) -> None:
        column = by["TRACE ID"]
        column.cells = [(text, "dim") for text in short_ids([info.trace_id for info in infos])]

    def short_time(by: dict[str, _fit.Column]) -> None:
        by["START"].cells = [(format_time(info.start_time_ns)[5:16], None) for info in infos]

    steps = [
        _fit.clip_column("NAME", 24),
        short_id,
        _fit.clip_column("NAME", 16),
        short_time,
        _fit.drop("IN", "OUT"),
        _fit.clip_column("NAME", 10),
        _fit.drop("START"),
        _fit.drop("TOTAL"),
        _fit.drop("COST"),
        _fit.drop("DURATION"),
    ]
    return _fit.render(_fit.fit(columns, width, steps, grow="NAME"), style, width)


# --- the span tree -------------------------------------------------------------------
def _tree_order(trace: Trace, style: Style) -> list[tuple[SpanData, str, str]]:
    """Spans depth-first, children by start time, each with its tree prefix and the
    prefix its own detail lines continue with. A span whose parent is missing (not
    exported yet) is shown at the top level rather than hidden."""
    ids = {s.span_id for s in trace.spans}
    children: dict[str | None, list[SpanData]] = {}
    for span in trace.spans:  # already in start order
        parent = span.parent_id if span.parent_id in ids else None
        children.setdefault(parent, []).append(span)
    order: list[tuple[SpanData, str, str]] = []
    seen: set[str] = set()

    def walk(parent: str | None, prefix: str) -> None:
        kids = children.get(parent, [])
        for i, span in enumerate(kids):
            if span.span_id in seen:  # a malformed parent cycle: show each span once
                continue
            seen.add(span.span_id)
            last = i == len(kids) - 1
            top = parent is None
            stem = prefix + ("" if top else style.stem(last))
            order.append((span, prefix + ("" if top else style.branch(last)), stem))
            walk(span.span_id, stem)

    walk(None, "")
    return order


def _waterfall(span: SpanData, start: int, total: int, style: Style, width: int = WATERFALL_WIDTH) -> Cell:
    end = span.end_time_ns if span.end_time_ns is not None else start + total
    offset = min(width - 1, int((span.start_time_ns - start) / total * width))
    length = max(1, round((end - span.start_time_ns) / total * width))
    length = min(length, width - offset)
    text = " " * offset + style.bar * length + " " * (width - offset - length)
    return text, "red" if span.status == "ERROR" else "cyan"


def _status_text(status: str, style: Style) -> str:
    # A mark besides the colour, so errors stand out in piped and NO_COLOR output too.
    if status != "ERROR":
        return status
    return ("✗ " if style.unicode else "! ") + status


def _span_note(span: SpanData) -> str:
    notes = []
    ttft = span.attributes.get(attr.STREAM_TTFT_MS)
    if isinstance(ttft, (int, float)) and not isinstance(ttft, bool):
        notes.append(f"ttft {format_duration(float(ttft))}")
    if span.attributes.get(attr.STREAM_INCOMPLETE) is True:
        reason = span.attributes.get(attr.STREAM_END_REASON)
        notes.append(f"incomplete ({reason})" if reason else "incomplete")
    return ", ".join(notes)


def trace_header(info: TraceInfo, style: Style, width: int | None = None) -> list[str]:
    """The lines above the tree: id, name, status, timing, tokens, tags (wrapped to ``width``)."""
    parts = [
        (info.trace_id, "dim"),
        (info.name, "bold"),
        (_trace_status(info), _STATUS_STYLE.get(info.status)),
        (format_duration(info.duration_ms), None),
        (format_time(info.start_time_ns), None),
        (f"tokens {format_tokens(info.token_usage)}", None),
    ]
    lines = _wrap(parts, "  ", style, width)
    extra = []
    if info.session_id:
        extra.append(f"session {info.session_id}")
    if info.user_id:
        extra.append(f"user {info.user_id}")
    if info.tags:
        extra.append("tags " + " ".join(f"{k}={v}" for k, v in sorted(info.tags.items())))
    if info.metadata:
        extra.append("metadata " + " ".join(f"{k}={v}" for k, v in sorted(info.metadata.items())))
    if extra:
        lines += _wrap([(e, "dim") for e in extra], "   ", style, width)
    return lines


def _wrap(parts: Sequence[Cell], sep: str, style: Style, width: int | None) -> list[str]:
    """``parts`` joined by ``sep``, a new line before a part that would pass ``width``."""
    lines: list[list[str]] = [[]]
    used = 0
    for text, paint in parts:
        if width is not None:
            text = clip(text, width, style)
            if lines[-1] and used + len(sep) + len(text) > width:
                lines.append([])
                used = 0
        used += (len(sep) if lines[-1] else 0) + len(text)
        lines[-1].append(style.paint(text, paint))
    return [sep.join(line) for line in lines]


def trace_tree(trace: Trace, style: Style, *, show_io: bool = False, width: int | None = None) -> list[str]:
    """The ``traces show`` output: header, then one line per span with its waterfall.

    Narrower than the natural layout (``width``), it clips span names first, then
    narrows the waterfall, then drops the notes, model, type and token columns.
    """
    from tracekit._cli import _fit

    spans = trace.spans
    start = min(s.start_time_ns for s in spans)
    end = max((s.end_time_ns or s.start_time_ns) for s in spans)
    total = max(1, end - start)
    order = _tree_order(trace, style)
    statuses = [span.status if span.status != "UNSET" else "OK" for span, _, _ in order]

    def timeline(bars: int) -> list[Cell]:
        return [_waterfall(span, start, total, style, bars) for span, _, _ in order]

    columns = [
        _fit.Column(
            "SPAN",
            [(prefix + span.name, "bold" if not prefix else None) for span, prefix, _ in order],
            clip_to=NAME_WIDTH_MAX,
        ),
        _fit.Column("TYPE", [(span.span_type, None) for span, _, _ in order]),
        _fit.Column("STATUS", [(_status_text(s, style), _STATUS_STYLE.get(s)) for s in statuses]),
        _fit.Column("DURATION", [(format_duration(span.duration_ms), None) for span, _, _ in order]),
        _fit.Column("TIMELINE".ljust(WATERFALL_WIDTH), timeline(WATERFALL_WIDTH)),
        _fit.Column("MODEL", [(span.model or "", None) for span, _, _ in order]),
        _fit.Column(
            "TOKENS", [(format_tokens(span.token_usage) if span.token_usage else "", None) for span, _, _ in order]
        ),
        _fit.Column("NOTES", [(_span_note(span), "dim") for span, _, _ in order]),
    ]

    def narrow(bars: int) -> _fit.Step:
        def step(by: dict[str, _fit.Column]) -> None:
            column = by["TIMELINE"]
            column.header, column.cells = "TIMELINE".ljust(bars), timeline(bars)

        return step

    steps = [
        _fit.clip_column("SPAN", 24),
        narrow(20),
        _fit.drop("NOTES"),
        _fit.drop("MODEL"),
        _fit.clip_column("SPAN", 16),
        narrow(12),
        _fit.drop("TYPE"),
        _fit.drop("TOKENS"),
    ]
    table_lines = _fit.render(_fit.fit(columns, width, steps, grow="SPAN"), style, width)
    details = [_details(span, stem, style, show_io, width) for span, _, stem in order]
    lines = [*trace_header(trace.info, style, width), "", table_lines[0]]
    for line, extra in zip(table_lines[1:], details, strict=True):
        lines.append(line)
        lines.extend(extra)
    return lines


def _details(span: SpanData, stem: str, style: Style, show_io: bool, width: int | None = None) -> list[str]:
    indent = stem + "   "
    lines = []
    if span.status == "ERROR" and span.status_message:
        room = 200 if width is None else max(10, min(200, width - len(indent) - 2))
        lines.append(indent + style.paint(f"! {clip(span.status_message, room, style)}", "red"))
    if show_io:
        for label, value in (("inputs", span.inputs), ("outputs", span.outputs)):
            if value is None:
                continue
            lines.append(indent + style.paint(f"{label}:", "dim"))
            lines.extend(indent + "  " + line for line in pretty_json(value, style))
    return lines


def pretty_json(value: Any, style: Style) -> list[str]:
    """Indented JSON with long strings clipped and at most ``IO_LINES_MAX`` lines."""
    text = json.dumps(_clip_strings(value, style), indent=2, ensure_ascii=False, default=str)
    lines = text.splitlines()
    if len(lines) > IO_LINES_MAX:
        hidden = len(lines) - IO_LINES_MAX
        lines = [*lines[:IO_LINES_MAX], f"{style.ellipsis} {hidden} more lines (use --json for all)"]
    return lines


def _clip_strings(value: Any, style: Style) -> Any:
    if isinstance(value, str) and len(value) > IO_STRING_MAX:
        return value[:IO_STRING_MAX] + f"{style.ellipsis} ({len(value) - IO_STRING_MAX} more chars)"
    if isinstance(value, dict):
        return {k: _clip_strings(v, style) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip_strings(v, style) for v in value]
    return value

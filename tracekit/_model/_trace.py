"""One trace as a plain, frozen value: its summary (:class:`TraceInfo`) and its spans.

How the spans of one trace add up to its summary -- root, status, tags, metadata,
session, user, token usage (MLflow's rules), previews -- is decided here, once, for the
local store, the CLI and the MLflow reader alike. Pure, as :mod:`._span_data` is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit._model._span_data import SpanData, _plain_string, span_data_from_readable

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = [
    "CONTINUES_REMOTE",
    "PREVIEW_CHARS",
    "Trace",
    "TraceInfo",
    "continues_remote",
    "is_summary_key",
    "sum_token_usage",
    "summarize_spans",
    "trace_facts",
    "trace_from_spans",
]

PREVIEW_CHARS = 1000  # MLflow keeps previews of about this size in its trace info

# Token-usage keys that are summed over a trace (MLflow sums these three; the cache
# and reasoning counts are summed too so the CLI can show them).
_USAGE_KEYS = (
    attr.USAGE_INPUT,
    attr.USAGE_OUTPUT,
    attr.USAGE_TOTAL,
    attr.USAGE_CACHE_READ,
    attr.USAGE_CACHE_CREATION,
    attr.USAGE_REASONING,
)


_SUMMARY_PREFIXES = (attr.TRACE_TAG_PREFIX, attr.TRACE_METADATA_PREFIX, "gen_ai.usage.")
_SUMMARY_KEYS = frozenset({attr.SESSION_ID, attr.USER_ID, attr.TOKEN_USAGE, attr.SPAN_TYPE, attr.REMOTE_PARENT})
#: metadata key marking a trace whose top span here continues a caller's trace (value: the
#: caller's span id); such a fragment has no root in this process
CONTINUES_REMOTE = "tracekit.continues_remote_span"


def is_summary_key(key: str) -> bool:
    """True for attribute keys that feed the trace summary (tags, session, user, usage).

    The store keeps these per span apart from the full attributes, so that it can
    re-summarize a trace without reading every span's inputs and outputs.
    """
    return key.startswith(_SUMMARY_PREFIXES) or key in _SUMMARY_KEYS


# --- traces ------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceInfo:
    """The summary of one trace, as listed by ``tracekit traces list``.

    ``status`` is ``IN_PROGRESS`` until the root span (the one without a parent) is
    known; then it is the root's status (``UNSET`` counts as ``OK``).
    """

    trace_id: str
    name: str
    start_time_ns: int
    end_time_ns: int | None
    status: str  # "OK" | "ERROR" | "IN_PROGRESS"
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    session_id: str | None = None
    user_id: str | None = None
    token_usage: dict[str, int] | None = None
    span_count: int = 0
    request_preview: str | None = None
    response_preview: str | None = None

    @property
    def duration_ms(self) -> float | None:
        """Wall time of the trace in milliseconds, or ``None`` while unknown."""
        if self.end_time_ns is None:
            return None
        return (self.end_time_ns - self.start_time_ns) / 1e6

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the summary."""
        return {
            "trace_id": self.trace_id,
            "name": self.name,
            "start_time_ns": self.start_time_ns,
            "end_time_ns": self.end_time_ns,
            "duration_ms": self.duration_ms,
            "status": self.status,
            "tags": self.tags,
            "metadata": self.metadata,
            "session_id": self.session_id,
            "user_id": self.user_id,
            "token_usage": self.token_usage,
            "span_count": self.span_count,
            "request_preview": self.request_preview,
            "response_preview": self.response_preview,
        }


@dataclass(frozen=True)
class Trace:
    """A trace: its summary and its spans, ordered by start time.

    >>> t = trace_from_spans([SpanData(trace_id="tr-" + "1" * 32, span_id="a" * 16,
    ...     parent_id=None, name="answer", span_type="CHAIN", start_time_ns=0,
    ...     end_time_ns=10, status="OK")])
    >>> t.root.name, t.info.status
    ('answer', 'OK')
    """

    info: TraceInfo
    spans: list[SpanData]

    @property
    def root(self) -> SpanData | None:
        """The span without a parent (else this process's top span of a trace continued
        from a caller), or ``None`` if it has not arrived."""
        return _find_root(self.spans)

    def get_span(self, name: str) -> SpanData | None:
        """The first span (by start time) called ``name``."""
        found = self.find(name=name)
        return found[0] if found else None

    def find(self, *, name: str | None = None, span_type: str | None = None) -> list[SpanData]:
        """All spans matching every given criterion, in start order."""
        return [
            s
            for s in self.spans
            if (name is None or s.name == name) and (span_type is None or s.span_type == span_type)
        ]

    def children(self, span: SpanData) -> list[SpanData]:
        """The direct children of ``span``, in start order."""
        return [s for s in self.spans if s.parent_id == span.span_id]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: ``{"info": {...}, "spans": [...]}``."""
        return {"info": self.info.to_dict(), "spans": [s.to_dict() for s in self.spans]}


def _find_root(spans: Iterable[SpanData]) -> SpanData | None:
    """The trace's root; failing that, the first top span here that continues a caller's
    trace (``tracekit.remote_parent``): it ends this process's part of the trace."""
    local_top = None
    for span in spans:
        if span.parent_id is None:
            return span
        if local_top is None and continues_remote(span):
            local_top = span
    return local_top


def continues_remote(span: SpanData) -> bool:
    """True for this process's top span of a trace begun by a caller in another process."""
    return span.parent_id is not None and span.attributes.get(attr.REMOTE_PARENT) is True


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def sum_token_usage(spans: Sequence[SpanData]) -> dict[str, int] | None:
    """Sum token usage over spans whose ancestors carry no usage (MLflow's rule).

    A wrapper span that reports the usage of the LLM calls beneath it must not be
    counted twice; so a span's usage counts only when no ancestor has any.
    """
    by_id = {s.span_id: s for s in spans}
    usages = {s.span_id: s.token_usage for s in spans}
    totals: dict[str, int] = {}
    for span in spans:
        usage = usages[span.span_id]
        if not usage or _ancestor_has_usage(span, by_id, usages):
            continue
        for key in _USAGE_KEYS:
            if key in usage:
                totals[key] = totals.get(key, 0) + usage[key]
    return totals or None


def _ancestor_has_usage(
    span: SpanData, by_id: Mapping[str, SpanData], usages: Mapping[str, dict[str, int] | None]
) -> bool:
    seen = {span.span_id}
    parent_id = span.parent_id
    while parent_id is not None and parent_id in by_id and parent_id not in seen:
        if usages[parent_id]:
            return True
        seen.add(parent_id)  # guards against a malformed parent cycle
        parent_id = by_id[parent_id].parent_id
    return False


def trace_facts(
    layers: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, str], dict[str, str], str | None, str | None]:
    """Tags, metadata, session id and user id from spans' attributes; later layers win."""
    tags: dict[str, str] = {}
    metadata: dict[str, str] = {}
    session_id = user_id = None
    for attributes in layers:
        for key, value in attributes.items():
            if key.startswith(attr.TRACE_TAG_PREFIX):
                tags[key[len(attr.TRACE_TAG_PREFIX) :]] = _plain_string(value) or ""
            elif key.startswith(attr.TRACE_METADATA_PREFIX):
                metadata[key[len(attr.TRACE_METADATA_PREFIX) :]] = _plain_string(value) or ""
            elif key == attr.SESSION_ID:
                session_id = _plain_string(value)
            elif key == attr.USER_ID:
                user_id = _plain_string(value)
    return tags, metadata, session_id, user_id


def summarize_spans(spans: Sequence[SpanData]) -> TraceInfo:
    """Summarize the spans of one trace into a :class:`TraceInfo`.

    Trace-level values (tags, metadata, session, user, name) may sit on any span, as
    ``update_current_trace`` writes them on the current one; values on the root win,
    then earlier spans win over later ones.
    """
    if not spans:
        raise ValueError("a trace needs at least one span")
    ordered = sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
    root = _find_root(ordered)
    # Root last so that its values overwrite; among the others the earliest wins.
    layers = [s for s in reversed(ordered) if s is not root] + ([root] if root else [])
    tags, metadata, session_id, user_id = trace_facts(span.attributes for span in layers)
    trace_name_tag = attr.TRACE_NAME[len(attr.TRACE_TAG_PREFIX) :]
    if root is not None:
        start, end = root.start_time_ns, root.end_time_ns
        status = "ERROR" if root.status == "ERROR" else "OK"
        fallback_name = root.name
        if root.parent_id is not None:  # a fragment continuing a caller's trace
            metadata = {**metadata, CONTINUES_REMOTE: root.parent_id}
    else:
        start = ordered[0].start_time_ns
        ends = [s.end_time_ns for s in ordered if s.end_time_ns is not None]
        end = max(ends) if ends else None
        status = "IN_PROGRESS"
        fallback_name = ordered[0].name
    return TraceInfo(
        trace_id=ordered[0].trace_id,
        name=tags.get(trace_name_tag) or fallback_name,
        start_time_ns=start,
        end_time_ns=end,
        status=status,
        tags=tags,
        metadata=metadata,
        session_id=session_id,
        user_id=user_id,
        token_usage=sum_token_usage(ordered),
        span_count=len(ordered),
        request_preview=_preview(root.inputs) if root else None,
        response_preview=_preview(root.outputs) if root else None,
    )


def trace_from_spans(spans: Iterable[SpanData | ReadableSpan]) -> Trace:
    """Build a :class:`Trace` from the spans of one trace (``SpanData`` or SDK spans).

    Raises ``ValueError`` when ``spans`` is empty or mixes several traces.
    """
    data = [s if isinstance(s, SpanData) else span_data_from_readable(s) for s in spans]
    if len({s.trace_id for s in data}) > 1:
        raise ValueError("spans belong to more than one trace")
    ordered = sorted(data, key=lambda s: (s.start_time_ns, s.span_id))
    return Trace(info=summarize_spans(ordered), spans=ordered)

"""Starting tracekit spans, and which one is current: ``open_span``, ``start_span``
(a scope), ``activate``, ``current_span``, ``update_current_trace``.

Nesting lives in one :class:`contextvars.ContextVar` of tracekit's own, never in the
app's global OpenTelemetry context: a tracekit span's parent is always the innermost
tracekit span of the same logical flow (thread, asyncio task, generator step), and a
trace's root is always a tracekit span. A tracekit span started under a foreign
OpenTelemetry span begins a new trace that *links* to it (DESIGN.md: the server
would otherwise wait forever for a root it never receives).

The :class:`Span` handle itself lives in :mod:`tracekit._span_handle`; its names are
handed on from here, where most of tracekit imports them.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar, Token
from typing import Any

from tracekit import _attributes as attr
from tracekit import _clean, _config, _errors, _span_handle, _tracer
from tracekit._span_handle import NOOP_SPAN as NOOP_SPAN
from tracekit._span_handle import Span as Span
from tracekit._span_handle import SpanType as SpanType
from tracekit._span_handle import _clean_name, _type_name, _warn_once
from tracekit._span_handle import format_trace_id as format_trace_id

#: The innermost tracekit span of this flow: a live :class:`Span`, the
#: :data:`_UNSAMPLED` marker inside a trace that sampling dropped, or None.
_current: ContextVar[Span | None] = ContextVar("tracekit_current_span", default=None)


# --- starting spans -----------------------------------------------------------------


#: span -> the span that was current before an integration activated it without a scope
#: (:func:`activate_until_end`); weak, so an entry lives as long as its span is referenced
_before: weakref.WeakKeyDictionary[Span, Span | None] = weakref.WeakKeyDictionary()
_MISSING: Any = object()


def activate_until_end(span: Span) -> Token[Span | None]:
    """Make ``span`` current in this flow until it ends, for a framework that reports a
    run's start and end through callbacks (LangChain): the end may come from another
    thread or task, where the activation cannot be undone. A span activated so is passed
    over once ended (:func:`_live`), so a flow never keeps an ended span as its parent."""
    if span is not NOOP_SPAN:  # shared: an integration passes a span of its own (unsampled: no OTel span)
        _before[span] = _current.get()
    return _current.set(span)


def _live(span: Span | None) -> Span | None:
    """``span``, or the nearest span still open when it ended under this flow's feet: the
    span that was current before an integration activated it until its end, else its
    local parent (a span exited on another thread, a generator resumed elsewhere).
    :data:`NOOP_SPAN` is returned as it is: it marks an unsampled or disabled trace."""
    while span is not None and span._ended and span is not NOOP_SPAN:
        before = _before.get(span, _MISSING)
        span = span._parent if before is _MISSING else before
    return span


def current_span() -> Span | None:
    """The innermost active tracekit span of this flow, if any (recording or not)."""
    return _live(_current.get())


def open_span(
    name: str,
    span_type: SpanType | str | None = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    start_time_ns: int | None = None,
    remote_parent: Any = None,
) -> Span:
    """Start a span under the current tracekit span (or as a new trace's root).

    ``remote_parent`` (a ``traceparent`` value or headers holding one) names a
    caller's span in another process: when given and valid, the span continues that
    trace as a child of that span instead of nesting under the current span. A caller
    that marked its trace unsampled gets a no-op span (its decision is respected).

    Does not make it current: :func:`activate` does. Never raises; returns
    :data:`NOOP_SPAN` when tracing is off, the trace was not sampled, or the start
    failed.
    """
    try:
        remote = None
        if remote_parent is not None:
            from tracekit._propagation import extract

            remote = extract(remote_parent)
        parent = _live(_current.get()) if remote is None else None
        if parent is not None and parent._otel is None:
            return NOOP_SPAN  # inside an unsampled or disabled trace
        settings = _config.get()
        if not settings.enabled:
            return NOOP_SPAN
        if remote is not None and not remote.sampled:
            return NOOP_SPAN
        if parent is None and remote is None and settings.sample_rate < 1.0:
            import random  # only when sampling: keeps `import tracekit` light

            if random.random() >= settings.sample_rate:
                return NOOP_SPAN
        type_name = _type_name(span_type)
        name = _clean_name(name)
        pending: dict[str, Any] = {}
        otel = _tracer.start_otel_span(
            name, parent._otel if parent is not None else None, type_name, attributes, start_time_ns, remote, pending
        )
        return Span(otel, name, type_name, parent._root if parent is not None else None, parent, pending)
    except Exception:
        _errors.report("span.start")
        return NOOP_SPAN


def activate(span: Span) -> Token[Span | None]:
    """Make ``span`` the current tracekit span of this flow; undo with :func:`deactivate`."""
    return _current.set(span)


def deactivate(token: Token[Span | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:
        # The token belongs to another context: the span was entered on another thread
        # (or a generator step resumed elsewhere). That context cannot be changed from
        # here; it skips the ended span by itself (_live). This flow is left as it was,
        # except that it does not keep pointing at a span that has ended.
        current = _current.get()
        if current is not None and current._ended and current._otel is not None:
            _current.set(_live(current))


def _finish(span: Span, exc: BaseException | None) -> None:
    if exc is not None:
        span.record_exception(exc)
    span.end()


@contextmanager
def _span_scope(
    name: str,
    span_type: SpanType | str | None,
    inputs: Any,
    attributes: Mapping[str, Any] | None,
    parent: Any = None,
) -> Iterator[Span]:
    span = open_span(name, span_type, attributes, remote_parent=parent)
    if inputs is not None:
        span.set_inputs(inputs)
    token = _current.set(span)
    try:
        yield span
    except BaseException as exc:
        _finish(span, exc)
        raise
    else:
        _finish(span, None)
    finally:
        deactivate(token)


class start_span:
    """Open a span for a block of code, as ``with`` or ``async with``.

    The span nests under the current tracekit span of this flow, ends when the block
    exits, and records an exception that escapes the block (status ERROR, exception
    event) before it propagates unchanged.

    >>> with tracekit.start_span("lookup", span_type=tracekit.SpanType.TOOL, inputs={"city": "Oslo"}) as span:
    ...     span.set_outputs({"temp_c": 4})

    ``parent`` continues a trace begun in another process: the incoming request's
    headers (any mapping, or a list of pairs) or its ``traceparent`` value. The span is
    then a child of the caller's span in the caller's trace (and is marked
    ``tracekit.remote_parent``); a missing or malformed header starts a new trace as
    usual.

    >>> with tracekit.start_span("handle /chat", span_type="CHAIN", parent=request.headers):
    ...     ...
    """

    __slots__ = ("_acm", "_args", "_cm")

    def __init__(
        self,
        name: str,
        span_type: SpanType | str | None = SpanType.UNKNOWN,
        inputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        parent: Any = None,
    ) -> None:
        self._args = (name, span_type, inputs, attributes, parent)

    def __enter__(self) -> Span:
        self._cm = _span_scope(*self._args)
        return self._cm.__enter__()

    def __exit__(self, *exc_info: Any) -> bool | None:
        return self._cm.__exit__(*exc_info)

    async def __aenter__(self) -> Span:
        self._acm = _async_span_scope(*self._args)
        return await self._acm.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return await self._acm.__aexit__(*exc_info)


@asynccontextmanager
async def _async_span_scope(
    name: str,
    span_type: SpanType | str | None,
    inputs: Any,
    attributes: Mapping[str, Any] | None,
    parent: Any = None,
) -> AsyncIterator[Span]:
    with _span_scope(name, span_type, inputs, attributes, parent) as span:
        yield span


def get_current_span() -> Span:
    """The innermost active tracekit span of this flow, or a no-op span when there is none.

    >>> tracekit.get_current_span().set_attribute("retrieved", 3)
    """
    span = _live(_current.get())
    return span if span is not None else NOOP_SPAN


def get_last_trace_id() -> str | None:
    """The id (``tr-…``) of the most recent trace *finished* in this process (as in
    MLflow): the last root span to end, a top span continuing a remote caller's trace
    included. A trace still running is not it, nor is a span its parent process
    started before a fork."""
    return _span_handle._last_trace_id


def update_current_trace(
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, str] | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    name: str | None = None,
) -> None:
    """Attach trace-level facts to the trace of the current span.

    Tags become MLflow trace tags, ``name`` the trace's name, ``session_id`` and
    ``user_id`` the trace's session and user. They are written on the trace's root
    span, which is still open while any of its descendants runs. Outside a trace
    this does nothing (and logs at debug level).

    >>> @tracekit.trace
    ... def handle(request):
    ...     tracekit.update_current_trace(session_id=request.session, tags={"tier": "pro"})
    """
    span = _live(_current.get())
    if span is None or span._otel is None:
        _errors.logger.debug("update_current_trace called outside a trace; ignored")
        return
    # Never raises into the app: keys and values of any type are turned into clean
    # text (an object whose __str__ raises becomes a marker); a non-mapping is ignored.
    with _errors.handle_internal_errors("update_current_trace"):
        root = span._root
        target = root if not root._ended else span
        values: dict[str, Any] = {}
        for prefix, mapping, what in ((attr.TRACE_TAG_PREFIX, tags, "tags"), (attr.TRACE_METADATA_PREFIX, metadata, "metadata")):
            if mapping is None:
                continue
            try:
                items = list(mapping.items())
            except Exception:
                kind = type(mapping).__qualname__
                _warn_once(f"update_current_trace.{what}", f"update_current_trace({what}=) takes a mapping, not {kind}; ignored")
                continue
            for key, value in items:
                values[_clean.clean_key(prefix + _clean.safe_str(key))] = _clean.safe_str(value)
        facts: tuple[tuple[str, object], ...] = ((attr.SESSION_ID, session_id), (attr.USER_ID, user_id), (attr.TRACE_NAME, name))
        for fact_key, fact in facts:
            if fact is not None:
                values[fact_key] = _clean.safe_str(fact) if fact_key != attr.TRACE_NAME else _clean.clean_name(fact)
        target.set_attributes(values)


def now_ns() -> int:
    return time.time_ns()

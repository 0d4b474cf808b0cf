"""tracekit's span: a thin, guarded handle over an OpenTelemetry SDK span.

Nesting lives in one :class:`contextvars.ContextVar` of tracekit's own, never in the
app's global OpenTelemetry context: a tracekit span's parent is always the innermost
tracekit span of the same logical flow (thread, asyncio task, generator step), and a
trace's root is always a tracekit span. A tracekit span started under a foreign
OpenTelemetry span begins a new trace that *links* to it (DESIGN.md: the server
would otherwise wait forever for a root it never receives).

Every method of :class:`Span` is guarded: an internal failure is reported through the
funnel and never reaches the caller.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar, Token
from enum import Enum
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit import _clean, _config, _errors, _serialize, _tracer, _values
from tracekit._values import span_attribute_value as _attribute_value

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import Span as OTelSpan


class SpanType(str, Enum):
    """The kinds of span the MLflow UI knows (``mlflow.spanType``); any string is accepted too."""

    LLM = "LLM"
    CHAT_MODEL = "CHAT_MODEL"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    PARSER = "PARSER"
    MEMORY = "MEMORY"
    WORKFLOW = "WORKFLOW"
    TASK = "TASK"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


#: The innermost tracekit span of this flow: a live :class:`Span`, the
#: :data:`_UNSAMPLED` marker inside a trace that sampling dropped, or None.
_current: ContextVar[Span | None] = ContextVar("tracekit_current_span", default=None)

_last_trace_id: str | None = None


def _type_name(span_type: SpanType | str | None) -> str:
    if span_type is None:
        return SpanType.UNKNOWN.value
    if isinstance(span_type, SpanType):
        return span_type.value
    return _clean_name(span_type)


def _clean_name(name: Any) -> str:
    if type(name) is str and name.isascii() and len(name) <= _clean.MAX_NAME and name.isprintable():
        return name  # the common case
    return _clean.clean_name(name)


def format_trace_id(trace_id: int) -> str:
    """MLflow's trace id: ``tr-`` and the 32 hex digits of the OpenTelemetry id."""
    return f"tr-{trace_id:032x}"


class Span:
    """A live tracekit span. Get one from :func:`tracekit.start_span` or
    :func:`tracekit.get_current_span`.

    >>> with tracekit.start_span("retrieve", span_type="RETRIEVER") as span:
    ...     span.set_inputs({"query": "weather"})
    ...     span.set_outputs(["doc-1", "doc-2"])
    """

    __slots__ = ("__weakref__", "_attrs", "_ended", "_fork", "_otel", "_parent", "_root", "name", "span_type")

    def __init__(self, otel: OTelSpan | None, name: str, span_type: str, root: Span | None, parent: Span | None = None) -> None:
        self._otel = otel
        self._ended = False
        # the local parent: a flow still pointing at this span after it ended elsewhere
        # (another thread, a generator resumed elsewhere) nests under the first live one
        self._parent = parent
        # which process generation started it: a forked child never ends (exports) a span
        # it inherited from its parent, which the parent still owns and will end itself
        self._fork = _tracer.fork_generation
        # Attributes set while the span is open wait here and reach the SDK span in one
        # step at end(): the SDK's set_attribute takes a lock and re-validates each value
        # (~2 µs per key with opentelemetry-sdk 1.45, and an LLM span sets ~25 keys).
        self._attrs: dict[str, Any] = {}
        self._root = root if root is not None else self
        self.name = name
        self.span_type = span_type

    # --- identity ------------------------------------------------------------------
    @property
    def is_recording(self) -> bool:
        """False for the no-op span of a disabled or unsampled trace."""
        return self._otel is not None and not self._ended

    @property
    def trace_id(self) -> str | None:
        """The trace's id in MLflow's form ``tr-<32 hex>``; None when not recording."""
        if self._otel is None:
            return None
        return format_trace_id(self._otel.get_span_context().trace_id)

    @property
    def span_id(self) -> str | None:
        """The span's 16-hex-digit id; None when not recording."""
        if self._otel is None:
            return None
        return f"{self._otel.get_span_context().span_id:016x}"

    @property
    def traceparent(self) -> str | None:
        """This span as a W3C ``traceparent`` header value (to continue the trace in
        another process); None when not recording."""
        if self._otel is None:
            return None
        from tracekit._propagation import format_traceparent, note_context_sent

        context = self._otel.get_span_context()
        note_context_sent(context.trace_id)  # handed out: another process may add spans
        return format_traceparent(context.trace_id, context.span_id, True)

    @property
    def otel_span(self) -> OTelSpan | None:
        """The underlying OpenTelemetry SDK span (for advanced use)."""
        if self._otel is not None and self._attrs and not self._ended:
            self._flush_attributes(self._otel)  # the caller may read them now
        return self._otel

    # --- data --------------------------------------------------------------------
    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs (any object; stored as bounded JSON)."""
        self._set_json(attr.SPAN_INPUTS, inputs)

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs (any object; stored as bounded JSON)."""
        self._set_json(attr.SPAN_OUTPUTS, outputs)

    def _set_json(self, key: str, value: Any) -> None:
        otel = self._otel
        if otel is None or self._ended:
            return
        try:
            settings = _config.get()
            if not settings.capture_content and key in (attr.SPAN_INPUTS, attr.SPAN_OUTPUTS):
                return
            if settings.mask is not None:
                from tracekit._mask import apply  # only with a mask: keeps span start light

                value = apply(settings.mask, key, value)
            text, truncated = _serialize.dumps(value, settings.max_attribute_length)
            self._attrs[key] = text
            if truncated:
                _mark_truncated(self._attrs, key)
        except Exception:
            _errors.report("span.set_json")

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute. Non-primitive values are stored as JSON text; None is skipped.

        A value no exporter could encode (a lone surrogate, an int beyond int64, NaN, an
        object whose ``__str__`` raises) is replaced by a marker; an odd key (not a
        string, control characters, longer than 250 characters) is cleaned and cut.
        """
        if self._otel is None or self._ended or value is None:
            return
        try:
            if type(key) is not str or key not in _KEYS_SEEN:
                key = _checked_key(key)
            self._attrs[key] = _attribute_value(value)
        except Exception:
            _errors.report("span.set_attribute")

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes at once (see :meth:`set_attribute`)."""
        if self._otel is None or self._ended:
            return
        pending = self._attrs
        try:
            for key, value in attributes.items():
                if value is not None:
                    try:
                        if type(key) is not str or key not in _KEYS_SEEN:
                            key = _checked_key(key)
                        pending[key] = _attribute_value(value)
                    except Exception:
                        _errors.report("span.set_attribute")
        except Exception:  # not a mapping, or one whose iteration fails: the app's value
            _warn_once("set_attributes", f"set_attributes() takes a mapping, not {type(attributes).__qualname__}")

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None, timestamp_ns: int | None = None) -> None:
        """Add a timestamped event to the span (name and attributes cleaned like
        :meth:`set_attribute`'s)."""
        otel = self._otel
        if otel is None or self._ended:
            return
        with _errors.handle_internal_errors("span.add_event"):
            values = _values.clean_attributes(attributes, _config.get().max_attribute_length) if attributes else {}
            if timestamp_ns is not None and type(timestamp_ns) is not int:
                timestamp_ns = None  # not a time: the SDK would fail at export
            otel.add_event(_clean.clean_name(name), values, timestamp_ns)

    def record_exception(self, exception: BaseException) -> None:
        """Record an exception: an ``exception`` event with type, message and traceback,
        and status ERROR. An exception whose ``__str__`` raises is recorded too."""
        otel = self._otel
        if otel is None or self._ended:
            return
        with _errors.handle_internal_errors("span.record_exception"):
            from opentelemetry.trace import Status, StatusCode

            from tracekit._redact import redact_text

            # an error message often quotes a URL ("... with url: /v1?api_key=..."): the
            # event and the status keep it without credentials
            otel.add_event("exception", _exception_attributes(exception))
            message = redact_text(_clean.safe_str(exception))
            otel.set_status(Status(StatusCode.ERROR, f"{_clean.clean_name(type(exception).__name__)}: {message}"[:1000]))

    def set_status(self, status: str, description: str | None = None) -> None:
        """Set the status: ``"OK"``, ``"ERROR"`` or ``"UNSET"`` (any case).

        Another value is the app's mistake, not a reason to fail its code: it is logged
        (once, on the ``tracekit`` logger) and ignored.
        """
        otel = self._otel
        if otel is None or self._ended:
            return
        with _errors.handle_internal_errors("span.set_status"):
            from opentelemetry.trace import Status, StatusCode

            code = StatusCode.__members__.get(_clean.safe_str(status).upper())
            if code is None:
                shown = _clean.safe_str(status)[:100]
                _warn_once("set_status", f"set_status() takes 'OK', 'ERROR' or 'UNSET', not {shown!r}; ignored")
                return
            message = None if description is None or code is not StatusCode.ERROR else _clean.safe_str(description)
            otel.set_status(Status(code, message))

    # --- lifecycle ----------------------------------------------------------------
    def end(self, end_time_ns: int | None = None) -> None:
        """End the span (once; later calls do nothing). :func:`tracekit.start_span` and
        ``@trace`` end their spans themselves."""
        if self._ended:
            return
        self._ended = True
        otel = self._otel
        if otel is None:
            return
        if self._fork != _tracer.fork_generation:
            # started by the parent process before a fork: the parent ends and exports it;
            # exporting it here too would overwrite it (often as an error) and duplicate it
            self._attrs = {}
            return
        try:
            if self._root is self:
                _set_last_trace_id(otel)
            if self._attrs:
                self._flush_attributes(otel)
            if otel.status.is_unset:
                # MLflow reads an unset status as "unknown"; a span that ended without error is OK
                otel.set_status(_status_ok())
            otel.end(end_time_ns)
        except Exception:
            _errors.report("span.end")

    def _flush_attributes(self, otel: OTelSpan) -> None:
        """Hand the pending attributes to the SDK span in one step.

        Their values are clean already (:func:`_attribute_value`: str, bool, int, float
        or a homogeneous list), so when the span's attribute map has no limit that could
        apply, they go straight into it (opentelemetry-sdk 1.45 ``BoundedAttributes``);
        otherwise, or should the SDK change shape, through the public ``set_attributes``.
        """
        pending, self._attrs = self._attrs, {}
        try:
            bounded: Any = otel._attributes
            store = bounded._dict
            if (
                type(store) is dict
                and not bounded._immutable
                and bounded.max_value_len is None
                and (bounded.maxlen is None or len(store) + len(pending) <= bounded.maxlen)
                and otel._end_time is None
            ):
                for key, value in pending.items():
                    store[key] = tuple(value) if type(value) is list else value
                return
        except AttributeError:
            pass
        otel.set_attributes(pending)

    def __repr__(self) -> str:
        return f"<tracekit.Span {self.name!r} type={self.span_type} trace={self.trace_id} span={self.span_id}>"


#: the span of a trace that sampling dropped or that tracing is disabled for
NOOP_SPAN = Span(None, "", SpanType.UNKNOWN.value, None)
NOOP_SPAN._ended = True


#: attribute keys already known to be clean (the same few dozen keys recur on every span):
#: one hash lookup instead of four string checks per attribute
_KEYS_SEEN: set[str] = set()


def _checked_key(key: Any) -> str:
    clean = _clean.clean_key(key)
    if clean is key and len(_KEYS_SEEN) < 4096:
        _KEYS_SEEN.add(clean)
    return clean


def _exception_attributes(exception: BaseException) -> dict[str, Any]:
    """The OpenTelemetry ``exception`` event's attributes, built without trusting the
    exception: the SDK's ``record_exception`` (1.45) calls ``str()`` on it unguarded.
    Credentials quoted in the message or the stack (a URL's query) are redacted."""
    import traceback

    from tracekit._redact import redact_text

    try:
        stack = "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
    except Exception:
        stack = ""
    kind = type(exception)
    qualname = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return {
        "exception.type": _clean.clean_name(qualname),
        "exception.message": redact_text(_clean.safe_str(exception)),
        "exception.stacktrace": redact_text(_clean.clean_text(stack)),
        "exception.escaped": "False",
    }


_warned: set[str] = set()


def _warn_once(place: str, message: str) -> None:
    """Log the app's misuse of a span method once per place (never raise into the app)."""
    if place not in _warned:
        _warned.add(place)
        _errors.logger.warning("tracekit: %s", message)


def _mark_truncated(pending: dict[str, Any], key: str) -> None:
    existing = pending.get(attr.TRUNCATED)
    keys = list(existing) if isinstance(existing, (list, tuple)) else []
    if key not in keys:
        pending[attr.TRUNCATED] = [*keys, key]


def _set_last_trace_id(otel: OTelSpan) -> None:
    global _last_trace_id
    _last_trace_id = format_trace_id(otel.get_span_context().trace_id)


_STATUS_OK: Any = None


def _status_ok() -> Any:
    global _STATUS_OK
    if _STATUS_OK is None:
        from opentelemetry.trace import Status, StatusCode

        _STATUS_OK = Status(StatusCode.OK)
    return _STATUS_OK


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
        otel = _tracer.start_otel_span(
            name, parent._otel if parent is not None else None, type_name, attributes, start_time_ns, remote
        )
        return Span(otel, name, type_name, parent._root if parent is not None else None, parent)
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
    return _last_trace_id


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

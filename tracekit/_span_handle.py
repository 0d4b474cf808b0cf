"""The Span handle: a thin, guarded handle over an OpenTelemetry SDK span (its
attributes, events, status and end), the span types, and the shared no-op span.

Which span is current, and starting spans under it, is :mod:`tracekit._span`'s job;
this module knows nothing of nesting. Every method of :class:`Span` is guarded: an
internal failure is reported through the funnel and never reaches the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def __init__(
        self,
        otel: OTelSpan | None,
        name: str,
        span_type: str,
        root: Span | None,
        parent: Span | None = None,
        pending: dict[str, Any] | None = None,
    ) -> None:
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
        # ``pending``: what the start left for the end (tracer.start_otel_span's ``deferred``)
        self._attrs: dict[str, Any] = pending if pending is not None else {}
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

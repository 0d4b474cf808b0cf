"""tracekit: trace LLM applications -- every SDK call, as it went over the wire.

>>> import tracekit
>>> tracekit.openai.autolog()  # also tracekit.anthropic / tracekit.gemini, or tracekit.autolog()
>>> @tracekit.trace
... def answer(question: str) -> str: ...

Provider modules (``tracekit.openai``, ``tracekit.anthropic``, ``tracekit.gemini``),
``tracekit.langchain`` and ``tracekit.testing`` load on first access; ``import tracekit``
imports no provider SDK, no LangChain and not the OpenTelemetry SDK.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tracekit import _config, _tracer
from tracekit import _threads as _threads  # registers its tracer start hook
from tracekit._decorator import trace
from tracekit._errors import ConfigError
from tracekit._mask import mask_fields
from tracekit._span import (
    Span,
    SpanType,
    get_current_span,
    get_last_trace_id,
    start_span,
    update_current_trace,
)
from tracekit._version import __version__ as __version__

if TYPE_CHECKING:
    from tracekit._model import Trace
    from tracekit._pipeline import FlushResult


__all__ = [
    "ConfigError",
    "Span",
    "SpanType",
    "autolog",
    "bind_context",
    "configure",
    "flush",
    "get_current_span",
    "get_last_trace_id",
    "get_settings",
    "get_trace",
    "mask_fields",
    "set_experiment",
    "set_tracking_uri",
    "shutdown",
    "start_span",
    "trace",
    "update_current_trace",
]

_T = TypeVar("_T")
_LAZY_MODULES = ("openai", "anthropic", "gemini", "langchain", "testing")


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"tracekit.{name}")
    raise AttributeError(f"module 'tracekit' has no attribute {name!r}")


def configure(**options: Any) -> _config.Settings:
    """Set any of tracekit's settings; returns the resolved :class:`Settings`.

    Settings: ``enabled``, ``tracking_uri``, ``experiment_name``, ``experiment_id``,
    ``sample_rate`` (0.0-1.0, decided once per trace at its root), ``capture_content``
    (record inputs/outputs), ``propagate_context`` (send ``traceparent`` to the
    LLM server or gateway), ``max_attribute_length`` (characters per input/output
    attribute), ``mask`` (``(key, value) -> value``, called with the whole inputs or
    outputs in their JSON shape; :func:`mask_fields` masks fields by name),
    ``redact_arguments`` (``@trace`` arguments recorded as ``"[REDACTED]"``: True for
    secret-named ones, False, or extra names/patterns), ``max_queue_size``, ``max_queue_bytes``,
    ``export_batch_size``, ``export_interval``, ``exit_timeout``, ``service_name``. An
    explicit setting wins over ``TRACEKIT_*`` and ``MLFLOW_*`` environment variables. A
    bad value -- here or in the environment, which is checked completely now -- raises
    :class:`ConfigError`.

    >>> tracekit.configure(sample_rate=0.25, max_attribute_length=100_000)
    """
    return _config.update(**options)


def set_tracking_uri(uri: str) -> None:
    """Send traces to ``uri``: ``sqlite:///PATH`` (local store) or ``http(s)://HOST:PORT``
    (an MLflow tracking server).

    >>> tracekit.set_tracking_uri("http://127.0.0.1:5000")
    """
    _config.update(tracking_uri=uri)


def set_experiment(name: str) -> None:
    """Log traces to the MLflow experiment called ``name`` (created if missing).

    >>> tracekit.set_experiment("support-bot")
    """
    _config.update(experiment_name=name)


def get_settings() -> _config.Settings:
    """The settings in force (explicit > ``TRACEKIT_*`` env > ``MLFLOW_*`` env > defaults).

    Never raises: with a bad environment value they are the settings the good values
    give with ``enabled=False`` (the problem is logged once; ``tracekit status`` shows
    it, and ``configure()`` raises it)."""
    return _config.get()


def flush(timeout: float | None = None) -> FlushResult:
    """Export every finished span now, waiting at most ``timeout`` seconds
    (default: the ``exit_timeout`` setting). Returns the counts of spans delivered,
    pending, dropped, failed and spilled so far.

    >>> result = tracekit.flush(timeout=5)
    >>> result.ok
    True
    """
    return _tracer.flush(timeout)


def shutdown(timeout: float | None = None) -> FlushResult:
    """Flush and stop the export pipeline (it restarts on the next span). Runs at exit too."""
    return _tracer.shutdown(timeout)


def get_trace(trace_id: str, timeout: float = 5.0) -> Trace | None:
    """Read a trace back from the configured destination (after flushing pending spans).

    >>> trace = tracekit.get_trace(tracekit.get_last_trace_id())
    >>> [span.name for span in trace.spans]
    """
    if not isinstance(trace_id, str):
        hint = " (get_last_trace_id() is None until a trace has been recorded)" if trace_id is None else ""
        raise TypeError(f"get_trace() takes a trace id such as 'tr-<32 hex>', not {type(trace_id).__name__}{hint}")
    from tracekit._model import normalize_trace_id

    trace_id = normalize_trace_id(trace_id)  # ValueError names the accepted forms
    _tracer.flush(timeout)
    settings = _config.get()
    store_path = settings.store_path
    if store_path is not None:
        from tracekit._store import SQLiteStore

        if not store_path.exists():
            return None
        return SQLiteStore(store_path).get_trace(trace_id)
    from tracekit._export.mlflow import read_trace

    trace: Trace | None = read_trace(settings, trace_id)
    return trace


def bind_context(func: Callable[..., _T]) -> Callable[..., _T]:
    """Carry the current trace into another thread: spans started by ``func`` nest
    under the span that is current *now*.

    Threads do not inherit context variables; wrap what you submit to a pool:

    >>> with tracekit.start_span("fan-out"):
    ...     pool.submit(tracekit.bind_context(work), item)
    """
    context = contextvars.copy_context()

    @functools.wraps(func)
    def bound(*args: Any, **kwargs: Any) -> _T:
        # a fresh copy per call: one Context cannot be entered by two threads at once
        return context.copy().run(func, *args, **kwargs)

    return bound


def autolog(disable: bool = False) -> list[str]:
    """Turn on (or off) tracing for every installed provider SDK and for LangChain
    (when ``langchain-core`` is installed); quietly skips the missing ones. Returns the
    names of the integrations it changed.

    >>> tracekit.autolog()
    ['openai', 'anthropic', 'gemini', 'langchain']

    Checks the whole configuration first (the environment included): a bad value
    raises :class:`ConfigError` here, never later from the app's calls.
    """
    if not disable:
        _config.check()
    done = []
    for provider in ("openai", "anthropic", "gemini", "langchain"):
        try:
            module = importlib.import_module(f"tracekit.{provider}")
            module.autolog(disable=disable)
        except ImportError:
            continue
        done.append(provider)
    return done

"""The runtime: tracekit's private OpenTelemetry TracerProvider and export pipeline.

Nothing here touches the app's global OpenTelemetry state: tracekit owns its
provider, and the OpenTelemetry SDK is imported on the first span, not by
``import tracekit``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit import _config, _errors

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import Span as OTelSpan
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.trace import Tracer

    from tracekit._pipeline import FlushResult, Pipeline
    from tracekit._propagation import RemoteParent

_lock = threading.RLock()
_provider: TracerProvider | None = None
_tracer: Tracer | None = None
_pipeline: Pipeline | None = None
_extra_processors: list[SpanProcessor] = []
_atexit_registered = False
#: (opentelemetry.trace, opentelemetry.context.Context), imported on the first span
_otel_api: tuple[Any, Any] | None = None
#: bumped in a forked child: spans carry the generation that started them, and a child
#: never ends (exports) a span of its parent's (tracekit._span.Span.end)
fork_generation = 0
#: called with the settings when a tracer starts; layers above register here (``_threads``)
#: so that the tracer never imports them
_start_hooks: list[Callable[[_config.Settings], None]] = []


def on_start(hook: Callable[[_config.Settings], None]) -> None:
    """Call ``hook(settings)`` each time a tracer starts (before its first span)."""
    _start_hooks.append(hook)


def _start() -> Tracer:
    global _provider, _tracer, _pipeline, _atexit_registered
    with _lock:
        if _tracer is not None:
            return _tracer
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON

        from tracekit._pipeline import Pipeline
        from tracekit._version import __version__

        settings = _config.get()
        for hook in _start_hooks:
            with _errors.handle_internal_errors("threads.install"):
                hook(settings)  # _threads: work submitted to pools nests
        provider = TracerProvider(
            sampler=ALWAYS_ON,  # sampling is decided by tracekit at the root (_span.open_span)
            resource=Resource.create({"service.name": settings.service_name}),
            # the SDK's own exit hook would shut the pipeline down without draining it,
            # and after a reconfiguration it would run before ours: _at_exit drains
            shutdown_on_exit=False,
        )
        pipeline = Pipeline(settings, successor=_successor)
        provider.add_span_processor(pipeline)
        for processor in _extra_processors:
            provider.add_span_processor(processor)
        _provider, _pipeline = provider, pipeline
        tracer = provider.get_tracer("tracekit", __version__)
        _tracer = tracer
        if not _atexit_registered:
            atexit.register(_at_exit)
            _atexit_registered = True
        return tracer


def start_otel_span(
    name: str,
    parent: OTelSpan | None,
    span_type: str,
    attributes: Mapping[str, Any] | None,
    start_time_ns: int | None,
    remote_parent: RemoteParent | None = None,
    deferred: dict[str, Any] | None = None,
) -> OTelSpan:
    """Start an SDK span under ``parent`` (a tracekit span), under ``remote_parent`` (a
    caller's span in another process, from its ``traceparent``) or as a new trace's root.

    With ``deferred`` (the tracekit span's pending attributes, which reach the SDK span
    at its end), a span with nothing but its type to start with gets the type there and
    starts bare: the SDK's start validates attributes one by one (~2 µs per span with
    opentelemetry-sdk 1.45). The attributes end up in the same order either way."""
    global _otel_api
    if _otel_api is None:
        from opentelemetry import trace as trace_api
        from opentelemetry.context import Context

        _otel_api = (trace_api, Context)
    trace_api, new_context = _otel_api

    tracer = _tracer or _start()
    links = None
    if parent is not None:
        context = trace_api.set_span_in_context(parent, new_context())
    elif remote_parent is not None:
        remote = trace_api.SpanContext(
            remote_parent.trace_id,
            remote_parent.span_id,
            is_remote=True,
            trace_flags=trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED if remote_parent.sampled else 0),
        )
        context = trace_api.set_span_in_context(trace_api.NonRecordingSpan(remote), new_context())
    else:
        # A root. If the app has a foreign span active, link to it instead of
        # becoming its child: the MLflow server would wait for a root it never gets.
        context = new_context()
        foreign = trace_api.get_current_span()
        foreign_ctx = foreign.get_span_context()
        if foreign_ctx.is_valid:
            links = [trace_api.Link(foreign_ctx)]
    if deferred is not None and not links and remote_parent is None and not attributes:
        deferred[attr.SPAN_TYPE] = span_type
        bare: OTelSpan = tracer.start_span(name, context=context, start_time=start_time_ns)  # type: ignore[assignment]
        return bare
    values: dict[str, Any] = {attr.SPAN_TYPE: span_type}
    if remote_parent is not None and parent is None:
        values[attr.REMOTE_PARENT] = True
    if attributes:
        from tracekit._clean import clean_key
        from tracekit._values import span_attribute_value as _attribute_value

        try:
            items = list(attributes.items())
        except Exception:  # not a mapping: the span starts without them
            items = []
        values.update({clean_key(k): _attribute_value(v) for k, v in items if v is not None})
    span: OTelSpan = tracer.start_span(  # type: ignore[assignment]
        name, context=context, attributes=values, links=links, start_time=start_time_ns
    )
    if links:
        span.set_attribute(attr.LINKED_FROM, f"{links[0].context.trace_id:032x}")
    return span


def add_span_processor(processor: SpanProcessor) -> None:
    """Add a synchronous span processor beside the pipeline (tests' in-memory capture)."""
    with _lock:
        _extra_processors.append(processor)
        if _provider is not None:
            _provider.add_span_processor(processor)


def remove_span_processor(processor: SpanProcessor) -> None:
    """Remove a processor added by :func:`add_span_processor`."""
    with _lock:
        if processor in _extra_processors:
            _extra_processors.remove(processor)
        if _provider is not None:
            # the SDK has no removal API: rebuild the multi-processor's tuple without it
            multi = _provider._active_span_processor
            with multi._lock:
                multi._span_processors = tuple(p for p in multi._span_processors if p is not processor)


def current_pipeline() -> Pipeline | None:
    return _pipeline


def ensure_pipeline() -> Pipeline | None:
    """The current pipeline, started if there is none (a forked child's first span)."""
    if _pipeline is None:
        _start()
    return _pipeline


def _successor(forked: bool) -> Pipeline | None:
    """Where a span goes that ends after its pipeline closed (a reconfiguration, a fork):
    the current pipeline; in a forked child one is started for it."""
    return ensure_pipeline() if forked else current_pipeline()


def _after_fork_in_child() -> None:
    # The worker thread did not survive the fork, and the parent's queued spans, HTTP
    # connections and outbox claims are the parent's. The child starts its own runtime
    # on its next span; spans it inherited open are routed there when they end.
    global _lock, _provider, _tracer, _pipeline, fork_generation
    fork_generation += 1
    _lock = threading.RLock()  # another thread may have held it at the fork
    pipeline = _pipeline
    _provider = _tracer = _pipeline = None
    if pipeline is not None:
        pipeline.abandon_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def flush(timeout: float | None = None) -> FlushResult:
    """Export every finished span now; wait at most ``timeout`` seconds."""
    from tracekit._pipeline import FlushResult

    pipeline = _pipeline
    if pipeline is None:
        return FlushResult()
    return pipeline.flush(_config.get().exit_timeout if timeout is None else timeout)


def shutdown(timeout: float | None = None) -> FlushResult:
    """Flush, then stop the pipeline. The next span starts a fresh one.

    Bounded: returns within ``timeout`` (default ``exit_timeout``) plus at most one
    second, whatever the destination does (hangs, refuses connections, a store locked
    by another process). What is still queued or in flight then goes to the outbox
    (remote destinations). Ctrl-C during the wait stops waiting at once and spills.
    """
    global _provider, _tracer, _pipeline
    with _lock:
        provider, pipeline = _provider, _pipeline
        _provider = _tracer = _pipeline = None
    from tracekit._pipeline import FlushResult

    if pipeline is None or provider is None:
        return FlushResult()
    budget = _config.get().exit_timeout if timeout is None else timeout
    deadline = time.monotonic() + budget
    interrupted: KeyboardInterrupt | None = None
    pipeline.set_deadline(deadline)
    try:
        pipeline.flush(budget)
    except KeyboardInterrupt as exc:  # Ctrl-C while waiting: stop waiting, keep the spans
        interrupted = exc
    try:
        # after Ctrl-C, a moment for a worker woken from a retry pause to spill its own batch
        grace = 0.2 if interrupted is not None else min(max(deadline - time.monotonic(), 0.0) + 0.5, 1.0)
        pipeline.shutdown(join_timeout=grace)
        provider.shutdown()
    except KeyboardInterrupt as exc:
        interrupted = interrupted or exc
    except Exception:
        _errors.report("shutdown")
    result = pipeline.stats()
    if interrupted is not None:
        _errors.logger.warning("tracekit: interrupted while sending traces at exit: %s", result.describe())
        raise interrupted
    return result


def _at_exit() -> None:
    try:
        llm = sys.modules.get("tracekit._llm")
        if llm is not None:
            # a stream still open now would end at garbage collection, after the flush
            llm.finalize_open_streams()
        result = shutdown()
        if result.pending or result.dropped or result.failed:
            _errors.logger.warning("tracekit at exit: %s", result.describe())
    except KeyboardInterrupt:
        pass  # shutdown() spilled what it could and said so; the app asked to stop
    except Exception:
        _errors.logger.warning("tracekit: error while draining traces at exit", exc_info=_errors.debug())


def _on_settings_change(new: _config.Settings, old: _config.Settings | None) -> None:
    # Spans already queued belong to the old destination: drain them there, and let
    # the next span start a pipeline for the new settings.
    if old is not None and _pipeline is not None:
        shutdown()


_config.on_change(_on_settings_change)

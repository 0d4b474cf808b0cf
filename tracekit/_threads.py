"""Context follows the work into thread pools: ``ThreadPoolExecutor.submit`` carries the
current tracekit span to the worker thread.

Python threads do not inherit context variables, so a span started in a pool worker
would begin a trace of its own, orphaned from the request that submitted the work.
tracekit patches ``concurrent.futures.ThreadPoolExecutor.submit`` (with wrapt, undone
by :func:`uninstall`) when the first span starts -- never at ``import tracekit``, and not
at all with ``propagate_threads=False`` / ``TRACEKIT_PROPAGATE_THREADS=false``. The patch
covers ``executor.map`` and ``loop.run_in_executor`` (both go through ``submit``, CPython
3.10-3.13) and subclasses that call ``super().submit``.

Only tracekit's own span is carried, not the submitting thread's whole context: the
app's other context variables behave in the pool exactly as without tracekit. With no
tracekit span current, ``submit`` passes the callable through untouched (one context
variable read).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from tracekit import _span, _tracer

_lock = threading.Lock()
_installed = False


def _carry(fn: Callable[..., Any], span: _span.Span) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run_in_span(*args: Any, **kwargs: Any) -> Any:
        # a pool thread runs many tasks in one context: set for this task only
        token = _span._current.set(span)
        try:
            return fn(*args, **kwargs)
        finally:
            _span._current.reset(token)

    return run_in_span


def _submit(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    span = _span._current.get()
    if span is None or not args:
        return wrapped(*args, **kwargs)
    try:
        fn = _carry(args[0], span)
    except Exception:  # an odd callable functools.wraps cannot copy: submit it as it is
        return wrapped(*args, **kwargs)
    return wrapped(fn, *args[1:], **kwargs)


def install() -> None:
    """Patch ``ThreadPoolExecutor.submit`` (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from concurrent.futures import ThreadPoolExecutor

        import wrapt

        wrapt.wrap_function_wrapper(ThreadPoolExecutor, "submit", _submit)
        _installed = True


def uninstall() -> None:
    """Undo :func:`install` (idempotent)."""
    global _installed
    with _lock:
        if not _installed:
            return
        from concurrent.futures import ThreadPoolExecutor

        patched = ThreadPoolExecutor.__dict__["submit"]
        original = getattr(patched, "__wrapped__", None)
        if original is not None:
            ThreadPoolExecutor.submit = original  # type: ignore[method-assign]
        _installed = False


def apply(enabled: bool) -> None:
    """Install or uninstall as the ``propagate_threads`` setting says."""
    if enabled:
        install()
    else:
        uninstall()


_tracer.on_start(lambda settings: apply(settings.propagate_threads))

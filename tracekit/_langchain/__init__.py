"""LangChain / LangGraph integration: a callback handler registered for every run.

Registration uses langchain-core's public ``register_configure_hook``: every
``CallbackManager.configure`` -- run at each ``invoke``/``stream``/``batch`` of any
runnable, graph, tool, retriever or model -- asks each registered hook for a handler
and adds it (once: it compares by identity) as an inheritable handler. The hook is
registered once per process; ``disable()`` makes it answer None, so no new run gets
the handler while runs already in flight still end their spans. No LangChain class or
method is patched, and objects created before ``autolog()`` are traced too.

langchain-core's hook reads a ``ContextVar``; a real one set in ``autolog()`` would be
invisible to threads started before it (and to every thread for a var set inside
one), so the hook gets :class:`_HandlerSlot`, whose ``get()`` answers the same in
every thread and task. ``_configure`` only calls ``get()`` on it (langchain-core 0.3
to 1.8).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()


class _HandlerSlot:
    """Stands where langchain-core expects a ``ContextVar`` of a handler."""

    __slots__ = ("handler",)

    def __init__(self) -> None:
        self.handler: Any = None

    def get(self, default: Any = None) -> Any:
        handler = self.handler
        return handler if handler is not None else default


_slot = _HandlerSlot()
_registered = False


def enable() -> None:
    """Trace every LangChain run from now on (idempotent)."""
    global _registered
    from langchain_core.tracers.context import register_configure_hook

    from tracekit._langchain._handler import TracekitCallbackHandler

    with _lock:
        if _slot.handler is None:
            _slot.handler = TracekitCallbackHandler()
        if not _registered:
            register_configure_hook(_slot, True)  # type: ignore[arg-type]
            _registered = True


def disable() -> None:
    """Stop adding the handler to new runs (runs in flight still end their spans)."""
    with _lock:
        _slot.handler = None


def is_enabled() -> bool:
    return _slot.handler is not None


def handler() -> Any:
    """The registered handler, or None while autolog is off."""
    return _slot.handler

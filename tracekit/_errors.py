"""The one funnel for tracekit's own failures, and the user-facing error types.

Instrumentation must never raise into the app (DESIGN.md, promise 2). Every guarded
block catches ``Exception`` -- never ``BaseException``, so ``KeyboardInterrupt``,
``GeneratorExit`` and task cancellation pass through -- and hands it to
:func:`report`, which logs it once per call site with its traceback.

Strict mode (``TRACEKIT_STRICT=1`` or :func:`set_strict`) re-raises instead, so that
the test suite fails on any swallowed internal error. Every reported error is also
kept in :data:`reported` while strict mode is on, for errors raised on background
threads where re-raising reaches no test.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tracekit import _redact

logger = logging.getLogger("tracekit")
# every record of the tracekit logger is redacted before a handler sees it
_redact.install_log_filter()

_lock = threading.Lock()
_seen: set[str] = set()
_strict = os.environ.get("TRACEKIT_STRICT", "").lower() in ("1", "true", "yes")
_suppress_strict = threading.local()

#: (place, exception) for every internal error reported while strict mode was on.
reported: list[tuple[str, BaseException]] = []
#: how many internal errors were reported since the process started, by place.
counts: dict[str, int] = {}


class ConfigError(ValueError):
    """A tracekit setting is invalid.

    Raised only by explicit set-up calls -- :func:`tracekit.configure`,
    :func:`tracekit.set_tracking_uri`, :func:`tracekit.set_experiment`, ``autolog()`` --
    naming the setting, the bad value (credentials in a URL redacted) and the accepted
    forms; the environment is checked completely at that moment, and several problems
    share one line (``errors`` lists them). Elsewhere (a traced call, a decorated
    function, the exit hook) a configuration problem is logged once and the app runs
    untraced::

        >>> import tracekit
        >>> tracekit.configure(sample_rate=2)
        Traceback (most recent call last):
        ...
        tracekit.ConfigError: sample_rate=2 is invalid: expected a number from 0.0 to 1.0
    """

    def __init__(self, setting: str, value: object, expected: str) -> None:
        self.setting = setting
        self.value = value
        self.expected = expected
        #: every problem this error reports (itself, or several for a bad environment)
        self.errors: list[ConfigError] = [self]
        super().__init__(f"{setting}={_redact.redact_text(repr(value))} is invalid: expected {expected}")

    @classmethod
    def combine(cls, errors: list[ConfigError]) -> ConfigError:
        """One error for several problems: the first's fields, every message on one line."""
        if len(errors) == 1:
            return errors[0]
        first = errors[0]
        combined = cls(first.setting, first.value, first.expected)
        combined.errors = list(errors)
        combined.args = ("; ".join(str(e) for e in errors),)
        return combined


def debug() -> bool:
    """``TRACEKIT_DEBUG`` is set: one-line messages about the app's environment (a
    broken store, an unreachable server) carry their traceback too."""
    return os.environ.get("TRACEKIT_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def set_strict(strict: bool) -> None:
    """Turn strict mode on (internal errors raise) or off (they are logged)."""
    global _strict
    _strict = strict


def is_strict() -> bool:
    return _strict


@contextmanager
def lenient() -> Iterator[None]:
    """Within this block (on this thread) internal errors are logged, even in strict mode.

    Fault-injection tests use it to prove that a failing extraction step leaves the
    user's call untouched.
    """
    previous = getattr(_suppress_strict, "on", False)
    _suppress_strict.on = True
    try:
        yield
    finally:
        _suppress_strict.on = previous


def report(place: str) -> None:
    """Record an internal error raised at ``place``; call from an ``except Exception`` block.

    Logs the first error of each place with its traceback (later ones at debug level
    so that a broken extraction in a hot loop does not flood the log), counts it,
    and re-raises in strict mode.
    """
    with _lock:
        first = place not in _seen
        _seen.add(place)
        counts[place] = counts.get(place, 0) + 1
    if first:
        logger.warning("tracekit internal error in %s; tracing goes on without it", place, exc_info=True)
    else:
        logger.debug("tracekit internal error in %s", place, exc_info=True)
    if _strict and not getattr(_suppress_strict, "on", False):
        exc = sys.exc_info()[1]
        if exc is not None:
            reported.append((place, exc))
        raise


@contextmanager
def handle_internal_errors(place: str) -> Iterator[None]:
    """The guard around tracekit's own work: an ``Exception`` raised inside goes to
    :func:`report` (logged once per place; re-raised in strict mode) and the app goes on.

    A context manager and, like logfire's ``handle_internal_errors``, a decorator (a
    decorated function that fails returns None)::

        with handle_internal_errors("openai.response"):
            record_response(span, result)

        @handle_internal_errors("langchain.on_tool_end")
        def on_tool_end(...): ...

    ``BaseException`` (``KeyboardInterrupt``, cancellation, ``GeneratorExit``) passes.
    Entering it costs a generator (about a microsecond): per-chunk and per-attribute
    paths keep a plain ``try``/``except Exception: report(place)``, which costs nothing
    until something fails.
    """
    try:
        yield
    except Exception:
        report(place)


def reset() -> None:
    """Forget which places were logged (tests)."""
    with _lock:
        _seen.clear()
        counts.clear()
    reported.clear()

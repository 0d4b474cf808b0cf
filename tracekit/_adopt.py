"""One LLM span per model call when a framework and a provider autolog both see the call.

A framework's model run (a LangChain chat-model run) opens its span first and makes it
current, then *offers* it here. When the provider's wrapper (``_llm._begin``) starts
the SDK call inside that run, it *takes* the offer instead of opening a child: it
records the request, response, usage, server and stream facts into the framework's
span through an :class:`AdoptedSpan` view whose ``end()`` hands the attributes over
but leaves the span open. The framework ends the span when its run ends. So the trace
shows one span with the framework's name, tags and metadata and the wire-level
details, and its token usage is counted once. See docs/langchain.md ("one span per
model call").

Where the framework runs its start callback in a task of its own (langchain-core 0.3's
async ``on_chat_model_start`` runs handlers under ``asyncio.gather``), the offer cannot
be made current: it is then *detached*, waiting for the first SDK call whose current
span is the one that was current where the run started.

An offer is taken at most once (a second SDK call in the same run -- rare -- gets its
own child span), and only while the offered span is still the current span of the
flow (a span the app opened inside the run keeps its SDK calls beneath it).
"""

from __future__ import annotations

import threading
from contextvars import ContextVar, Token

from tracekit import _errors
from tracekit._span import Span, current_span


class Offer:
    """A framework span waiting for the SDK call that serves it."""

    __slots__ = ("outer", "span", "taken")

    def __init__(self, span: Span, outer: Span | None = None) -> None:
        self.span = span
        self.outer = outer
        self.taken = False


_offer: ContextVar[Offer | None] = ContextVar("tracekit_adoptable_span", default=None)

#: detached offers by the id of the span current where their run started (None: none)
_detached: dict[int, list[Offer]] = {}
_lock = threading.Lock()


def offer(span: Span) -> tuple[Offer, Token[Offer | None]]:
    """Offer ``span`` (current in this flow) to the next SDK call of this flow."""
    made = Offer(span)
    return made, _offer.set(made)


def withdraw(token: Token[Offer | None], made: Offer) -> None:
    """Undo :func:`offer`; from another context, only where the offer is still set."""
    try:
        _offer.reset(token)
    except ValueError:
        if _offer.get() is made:
            _offer.set(None)


def offer_detached(span: Span, outer: Span | None) -> Offer:
    """Offer ``span`` to the next SDK call made while ``outer`` is current (see above)."""
    made = Offer(span, outer)
    with _lock:
        _detached.setdefault(id(outer), []).append(made)
    return made


def withdraw_detached(made: Offer) -> None:
    with _lock:
        waiting = _detached.get(id(made.outer))
        if waiting is not None:
            if made in waiting:
                waiting.remove(made)
            if not waiting:
                del _detached[id(made.outer)]


def take() -> Span | None:
    """The offered span, as a view the provider records into; None when there is none."""
    made = _offer.get()
    current = current_span()
    if made is None or made.taken or made.span is not current:
        if not _detached:
            return None
        made = _take_detached(current)
        if made is None:
            return None
    if not made.span.is_recording:
        return None
    made.taken = True
    return AdoptedSpan(made.span)


def _take_detached(current: Span | None) -> Offer | None:
    with _lock:
        for made in _detached.get(id(current), ()):
            if not made.taken and made.outer is current:
                return made
    return None


class AdoptedSpan(Span):
    """A provider's view of a span it adopted: same OpenTelemetry span, own pending
    attributes; :meth:`end` writes them into the span but does not end it (its owner does)."""

    __slots__ = ()

    def __init__(self, owner: Span) -> None:
        super().__init__(owner._otel, owner.name, owner.span_type, owner._root)

    def end(self, end_time_ns: int | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        otel = self._otel
        if otel is None or not self._attrs:
            return
        with _errors.handle_internal_errors("span.adopted_end"):
            self._flush_attributes(otel)

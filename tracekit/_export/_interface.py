"""What the pipeline (``tracekit/_pipeline.py``) needs from an exporter, declared.

Every exporter is an OpenTelemetry ``SpanExporter`` (:class:`Exporter`). Beyond that,
an exporter may offer any of the capabilities below; the pipeline checks each one with
``isinstance`` against its ``runtime_checkable`` Protocol and does without it when
absent, so that a plain OpenTelemetry exporter works too. Two are values, not methods,
and are read as such: ``counts_spans`` (true or not) and ``outbox.dir``. The names and signatures here are that contract:
``tests/core/test_exporter_interface.py`` holds tracekit's own exporters against them.

==================  ==========================================  =======================
capability          used by the pipeline to                     offered by
==================  ==========================================  =======================
``counts_spans``    leave delivered/failed counts to it         reliable senders
``spill``           park spans on disk (queue full, exit)       reliable senders
``tick``            resend the outbox / probe when idle         reliable senders
``abort``           stop retrying at once (exit budget over)    reliable senders
``set_deadline``    bound every wait by the exit hook's budget  reliable senders
``stats``           merge its own counts into ``FlushResult``   reliable senders
``describe_failure``  say why spans were dropped                the local store
``outbox``          name where spilled spans wait               reliable senders
==================  ==========================================  =======================
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExportResult


@runtime_checkable
class Exporter(Protocol):
    """The OpenTelemetry ``SpanExporter`` contract: ``export`` never raises."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult: ...

    def shutdown(self) -> None: ...

    def force_flush(self, timeout_millis: int = 30000) -> bool: ...


@runtime_checkable
class Spills(Protocol):
    def spill(self, spans: Sequence[ReadableSpan]) -> bool:
        """Write ``spans`` to durable storage without trying the network; False if it could not."""
        ...


@runtime_checkable
class Ticks(Protocol):
    def tick(self) -> None:
        """Idle worker: resend what waits, or probe a destination that was down."""
        ...


@runtime_checkable
class Aborts(Protocol):
    def abort(self) -> None:
        """Stop every retry now (the exit budget is spent)."""
        ...


@runtime_checkable
class HasDeadline(Protocol):
    def set_deadline(self, deadline: float | None) -> None:
        """Nothing may wait past ``deadline`` (``time.monotonic()``)."""
        ...


@runtime_checkable
class ReportsStats(Protocol):
    def stats(self) -> dict[str, int]:
        """Its own counts: ``delivered``, ``spilled``, ``failed``, ``dropped``."""
        ...


@runtime_checkable
class DescribesFailure(Protocol):
    def describe_failure(self, why: str) -> str:
        """One line for the log when spans given to it were dropped for ``why``."""
        ...


class HasOutboxDir(Protocol):
    @property
    def dir(self) -> Path: ...


class ReliableExporter(Exporter, Spills, Ticks, Aborts, HasDeadline, ReportsStats, Protocol):
    """An exporter that retries, spills to an outbox and counts for itself
    (``counts_spans = True``): the MLflow and OTLP senders."""

    counts_spans: bool

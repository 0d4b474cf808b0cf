"""Which exporters a configuration gets: the one place that maps settings to destinations."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from tracekit._config import Settings


def build(settings: Settings) -> list[SpanExporter]:
    """The exporters for ``settings``: the local store or an MLflow server, plus OTLP
    when the standard ``OTEL_EXPORTER_OTLP_*`` settings name an endpoint."""
    exporters: list[SpanExporter] = []
    store_path = settings.store_path
    if store_path is not None:
        from tracekit._store import SQLiteSpanExporter

        exporters.append(SQLiteSpanExporter(store_path))
    else:
        from tracekit._export.mlflow import MlflowExporter

        exporters.append(MlflowExporter(settings))
    return exporters

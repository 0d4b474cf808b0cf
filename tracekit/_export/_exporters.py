"""Which exporters a configuration gets: the one place that maps settings to destinations."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from tracekit._config import Settings

logger = logging.getLogger("tracekit")


def build(settings: Settings, environ: Mapping[str, str] | None = None) -> list[SpanExporter]:
    """The exporters for ``settings``: the local store or an MLflow server, plus OTLP
    when the standard ``OTEL_EXPORTER_OTLP_*`` settings name an endpoint."""
    env = os.environ if environ is None else environ
    from tracekit._process_status import write_process_status

    write_process_status(settings)  # what `tracekit status` shows of a configure() call
    exporters: list[SpanExporter] = []
    store_path = settings.store_path
    if store_path is not None:
        from tracekit._store import SQLiteSpanExporter

        exporters.append(SQLiteSpanExporter(store_path, max_mb=settings.store_max_mb, writer=settings.store_writer))
    else:
        from tracekit._export.mlflow import MlflowExporter

        exporters.append(MlflowExporter.from_settings(settings))
    from tracekit._export.otlp import OtlpExporter, otlp_config

    try:
        config = otlp_config(env)
    except ValueError as exc:
        logger.error("tracekit: %s; not sending to the OTLP endpoint", exc)
        config = None
    if config is not None:
        exporters.append(OtlpExporter(config, retry_budget=settings.export_retry_budget))
    return exporters

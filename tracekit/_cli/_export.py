"""``tracekit export --to URI``: upload the local store's traces to an MLflow server.

Each uploaded trace is recorded in the store's ``uploads`` table against the
destination (server URI + experiment id), so running the command again uploads
only traces that are new or changed since: nothing twice.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from tracekit._cli._base import CliError, Context, SubParsers

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

#: spans per request: well under the server's request limits, few round trips
BATCH_SPANS = 500


def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add ``export``."""
    parser = subparsers.add_parser("export", help="upload local traces to an MLflow tracking server")
    parser.add_argument("--to", required=True, metavar="URI", help="the MLflow server, http(s)://HOST[:PORT]")
    parser.add_argument("--experiment", metavar="NAME", help="experiment name (created if missing; default: 0)")
    parser.add_argument("--experiment-id", metavar="ID", help="experiment id (instead of --experiment)")
    parser.add_argument("--since", metavar="TIME", help="only traces started at or after TIME: ISO time or age (2h, 1d)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Upload every trace not yet uploaded to this destination (or changed since)."""
    from tracekit._cli._times import parse_time
    from tracekit._config import normalize_uri
    from tracekit._errors import ConfigError
    from tracekit._export._delivery import DestinationError
    from tracekit._export._encode import readable_from_data
    from tracekit._export._retry import Verdict
    from tracekit._export.mlflow import MlflowExporter
    from tracekit._redact import redact_text, redact_url

    try:
        uri = normalize_uri("--to", args.to)
    except ConfigError as exc:
        raise CliError(str(exc), exit_code=2) from None
    if uri.startswith("sqlite:"):
        raise CliError("--to must be an MLflow server (http(s)://HOST:PORT)", exit_code=2)
    try:
        since = parse_time(args.since) if args.since else None
    except ValueError as exc:
        raise CliError(f"bad --since: {exc}", exit_code=2) from None
    store = ctx.open_store()
    from tracekit._config import get

    settings = get()
    exporter = MlflowExporter(
        uri,
        args.experiment,
        args.experiment_id,
        timeout=settings.export_timeout,
        retry_budget=settings.export_retry_budget,
    )
    try:
        try:
            experiment_id = exporter.experiment()
        except DestinationError as exc:
            raise CliError(redact_text(f"cannot export to {uri}: {exc.message}")) from None
        # kept in the store (which traces went where): without credentials
        shown = redact_url(uri)
        destination = f"{shown}#experiment={experiment_id}"
        as_of = time.time_ns()
        infos = store.list_traces(since_ns=since, not_uploaded_to=destination, limit=None)
        uploaded_traces = uploaded_spans = 0
        batch: list[ReadableSpan] = []
        batch_ids: list[str] = []

        def send() -> None:
            nonlocal uploaded_traces, uploaded_spans
            if not batch:
                return
            verdict, reason = exporter.send_now(batch)
            if verdict is not Verdict.DELIVERED:
                raise CliError(
                    f"upload to {shown} failed after {uploaded_traces} trace(s): {reason}; run the command again to resume"
                )
            store.mark_uploaded(batch_ids, destination, as_of_ns=as_of)
            uploaded_traces += len(batch_ids)
            uploaded_spans += len(batch)
            batch.clear()
            batch_ids.clear()

        for info in reversed(infos):  # oldest first
            trace = store.get_trace(info.trace_id)
            if trace is None:
                continue
            batch.extend(readable_from_data(span) for span in trace.spans)
            batch_ids.append(info.trace_id)
            if len(batch) >= BATCH_SPANS:
                send()
        send()
    finally:
        exporter.shutdown()
    print(
        f"uploaded {uploaded_traces} trace(s) ({uploaded_spans} span(s)) to {shown} experiment {experiment_id}",
        file=ctx.out,
    )
    return 0

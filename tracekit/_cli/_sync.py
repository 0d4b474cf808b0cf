"""``tracekit sync``: resend the outbox -- the batches that could not be delivered yet."""

from __future__ import annotations

import argparse
import os

from tracekit._cli._base import Context, SubParsers


def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add ``sync``."""
    parser = subparsers.add_parser("sync", help="resend traces waiting in the outbox")
    parser.add_argument("--rejected", action="store_true", help="also retry batches the server refused (after fixing the cause)")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds (default 300)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resend every destination's outbox; exit 1 if anything is left."""
    from tracekit._export._outbox import destination_key, destinations
    from tracekit._export._sender import ReliableExporter
    from tracekit._export.mlflow import MlflowExporter
    from tracekit._export.otlp import OtlpExporter

    found = destinations()
    if not found:
        print("outbox is empty", file=ctx.out)
        return 0
    left = 0
    for directory, description in found:
        exporter: ReliableExporter
        try:
            if description.get("kind") == "mlflow":
                exporter = MlflowExporter.from_destination(description, os.environ, outbox_root=directory.parent)
            elif description.get("kind") == "otlp":
                exporter = OtlpExporter.from_destination(description, os.environ, outbox_root=directory.parent)
            else:
                print(f"{directory}: unknown destination {description!r}; skipped", file=ctx.err)
                continue
        except ValueError as exc:  # credentials the outbox does not keep
            print(f"{directory}: {exc}; skipped", file=ctx.err)
            left += 1
            continue
        if destination_key(description) != directory.name:
            print(f"{directory}: destination.json does not match the directory; skipped", file=ctx.err)
            continue
        try:
            if args.rejected:
                exporter.outbox.requeue_rejected()
            report = exporter.sync(args.timeout)
            remaining = exporter.outbox.stats()
        finally:
            exporter.shutdown()
        line = f"{exporter.describe()}: sent {report.sent_spans} span(s) in {report.sent_files} batch(es)"
        if remaining.spans:
            line += f"; {remaining.spans} span(s) still waiting"
        if report.rejected_spans:
            line += f"; {report.rejected_spans} span(s) refused and set aside"
        if report.error and (remaining.spans or report.rejected_spans):
            line += f" ({report.error})"
        print(line, file=ctx.out)
        left += remaining.spans
    return 1 if left else 0

"""``tracekit status``: where traces go, what waits in the outbox, the last errors."""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from tracekit._cli._base import Context, SubParsers


def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add ``status``."""
    parser = subparsers.add_parser("status", help="show the destination, the outbox and the last export errors")
    parser.add_argument("--check", action="store_true", help="also contact the MLflow server (experiment lookup)")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(handler=run)


def _ago(stamp: float) -> str:
    seconds = max(time.time() - stamp, 0)
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def collect(check: bool = False) -> dict[str, Any]:
    """The status as a JSON-able dict (what ``--json`` prints), credentials redacted."""
    from tracekit import _config
    from tracekit._export._outbox import Outbox, default_root, destinations
    from tracekit._export.otlp import otlp_config
    from tracekit._redact import redact_json

    # the environment as this command sees it (an app that called configure() may differ)
    diagnosis = _config.diagnose({}, os.environ, warn=False)
    settings = diagnosis.settings
    status: dict[str, Any] = {"tracking_uri": settings.tracking_uri, "outbox": str(default_root())}
    status["config_error"] = str(diagnosis.error) if diagnosis.error is not None else None
    status["unknown_variables"] = [{"name": name, "closest": closest} for name, closest in diagnosis.unknown]
    if not settings.is_local:
        status["experiment"] = settings.experiment_id or settings.experiment_name or "0 (default)"
    try:
        otlp = otlp_config(os.environ)
        status["otlp_endpoint"] = otlp.endpoint if otlp else None
    except ValueError as exc:
        status["otlp_endpoint"] = f"invalid: {exc}"
    if check and not settings.is_local:
        from tracekit._export._sender import DestinationError
        from tracekit._export.mlflow import MlflowExporter

        exporter = MlflowExporter.from_settings(settings)
        try:
            status["check"] = f"ok: experiment id {exporter.experiment()}"
        except DestinationError as exc:
            status["check"] = f"error: {exc.message}"
        finally:
            exporter.shutdown()
    status["destinations"] = []
    for directory, description in destinations():
        box = Outbox(directory.parent, description)
        stats = box.stats()
        info = box.read_status()
        status["destinations"].append(
            {
                "destination": description,
                "directory": str(directory),
                "waiting": stats.to_dict(),
                "rejected": [{"spans": e.spans, "reason": e.reason} for e in box.rejected()[-5:]],
                "last_errors": info.get("last_errors", [])[-5:],
                "last_run": info.get("last_run"),
            }
        )
    # one redaction over everything printed: URIs, endpoints, error messages
    clean: dict[str, Any] = redact_json(status)
    return clean


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the status."""
    status = collect(args.check)
    if args.json:
        print(json.dumps(status, indent=2), file=ctx.out)
        return 0
    out = ctx.out
    if status["config_error"]:
        print(f"config:       ERROR, tracing is off: {status['config_error']}", file=out)
    for unknown in status["unknown_variables"]:
        hint = f" (did you mean {unknown['closest']}?)" if unknown["closest"] else ""
        print(f"warning:      {unknown['name']} is not a tracekit variable{hint}", file=out)
    print(f"destination:  {status['tracking_uri']}", file=out)
    if "experiment" in status:
        print(f"experiment:   {status['experiment']}", file=out)
    if status.get("otlp_endpoint"):
        print(f"otlp:         {status['otlp_endpoint']}", file=out)
    if "check" in status:
        print(f"check:        {status['check']}", file=out)
    print(f"outbox:       {status['outbox']}", file=out)
    if not status["destinations"]:
        print("  empty: nothing waits to be sent", file=out)
    for item in status["destinations"]:
        description = item["destination"]
        where = description.get("uri") or description.get("endpoint")
        experiment = description.get("experiment_id") or description.get("experiment_name")
        waiting = item["waiting"]
        print(f"  {description.get('kind')} {where}" + (f" (experiment {experiment})" if experiment else ""), file=out)
        print(
            f"    waiting:  {waiting['spans']} span(s) in {waiting['files']} batch(es), {waiting['bytes']} bytes",
            file=out,
        )
        if waiting["rejected_spans"]:
            print(f"    refused:  {waiting['rejected_spans']} span(s) set aside", file=out)
            for rejected in item["rejected"]:
                print(f"      - {rejected['spans']} span(s): {rejected['reason']}", file=out)
        run_counts = item.get("last_run")
        if run_counts:
            counts = ", ".join(f"{k} {run_counts.get(k, 0)}" for k in ("delivered", "spilled", "failed", "dropped"))
            print(f"    last run: {counts} ({_ago(float(run_counts.get('ended', 0)))})", file=out)
        for error in item["last_errors"][-3:]:
            print(f"    error:    {_ago(float(error['time']))}: {error['message']}", file=out)
    if any(d["waiting"]["spans"] for d in status["destinations"]):
        print("run `tracekit sync` to resend what waits", file=out)
    return 0

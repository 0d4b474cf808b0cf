"""``tracekit status``: where traces go, the local store, what waits in the outbox, the
last errors, and what the last configured app process resolved (``configure()`` in code
is invisible to this process otherwise). ``--check`` contacts the destinations."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from tracekit._cli._base import CliError, Context, SubParsers


def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Add ``status``."""
    parser = subparsers.add_parser("status", help="show the destination, the outbox and the last export errors")
    parser.add_argument(
        "--check",
        action="store_true",
        help="also contact the destinations (MLflow server and experiment, OTLP endpoint); exit 1 if one fails",
    )
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(handler=run)


def _ago(stamp: float) -> str:
    seconds = max(time.time() - stamp, 0)
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def collect(check: bool = False, store_path: Path | None = None) -> dict[str, Any]:
    """The status as a JSON-able dict (what ``--json`` prints), credentials redacted.

    ``store_path``: the local store to describe (default: the configured one).
    """
    from tracekit import _config
    from tracekit._export._outbox import Outbox, default_root, destinations
    from tracekit._export.otlp import otlp_config
    from tracekit._process_status import read_process_status
    from tracekit._redact import redact_json

    # the environment as this command sees it (an app that called configure() may differ)
    diagnosis = _config.diagnose({}, os.environ, warn=False)
    settings = diagnosis.settings
    status: dict[str, Any] = {"tracking_uri": settings.tracking_uri, "outbox": str(default_root())}
    status["config_error"] = str(diagnosis.error) if diagnosis.error is not None else None
    status["unknown_variables"] = [{"name": name, "closest": closest} for name, closest in diagnosis.unknown]
    if not settings.is_local:
        status["experiment"] = settings.experiment_id or settings.experiment_name or "0 (default)"
    otlp = None
    try:
        otlp = otlp_config(os.environ)
        status["otlp_endpoint"] = otlp.endpoint if otlp else None
    except ValueError as exc:
        status["otlp_endpoint"] = f"invalid: {exc}"
    path = store_path or settings.store_path or _config.home() / "traces.db"
    status["store"] = _store_status(path)
    status["app_process"] = _app_process(read_process_status())
    if check:
        from tracekit._cli import _check

        results = [
            _check.check_store(path) if settings.is_local else _check.check_mlflow(settings),
            *([_check.check_otlp(otlp)] if otlp is not None else []),
        ]
        status["check"] = [dataclasses.asdict(r) for r in results]
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


def _store_status(path: Path) -> dict[str, Any]:
    """Path, trace count, size and last write error of the local store."""
    from tracekit._cli._base import check_store_file
    from tracekit._store import SQLiteStore
    from tracekit._store._status import read_store_status

    info: dict[str, Any] = {"path": str(path), "exists": path.exists(), "traces": None, "bytes": None}
    if path.exists():
        try:
            check_store_file(path)
            info["traces"] = SQLiteStore(path).count()
            info["bytes"] = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        except (CliError, OSError) as exc:
            info["problem"] = exc.message if isinstance(exc, CliError) else str(exc)
        except Exception as exc:  # a damaged file: say so, keep showing the rest
            info["problem"] = f"{type(exc).__name__}: {exc}"
    info["last_write_error"] = read_store_status(path).get("last_write_error")
    return info


def _app_process(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    pid = record.get("pid")
    running = False
    if isinstance(pid, int):
        try:
            os.kill(pid, 0)
            running = True
        except PermissionError:
            running = True  # exists, owned by someone else
        except OSError:
            running = False
    return {**record, "running": running}


def _size(count: int) -> str:
    """``512 bytes``, ``4.2 MB``."""
    if count < 1024:
        return f"{count} bytes"
    value = float(count)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the status; with ``--check``, exit 1 (and say why on one line) if a destination fails."""
    store_path = ctx.store_path() if ctx.store_spec is not None else None
    status = collect(args.check, store_path)
    failed = [c for c in status.get("check", []) if not c["ok"]]
    if args.json:
        print(json.dumps(status, indent=2), file=ctx.out)
    else:
        _print(status, ctx)
    if failed:
        raise CliError(f"status --check: {failed[0]['message']}")
    return 0


def _print(status: dict[str, Any], ctx: Context) -> None:
    out = ctx.out
    if status["config_error"]:
        print(f"config:       ERROR, tracing is off: {status['config_error']}", file=out)
    for unknown in status["unknown_variables"]:
        hint = f" (did you mean {unknown['closest']}?)" if unknown["closest"] else ""
        print(f"warning:      {unknown['name']} is not a tracekit variable{hint}", file=out)
    print(f"destination:  {status['tracking_uri']} (from this shell's environment)", file=out)
    if "experiment" in status:
        print(f"experiment:   {status['experiment']}", file=out)
    if status.get("otlp_endpoint"):
        print(f"otlp:         {status['otlp_endpoint']}", file=out)
    app = status["app_process"]
    if app:
        state = "running" if app["running"] else "exited"
        settings = app.get("settings", {})
        where = settings.get("tracking_uri")
        experiment = settings.get("experiment_id") or settings.get("experiment_name")
        extra = f" (experiment {experiment})" if experiment else ""
        enabled = "" if settings.get("enabled", True) else ", tracing disabled"
        print(
            f"last app:     pid {app.get('pid')} ({state}) {app.get('program')}, configured {_ago(float(app['time']))}:"
            f" {where}{extra}{enabled}",
            file=out,
        )
    store = status["store"]
    if not store["exists"]:
        print(f"store:        {store['path']} (not created yet)", file=out)
    elif store.get("problem"):
        print(f"store:        {store['path']}: {store['problem']}", file=out)
    else:
        print(f"store:        {store['path']}: {store['traces']} trace(s), {_size(int(store['bytes']))}", file=out)
    error = store.get("last_write_error")
    if error:
        print(f"  write error: {_ago(float(error['time']))} (pid {error.get('pid')}): {error['message']}", file=out)
    for result in status.get("check", []):
        print(f"check:        {'ok' if result['ok'] else 'FAILED'}: {result['message']}", file=out)
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

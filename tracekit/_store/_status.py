"""The local store's last write error, kept beside the store for ``tracekit status``.

The exporter runs in the app's process; ``tracekit status`` runs in another. The last
error is written to ``<store>.status.json`` (best effort, at most every 2 s) so that the
CLI can say why traces are missing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["note_write_error", "read_store_status", "status_path"]

_lock = threading.Lock()
_last_written: dict[str, float] = {}


def status_path(store_path: Path) -> Path:
    """Where the store's status is kept: ``traces.db`` -> ``traces.db.status.json``."""
    return store_path.with_name(store_path.name + ".status.json")


def note_write_error(store_path: Path, message: str) -> None:
    """Record ``message`` as the store's last write error (never raises)."""
    from tracekit._redact import redact_text

    now = time.time()
    key = str(store_path)
    with _lock:
        if now - _last_written.get(key, 0.0) < 2.0:
            return
        _last_written[key] = now
    record = {"last_write_error": {"time": now, "pid": os.getpid(), "message": redact_text(message)[:500]}}
    target = status_path(store_path)
    try:
        temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(record))
        os.replace(temp, target)
    except OSError:
        pass  # the directory itself may be what fails: status is informative only


def read_store_status(store_path: Path) -> dict[str, Any]:
    """What ``note_write_error`` wrote, or ``{}``."""
    try:
        data = json.loads(status_path(store_path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}

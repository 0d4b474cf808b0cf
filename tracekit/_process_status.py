"""What the last configured app process resolved, for ``tracekit status``.

``tracekit status`` runs in its own process: it sees the environment, never another
process's ``tracekit.configure(...)``. So each time an app's settings take effect, the
app writes them (credentials redacted, with its pid, program and time) to
``$TRACEKIT_HOME/last-process.json``; the CLI shows that file next to what the
environment alone would give. Best effort: a failure here never reaches the app.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracekit._config import Settings

__all__ = ["FILE_NAME", "read_process_status", "write_process_status"]

FILE_NAME = "last-process.json"
#: settings worth showing; the mask hook is shown as set / not set
_SHOWN = (
    "enabled",
    "tracking_uri",
    "experiment_name",
    "experiment_id",
    "sample_rate",
    "capture_content",
    "service_name",
    "store_max_mb",
    "store_writer",
)


def _path() -> Path:
    from tracekit._config import home

    return home() / FILE_NAME


def write_process_status(settings: Settings) -> None:
    """Record ``settings`` as this process's configuration (never raises)."""
    try:
        from tracekit._redact import redact_json

        shown: dict[str, Any] = {name: getattr(settings, name) for name in _SHOWN}
        shown["mask"] = settings.mask is not None
        record = {
            "pid": os.getpid(),
            "program": " ".join(sys.argv[:1])[:200] or "python",
            "time": time.time(),
            "settings": redact_json(shown),
        }
        path = _path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f"{FILE_NAME}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(record, default=str))
        os.replace(temp, path)
    except OSError:
        pass  # an unwritable TRACEKIT_HOME: the status is informative only
    except Exception:  # a bug here never reaches the app
        from tracekit import _errors

        _errors.report("process_status.write")


def read_process_status() -> dict[str, Any] | None:
    """The last record written, or None."""
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

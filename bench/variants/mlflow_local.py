"""MLflow Tracing autolog with its default local store: traces written to a SQLite
tracking store (``sqlite:///…/mlflow.db``, MLflow 3's default backend) by MLflow's
asynchronous trace logging."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

import mlflow_stub
from mlflow_stub import PARENT, disable, enable, flush, parent  # noqa: F401

VENV = ".venv-bench-mlflow"
PROVIDERS = ("openai", "anthropic", "gemini")
PACKAGES = ("mlflow",)
mlflow_stub.STUB = False
_db: list[str] = []


def setup(provider: str, workdir: str) -> None:
    _db[:] = [os.path.join(workdir, "mlflow.db")]
    mlflow_stub.setup(provider, workdir)


def proof() -> dict[str, Any]:
    from _apps import has_text, has_usage

    flush()
    with sqlite3.connect(_db[0]) as conn:
        traces = conn.execute("SELECT count(*) FROM trace_info").fetchone()[0]
        spans = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
        parents = conn.execute("SELECT count(*) FROM spans WHERE name = ?", (PARENT,)).fetchone()[0]
        rows = conn.execute(
            "SELECT content FROM spans WHERE name != ? ORDER BY start_time_unix_nano DESC LIMIT 5", (PARENT,)
        ).fetchall()
    last = []
    for (content,) in rows:
        data = json.loads(content)
        attrs = {
            k: (json.loads(v) if isinstance(v, str) and v[:1] in '"{[0123456789' else v)
            for k, v in (data.get("attributes") or {}).items()
        }
        attrs = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in attrs.items()}
        last.append(attrs)
    return {
        "spans": spans,
        "llm_spans": spans - parents,
        "parents": parents,
        "traces": traces,
        "text_ok": bool(last) and all(has_text(a) for a in last),
        "usage_ok": bool(last) and all(has_usage(a) for a in last),
    }

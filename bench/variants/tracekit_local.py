"""tracekit with its real default pipeline: background export to the local SQLite store.

The store lives under ``$TRACEKIT_HOME`` (a scratch directory set by bench/run.py).
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
from collections.abc import Callable
from typing import Any

VENV = ".venv"
PROVIDERS = ("openai", "anthropic", "gemini")
PACKAGES = ("tracekit",)
PARENT = "bench_parent"


def _module(provider: str) -> Any:
    return importlib.import_module(f"tracekit.{provider}")


def available(provider: str) -> bool:
    try:
        _module(provider)
    except ImportError:
        return False
    return True


def prepare(provider: str) -> None:
    """Import ``tracekit.<provider>`` (timed apart from ``autolog()`` by the worker)."""
    if available(provider):
        import tracekit  # noqa: F401


def configure() -> None:
    """The default destination (local store); nothing else changed."""


def setup(provider: str, workdir: str) -> None:
    configure()
    if available(provider):
        _module(provider).autolog()


def enable(provider: str) -> None:
    if available(provider):
        _module(provider).autolog()


def disable(provider: str) -> None:
    if available(provider):
        _module(provider).autolog(disable=True)


def parent(fn: Callable[..., Any]) -> Callable[..., Any]:
    import tracekit

    return tracekit.trace(name=PARENT)(fn)


def flush() -> None:
    import tracekit

    tracekit.flush(timeout=60)


def proof() -> dict[str, Any]:
    import tracekit

    result = tracekit.flush(timeout=120)
    path = tracekit.get_settings().store_path
    assert path is not None and str(path).startswith(os.environ["TRACEKIT_HOME"]), path
    return store_proof(path, result)


def store_proof(path: Any, result: Any) -> dict[str, Any]:
    from _apps import has_text, has_usage

    if not os.path.exists(path):
        return {"spans": 0, "llm_spans": 0, "parents": 0, "text_ok": False, "usage_ok": False, "flush": str(result)}
    with sqlite3.connect(path) as conn:
        spans = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
        parents = conn.execute("SELECT count(*) FROM spans WHERE name = ?", (PARENT,)).fetchone()[0]
        rows = conn.execute("SELECT attributes FROM spans WHERE name != ? ORDER BY start_ns DESC LIMIT 5", (PARENT,)).fetchall()
    last = [json.loads(r[0]) for r in rows]
    return {
        "spans": spans,
        "llm_spans": spans - parents,
        "parents": parents,
        "text_ok": bool(last) and all(has_text(a) for a in last),
        "usage_ok": bool(last) and all(has_usage(a) for a in last),
        "flush": {k: getattr(result, k) for k in ("delivered", "pending", "dropped", "failed", "spilled")},
    }

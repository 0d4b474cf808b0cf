"""MLflow Tracing autolog (``mlflow.<provider>.autolog()``) with its store writes stubbed:
everything MLflow does on the app's thread and in its exporter runs, but the trace is
handed to a counter instead of being written (``MlflowV3SpanExporter._log_trace`` /
``_log_spans``). This isolates MLflow's tracing cost from its storage cost."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any

VENV = ".venv-bench-mlflow"
PROVIDERS = ("openai", "anthropic", "gemini")
PACKAGES = ("mlflow",)
PARENT = "bench_parent"

_lock = threading.Lock()
_counts = {"spans": 0, "parents": 0, "traces": 0}
_last: list[dict[str, Any]] = []


def _stub() -> None:
    from mlflow.tracing.export.mlflow_v3 import MlflowV3SpanExporter

    def log_trace(self: Any, trace: Any, prompts: Any = None, workspace: Any = None) -> None:
        spans = trace.data.spans
        # MLflow's Span.attributes decodes its JSON values: encode them back for the check
        llm = [
            {k: v if isinstance(v, (str, int, float, bool)) else json.dumps(v) for k, v in s.attributes.items()}
            for s in spans
            if s.name != PARENT
        ]
        with _lock:
            _counts["traces"] += 1
            _counts["spans"] += len(spans)
            _counts["parents"] += len(spans) - len(llm)
            if llm:
                _last[:] = llm[-5:]

    def log_spans(self: Any, experiment_id: str, spans: Any, workspace: Any = None) -> None:
        pass

    MlflowV3SpanExporter._log_trace = log_trace  # type: ignore[method-assign]
    MlflowV3SpanExporter._log_spans = log_spans  # type: ignore[method-assign]


def _autolog(provider: str, disable: bool = False) -> None:
    import importlib

    importlib.import_module(f"mlflow.{provider}").autolog(disable=disable)


def setup(provider: str, workdir: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{os.path.join(workdir, 'mlflow.db')}")
    if STUB:
        _stub()
    _autolog(provider)


STUB = True


def enable(provider: str) -> None:
    _autolog(provider)


def disable(provider: str) -> None:
    _autolog(provider, disable=True)


def parent(fn: Callable[..., Any]) -> Callable[..., Any]:
    import mlflow

    return mlflow.trace(name=PARENT)(fn)


def flush() -> None:
    import mlflow

    mlflow.flush_trace_async_logging(terminate=False)


def proof() -> dict[str, Any]:
    from _apps import has_text, has_usage

    flush()
    with _lock:
        last = list(_last)
        return {
            "spans": _counts["spans"],
            "llm_spans": _counts["spans"] - _counts["parents"],
            "parents": _counts["parents"],
            "traces": _counts["traces"],
            "text_ok": bool(last) and all(has_text(a) for a in last),
            "usage_ok": bool(last) and all(has_usage(a) for a in last),
        }

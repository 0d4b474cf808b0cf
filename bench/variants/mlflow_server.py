"""MLflow Tracing autolog exporting to the same real MLflow tracking server as
``tracekit_mlflow`` (MLflow's asynchronous trace logging). bench/run.py passes the
server's URI in ``BENCH_MLFLOW_URI``."""

from __future__ import annotations

import os
from typing import Any

import mlflow_stub
from mlflow_stub import PARENT, disable, enable, flush, parent  # noqa: F401
from tracekit_mlflow import server_proof

VENV = ".venv-bench-mlflow"
PROVIDERS = ("openai", "anthropic", "gemini")
PACKAGES = ("mlflow",)
NEEDS_MLFLOW_SERVER = True
EXPERIMENT = ["mlflow-autolog-bench"]  # one experiment per subprocess (see setup)
mlflow_stub.STUB = False
_counted: dict[str, int] = {}


def setup(provider: str, workdir: str) -> None:
    EXPERIMENT[0] = "mlflow-autolog-bench-" + os.path.basename(workdir)
    import mlflow

    mlflow_stub._autolog(provider)
    mlflow.set_tracking_uri(os.environ["BENCH_MLFLOW_URI"])
    mlflow.set_experiment(EXPERIMENT[0])


def proof() -> dict[str, Any]:
    flush()
    found = server_proof(os.environ["BENCH_MLFLOW_URI"], EXPERIMENT[0])
    return {**found, "traces": found["traces_on_server"]}

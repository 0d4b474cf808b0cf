#!/usr/bin/env bash
# Run every check tracekit's CI runs: lint, types, the test suite (with a real MLflow
# server that the tests start on 127.0.0.1). Installs what is missing, so it works on a
# fresh machine: .venv (tracekit + dev extras) and .venv-mlflow (the mlflow server, a
# test-only tool kept out of tracekit's own environment).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import tracekit, pytest, openai, anthropic, google.genai" 2>/dev/null; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
fi

# mlflow 3.17.2 is the newest that installs from the registry here (see shared/MLFLOW_SERVER.md)
if [ ! -x .venv-mlflow/bin/mlflow ]; then
  "$PY" -m venv .venv-mlflow
  .venv-mlflow/bin/python -m pip install -q --upgrade pip
  .venv-mlflow/bin/python -m pip install -q 'mlflow[auth]==3.17.2'
fi
export TK_MLFLOW_BIN="$PWD/.venv-mlflow/bin/mlflow"
export MLFLOW_DISABLE_TELEMETRY=true

# the oldest SDK releases pyproject.toml declares, for tests/compat (the range's low end)
OLDEST="openai==1.66.0 anthropic==0.49.0 google-genai==1.10.0"
if ! .venv-oldest/bin/python -c "import tracekit, openai, anthropic, google.genai, pytest_asyncio" 2>/dev/null; then
  "$PY" -m venv .venv-oldest
  .venv-oldest/bin/python -m pip install -q --upgrade pip
  .venv-oldest/bin/python -m pip install -q $OLDEST pytest pytest-asyncio pytest-timeout
  .venv-oldest/bin/python -m pip install -q -e .
fi

echo "== ruff"
.venv/bin/ruff check tracekit tests examples bench scripts
echo "== mypy --strict tracekit"
.venv/bin/mypy
echo "== pytest (newest SDKs)"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== pytest tests/compat (oldest supported SDKs: $OLDEST)"
.venv-oldest/bin/python -m pytest -q -p no:cacheprovider tests/compat

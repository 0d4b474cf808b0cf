#!/usr/bin/env bash
# Create the peers' virtualenvs for the benchmark (bench/run.py), from PyPI.
#
#   bash bench/setup_peers.sh            # creates the missing ones
#   bash bench/setup_peers.sh --force    # recreates all
#
# Each peer lives in its own venv so that its patches and its pins never meet
# tracekit's. The provider SDKs are pinned to the versions in tracekit's .venv so
# that every variant drives the very same client code. tracekit itself is installed
# with --no-deps and only its fake LLM server (tracekit.testing) is imported there:
# nothing of tracekit's tracing runs in a peer's process.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
FORCE=${1:-}

sdk_pins() {
  .venv/bin/python - <<'PYEOF'
from importlib.metadata import version
print(" ".join(f"{p}=={version(p)}" for p in ("openai", "anthropic", "google-genai", "httpx2")))
PYEOF
}
SDKS=$(sdk_pins)

make_venv() {  # name, packages...
  local dir=".venv-bench-$1"; shift
  if [ -x "$dir/bin/python" ] && [ "$FORCE" != "--force" ]; then
    echo "== $dir exists"; return
  fi
  rm -rf "$dir"
  echo "== creating $dir"
  "$PY" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --upgrade pip
  # shellcheck disable=SC2086
  "$dir/bin/python" -m pip install -q $SDKS "$@"
  "$dir/bin/python" -m pip install -q --no-deps -e .
  "$dir/bin/python" -m pip freeze > "$dir/freeze.txt"
}

# MLflow Tracing autolog (same release as the MLflow server the tests use)
make_venv mlflow "mlflow==3.17.2" &
# OpenLLMetry (traceloop): one instrumentation package per SDK
make_venv openllmetry opentelemetry-sdk opentelemetry-exporter-otlp-proto-common \
  opentelemetry-instrumentation-openai opentelemetry-instrumentation-anthropic \
  opentelemetry-instrumentation-google-generativeai &
# OpenInference (Arize)
make_venv openinference opentelemetry-sdk opentelemetry-exporter-otlp-proto-common \
  openinference-instrumentation-openai openinference-instrumentation-anthropic \
  openinference-instrumentation-google-genai &
wait
echo "peers ready"

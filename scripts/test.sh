#!/usr/bin/env bash
# Run every check tracekit's CI runs: lint, types, the test suite (with a real MLflow
# server that the tests start on 127.0.0.1). Installs what is missing, so it works on a
# fresh machine: .venv (tracekit + dev extras) and .venv-mlflow (the mlflow server, a
# test-only tool kept out of tracekit's own environment).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# This machine sets PYTHONDONTWRITEBYTECODE=1: every import then compiles its source, and
# CPython 3.11's compiler is not thread-safe ("SystemError: AST constructor recursion
# depth mismatch" when the app's thread and tracekit's export thread import at once).
# Bytecode is written and precompiled below, as pip does for an installed package.
unset PYTHONDONTWRITEBYTECODE
# shellcheck source=scripts/venvs.sh
source scripts/venvs.sh

# .venv: tracekit + dev extras, rebuilt daily so the newest SDK releases are tested
install_dev() { "$1/bin/python" -m pip install -q -e '.[dev]'; }
cached_venv .venv "dev $(sha256sum pyproject.toml) $(date +%F)" install_dev
.venv/bin/python -m pip install -q --no-deps -e .   # point the cached venv at this checkout

# mlflow 3.17.2 is the newest that installs from the registry here (see shared/MLFLOW_SERVER.md)
install_mlflow() { "$1/bin/python" -m pip install -q 'mlflow[auth,genai]==3.17.2'; }
cached_venv .venv-mlflow "mlflow[auth,genai]==3.17.2" install_mlflow
export TK_MLFLOW_BIN="$PWD/.venv-mlflow/bin/mlflow"
export MLFLOW_DISABLE_TELEMETRY=true

# LiteLLM Proxy for tests/litellm, in its own venv (litellm pins openai<3), with tracekit
# installed editable (no SDK extras) so the proxy can load tracekit.litellm.handler.
# 1.106.x is the release measured in shared/MLFLOW_SERVER.md (1.107.0 was withdrawn).
LITELLM_SPEC='litellm[proxy]==1.106.12'
install_litellm() { "$1/bin/python" -m pip install -q "$LITELLM_SPEC" -e .; }
cached_venv .venv-litellm "$LITELLM_SPEC $(sha256sum pyproject.toml)" install_litellm
.venv-litellm/bin/python -m pip install -q --no-deps -e .
export TK_LITELLM_BIN="$PWD/.venv-litellm/bin/litellm"

# the oldest LangChain releases tracekit supports (pyproject's `langchain` extra), for the
# compat run of tests/langchain_autolog; the newest come with the `dev` extra. langchain-openai
# 0.2.0 and langgraph 0.2.20 are the oldest that run on langchain-core 0.3.0; openai 1.66.0 is
# tracekit's oldest; pydantic 2.9 is of their time (2.11 deprecates what core 0.3.0 reads).
OLDEST_LANGCHAIN="langchain-core==0.3.0 langchain-openai==0.2.0 langgraph==0.2.20 openai==1.66.0 pydantic==2.9.2"
install_langchain_oldest() {
  "$1/bin/python" -m pip install -q $OLDEST_LANGCHAIN pytest pytest-asyncio pytest-timeout
  # tracekit's runtime dependencies, without letting pip move the pins above
  "$1/bin/python" -m pip install -q "wrapt>=1.14" "opentelemetry-api>=1.27" "opentelemetry-sdk>=1.27" \
    "opentelemetry-exporter-otlp-proto-common>=1.27" "requests>=2.28"
}
cached_venv .venv-langchain-oldest "langchain-oldest $OLDEST_LANGCHAIN $(sha256sum pyproject.toml)" install_langchain_oldest
.venv-langchain-oldest/bin/python -m pip install -q --no-deps -e .

# Arize Phoenix, a third-party OpenTelemetry backend, with OpenInference's own OpenAI
# instrumentor (tests/otel compare tracekit's spans with its view of the same call)
OPENAI_NOW=$(.venv/bin/python -c 'from importlib.metadata import version; print(version("openai"))')
install_phoenix() {
  "$1/bin/python" -m pip install -q 'arize-phoenix==20.26.1' openinference-instrumentation-openai \
    opentelemetry-exporter-otlp-proto-http "openai==$OPENAI_NOW"
}
cached_venv .venv-phoenix "phoenix arize-phoenix==20.26.1 openai==$OPENAI_NOW $(date +%F)" install_phoenix
export TK_PHOENIX_VENV="$PWD/.venv-phoenix"

# the oldest SDK releases pyproject.toml declares, for tests/compat (the range's low end)
OLDEST="openai==1.66.0 anthropic==0.49.0 google-genai==1.10.0"
install_oldest() { "$1/bin/python" -m pip install -q $OLDEST pytest pytest-asyncio pytest-timeout -e .; }
cached_venv .venv-oldest "oldest $OLDEST $(sha256sum pyproject.toml) $(date +%F)" install_oldest
.venv-oldest/bin/python -m pip install -q --no-deps -e .

# tracekit and the tests are editable sources: compile them once, as an install would
# (every venv here runs the same interpreter, so one pass serves them all)
.venv/bin/python -m compileall -q -j 0 tracekit tests >/dev/null || true

# Every half runs and reports, whatever an earlier one did: a red newest-SDK run must
# not hide the oldest-SDK results (or the other way round). The exit code is non-zero
# when any step failed.
failed=()
step() {
  local name=$1; shift
  echo "== $name"
  if "$@"; then
    results+=("ok      $name")
  else
    results+=("FAILED  $name (exit $?)")
    failed+=("$name")
  fi
}
results=()
step "ruff" .venv/bin/ruff check tracekit tests examples bench scripts
step "mypy --strict tracekit" .venv/bin/mypy
step "pytest (newest SDKs: $(.venv/bin/python scripts/sdk_versions.py))" \
  .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
# the store's other writer (store_writer="process": a writer process does the encoding and
# SQLite) under the store, core, CLI and secrets suites; EAGER starts it at the first batch
step "pytest tests/store tests/core tests/cli tests/secrets (store writer process)" \
  env TRACEKIT_STORE_WRITER=process TK_STORE_WRITER_EAGER=1 \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/store tests/core tests/cli tests/secrets
step "pytest tests/langchain_autolog (oldest LangChain: $(.venv-langchain-oldest/bin/python scripts/sdk_versions.py))" \
  .venv-langchain-oldest/bin/python -m pytest -q -p no:cacheprovider tests/langchain_autolog
step "pytest tests/compat (oldest supported SDKs: $(.venv-oldest/bin/python scripts/sdk_versions.py))" \
  .venv-oldest/bin/python -m pytest -q -p no:cacheprovider tests/compat

echo "== summary"
printf '%s\n' "${results[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  exit 1
fi

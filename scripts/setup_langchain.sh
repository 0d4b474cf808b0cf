#!/usr/bin/env bash
# The oldest LangChain releases tracekit supports, for the compat run of tests/langchain:
# .venv-langchain-oldest holds tracekit + these pins + pytest. Idempotent: does nothing
# when the venv already imports them. The newest releases come with tracekit's `dev` extra
# (langchain-openai and langchain-anthropic pin no upper bound on openai/anthropic).
#
#   scripts/setup_langchain.sh
#   .venv-langchain-oldest/bin/python -m pytest -q -p no:cacheprovider tests/langchain_autolog
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${TK_LANGCHAIN_OLDEST_VENV:-.venv-langchain-oldest}

# langchain-core 0.3.0 is the oldest declared (pyproject `langchain` extra); langchain-openai
# 0.2.0 and langgraph 0.2.20 are the oldest that run on it; openai 1.66.0 is tracekit's oldest.
# pydantic 2.9 is of their time (2.11 deprecates what langchain-core 0.3.0 reads: warnings are errors here).
OLDEST_LANGCHAIN="langchain-core==0.3.0 langchain-openai==0.2.0 langgraph==0.2.20 openai==1.66.0 pydantic==2.9.2"

if "$VENV/bin/python" -c "import tracekit, langchain_core, langchain_openai, langgraph.prebuilt, pytest_asyncio; import pydantic; assert pydantic.VERSION == \"2.9.2\"" 2>/dev/null; then
  exit 0
fi
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q $OLDEST_LANGCHAIN pytest pytest-asyncio pytest-timeout
"$VENV/bin/python" -m pip install -q --no-deps -e .
# tracekit's own runtime dependencies (--no-deps above keeps pip from moving the pins)
"$VENV/bin/python" -m pip install -q "wrapt>=1.14" "opentelemetry-api>=1.27" "opentelemetry-sdk>=1.27" \
  "opentelemetry-exporter-otlp-proto-common>=1.27" "requests>=2.28"
"$VENV/bin/python" -c "import langchain_core, langchain_openai, openai; print('langchain-core', langchain_core.__version__, 'openai', openai.__version__)"

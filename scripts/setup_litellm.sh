#!/usr/bin/env bash
# Create (idempotently) .venv-litellm: a LiteLLM Proxy for tests/litellm, with tracekit
# installed editable so the proxy can load `callbacks: ["tracekit.litellm.handler"]`.
# Its own virtualenv because litellm pins openai<3 (the dev .venv has openai 3.x).
# litellm 1.106.x is the release measured in shared/MLFLOW_SERVER.md (1.107.0 was a
# compromised release and is gone from the registry).
# The tests find the proxy via TK_LITELLM_BIN, else .venv-litellm/bin/litellm.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LITELLM_SPEC=${TK_LITELLM_SPEC:-'litellm[proxy]==1.106.12'}

if [ ! -x .venv-litellm/bin/python ]; then
  "$PY" -m venv .venv-litellm
fi
if ! .venv-litellm/bin/python -c "import litellm.proxy.proxy_server, tracekit.litellm" 2>/dev/null; then
  .venv-litellm/bin/python -m pip install -q --upgrade pip
  .venv-litellm/bin/python -m pip install -q "$LITELLM_SPEC"
  # no SDK extras: the proxy needs tracekit's core only (litellm brings its own openai<3)
  .venv-litellm/bin/python -m pip install -q -e .
fi
.venv-litellm/bin/python -c "import litellm, importlib.metadata as m; print('litellm', m.version('litellm'))"

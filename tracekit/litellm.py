"""Trace every request through LiteLLM Proxy (or the LiteLLM SDK): ``tracekit.litellm.handler``.

In the proxy's config::

    litellm_settings:
      callbacks: ["tracekit.litellm.handler"]

or with the SDK::

    import litellm
    import tracekit.litellm
    litellm.callbacks = [tracekit.litellm.handler]

One CHAT_MODEL span per call, success or failure, streamed or not; a child of the
caller's span when the request carries ``traceparent``. Traces go where tracekit's
settings say (``MLFLOW_TRACKING_URI``, ``TRACEKIT_TRACKING_URI``, OTLP variables, the
local store by default). Needs the ``litellm`` package: ``pip install 'tracekit[litellm]'``.
See ``docs/litellm.md``.
"""

from __future__ import annotations

from tracekit._litellm_handler import TracekitLogger

__all__ = ["TracekitLogger", "handler"]

#: The callback instance to give LiteLLM (``callbacks: ["tracekit.litellm.handler"]``).
handler = TracekitLogger()

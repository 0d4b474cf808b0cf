"""Trace LangChain and LangGraph: ``tracekit.langchain.autolog()``.

>>> import tracekit
>>> tracekit.langchain.autolog()
>>> tracekit.openai.autolog()   # optional: the wire-level details of every model call

One span per LangChain run -- chains and graph nodes (CHAIN; the top-level graph or
agent as AGENT), chat models (CHAT_MODEL), LLMs (LLM), tools (TOOL), retrievers
(RETRIEVER) -- with the run's name, inputs, outputs, tags and metadata, nested as
LangChain nests them and under the app's ``@trace`` spans. With a provider autolog on
too, each model call is still one span. See ``docs/langchain.md``.
"""

from __future__ import annotations

import importlib.util
import logging

__all__ = ["autolog"]

logger = logging.getLogger("tracekit")


def autolog(disable: bool = False) -> None:
    """Trace every LangChain run (or stop: ``disable=True``).

    Idempotent; works before or after LangChain objects were created (a callback
    handler is added to every run through langchain-core's configure hook; nothing
    is patched). Raises ``ImportError`` when ``langchain-core`` is missing.

    >>> import tracekit
    >>> tracekit.langchain.autolog()
    >>> tracekit.langchain.autolog(disable=True)
    """
    if importlib.util.find_spec("langchain_core") is None:  # asks without importing it
        raise ImportError("tracekit.langchain.autolog() needs the langchain-core package: pip install 'tracekit[langchain]'")
    from tracekit import _langchain

    if disable:
        _langchain.disable()
        logger.debug("tracekit: langchain autolog off")
        return
    _langchain.enable()
    logger.debug("tracekit: langchain autolog on")

"""The cost of tracekit's LangChain callback per run: paired on/off medians.

A ``prompt | chat model | parser`` chain (4 LangChain runs: the sequence, the prompt, the
model, the parser) with langchain-core's in-process fake chat model, so no network and no
SDK is measured. Blocks of invocations alternate between ``autolog()`` on and off; each
block's cost is the caller's *thread* CPU time per invocation (a busy machine preempts, it
does not add instructions; the export worker's own thread is not counted, only what the
app's thread pays). Reported: the median per-invocation time on and off, their difference,
and that difference per LangChain run; and, as a third arm, a handler that does nothing
(``run_inline`` like ours): what LangChain itself spends on any handler, so that
``on - noop`` is tracekit's own share.

    .venv/bin/python bench/langchain_callback.py          # prints JSON
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("TRACEKIT_HOME", tempfile.mkdtemp(prefix="tracekit-lc-bench-"))

RUNS_PER_INVOKE = 4


def _block_us(chain: Any, n: int) -> float:
    start = time.thread_time_ns()
    for _ in range(n):
        chain.invoke({"q": "hi"})
    return (time.thread_time_ns() - start) / n / 1e3


def main(pairs: int = 30, n: int = 50) -> dict[str, Any]:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    import tracekit
    import tracekit.langchain

    model = FakeListChatModel(responses=["Hello! This is a fake answer."])
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model | StrOutputParser()
    for _ in range(3):  # warm up both paths (imports, caches, the OpenTelemetry SDK)
        tracekit.langchain.autolog()
        _block_us(chain, n)
        tracekit.langchain.autolog(disable=True)
        _block_us(chain, n)

    class Noop(BaseCallbackHandler):  # type: ignore[misc]
        run_inline = True

    noop_chain = chain.with_config(callbacks=[Noop()])
    on: list[float] = []
    off: list[float] = []
    noop: list[float] = []
    for i in range(pairs):
        order = (True, False) if i % 2 == 0 else (False, True)  # alternate to cancel drift
        for enabled in order:
            tracekit.langchain.autolog(disable=not enabled)
            (on if enabled else off).append(_block_us(chain, n))
            tracekit.flush()
        noop.append(_block_us(noop_chain, n))
    tracekit.langchain.autolog(disable=True)
    deltas = sorted(a - b for a, b in zip(on, off, strict=True))
    delta = statistics.median(deltas)
    own = statistics.median(sorted(a - b for a, b in zip(on, noop, strict=True)))
    import langchain_core

    return {
        "langchain_core": langchain_core.__version__,
        "python": sys.version.split()[0],
        "invocations_per_block": n,
        "pairs": pairs,
        "off_us_per_invoke": round(statistics.median(off), 1),
        "on_us_per_invoke": round(statistics.median(on), 1),
        "overhead_us_per_invoke": round(delta, 1),
        "overhead_us_per_run": round(delta / RUNS_PER_INVOKE, 1),
        "overhead_us_per_invoke_p25_p75": [round(deltas[len(deltas) // 4], 1), round(deltas[3 * len(deltas) // 4], 1)],
        "noop_handler_us_per_invoke": round(statistics.median(noop), 1),
        "tracekit_own_us_per_run": round(own / RUNS_PER_INVOKE, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

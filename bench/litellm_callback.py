"""What tracekit's LiteLLM callback costs per request, on the thread that runs it.

Run with the LiteLLM virtualenv (``scripts/test.sh`` creates it; litellm pins openai<3)::

    .venv-litellm/bin/python bench/litellm_callback.py [--calls 5000]

One real ``litellm.completion`` (LiteLLM's ``mock_response``: no server, no network)
captures the exact ``kwargs`` LiteLLM hands a callback; the handler's hook is then timed
on those (a distinct start time per call, so that none is taken for a repeat), with the
real default pipeline exporting to a local store file in the background. Prints the
per-call figures in microseconds as JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument(
        "--interval", type=float, default=0.0, help="seconds between calls (0: back to back, the export thread always busy)"
    )
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    tmp = tempfile.mkdtemp(prefix="tk-bench-litellm-")
    os.environ["TRACEKIT_TRACKING_URI"] = f"sqlite:///{tmp}/bench.db"
    os.environ["TRACEKIT_HOME"] = tmp

    import litellm
    from litellm.integrations.custom_logger import CustomLogger

    import tracekit
    from tracekit.litellm import handler

    captured: dict[str, Any] = {}

    class Capture(CustomLogger):  # type: ignore[misc]
        def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
            captured.update(kwargs=kwargs, response=response_obj, start=start_time, end=end_time)

    litellm.callbacks = [Capture()]
    messages = [
        {"role": "system", "content": "You are a helpful assistant. " * 10},
        {"role": "user", "content": "What is the weather in Paris today? " * 5},
    ]
    litellm.completion(model="openai/gpt-4o-mini", messages=messages, mock_response="It is sunny. " * 20)
    deadline = time.monotonic() + 10
    while "kwargs" not in captured and time.monotonic() < deadline:
        time.sleep(0.01)  # the sync hooks run on LiteLLM's logging thread
    litellm.callbacks = []
    if "kwargs" not in captured:
        sys.exit("LiteLLM never called the capture callback")

    kwargs, response, start, end = captured["kwargs"], captured["response"], captured["start"], captured["end"]
    for i in range(200):  # warm-up: imports, the first span starts the runtime
        handler.log_success_event(kwargs, response, start + datetime.timedelta(microseconds=i), end)
    times = []
    for i in range(args.calls):
        started = start + datetime.timedelta(seconds=1, microseconds=i)
        t0 = time.perf_counter_ns()
        handler.log_success_event(kwargs, response, started, end)
        times.append((time.perf_counter_ns() - t0) / 1000)
        if args.interval:
            time.sleep(args.interval)
    result = tracekit.flush(timeout=30)
    times.sort()
    print(
        json.dumps(
            {
                "calls": args.calls,
                "interval_s": args.interval,
                "mean_us": round(statistics.fmean(times), 1),
                "p50_us": round(times[len(times) // 2], 1),
                "p99_us": round(times[int(len(times) * 0.99)], 1),
                "exported": result.delivered if hasattr(result, "delivered") else None,
                "dropped": getattr(result, "dropped", None),
                "litellm": _version("litellm"),
            }
        )
    )


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()

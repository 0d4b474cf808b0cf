"""tracekit's benchmark against the peers: one command runs everything.

    bash bench/setup_peers.sh          # once: the peers' virtualenvs (from PyPI)
    .venv/bin/python bench/run.py      # the full run (~35 min on 2 cores): writes
                                       # docs/benchmarks.md, docs/benchmarks.json and
                                       # bench/results/latest.json
    .venv/bin/python bench/run.py --smoke   # CI: tracekit and baseline only, < 60 s

Every variant runs in its own subprocess (so patches never mix), with its own
virtualenv's Python; variants are interleaved over rounds in one run, and ratios are
taken to the baseline of the same round. See bench/README.md for the method.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
VARIANTS_DIR = os.path.join(BENCH, "variants")
RESULTS = os.path.join(BENCH, "results")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
DOC_JSON = os.path.join(ROOT, "docs", "benchmarks.json")

VARIANTS = (
    "baseline",
    "tracekit_local",
    "tracekit_mlflow",
    "mlflow_stub",
    "mlflow_local",
    "openllmetry",
    "openinference_peer",
)
LABELS = {
    "baseline": "baseline (no tracing)",
    "tracekit_local": "**tracekit** (local store)",
    "tracekit_mlflow": "**tracekit** → MLflow server",
    "mlflow_stub": "MLflow autolog (store stubbed)",
    "mlflow_local": "MLflow autolog (local SQLite store)",
    "mlflow_server": "MLflow autolog → MLflow server",
    "openllmetry": "OpenLLMetry",
    "openinference_peer": "OpenInference",
}
PROVIDERS = ("openai", "anthropic", "gemini")
SCENARIOS_FULL = ("plain", "stream", "nested", "nested_stream", "http_plain", "http_stream", "threads", "tasks")
SCENARIOS_OTHER = ("plain", "stream", "nested", "threads", "tasks")
SCENARIO_LABELS = {
    "plain": "non-streamed",
    "stream": "20-chunk stream",
    "nested": "non-streamed under a decorated parent",
    "nested_stream": "stream under a decorated parent",
    "http_plain": "non-streamed, loopback HTTP",
    "http_stream": "20-chunk stream, loopback HTTP",
    "threads": "8 threads (calls/s)",
    "tasks": "64 asyncio tasks (calls/s)",
}
#: variants whose exporter costs tens of ms of CPU per trace get fewer calls
SLOW = {"mlflow_local": 3, "mlflow_server": 3}
#: measured for openai only (to keep the full run near half an hour on 2 cores): the
#: store and server variants cost the same per trace whatever the provider
OPENAI_ONLY = ("tracekit_mlflow", "mlflow_local")


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def variant_meta(name: str) -> dict[str, Any]:
    """Read VENV/PROVIDERS/... of a variant module without importing it here."""
    spec = importlib.util.spec_from_file_location(f"_meta_{name}", os.path.join(VARIANTS_DIR, name + ".py"))
    assert spec and spec.loader
    source = open(spec.origin or "").read()  # noqa: SIM115
    meta: dict[str, Any] = {"venv": ".venv", "needs_server": "NEEDS_MLFLOW_SERVER = True" in source}
    for line in source.splitlines():
        if line.startswith("VENV = "):
            meta["venv"] = line.split("=", 1)[1].strip().strip('"')
    return meta


def python_of(name: str) -> str | None:
    py = os.path.join(ROOT, variant_meta(name)["venv"], "bin", "python")
    return py if os.path.exists(py) else None


# --- servers -------------------------------------------------------------------------------


@contextlib.contextmanager
def fake_http_server() -> Iterator[str]:
    """The fake LLM over loopback HTTP, in this process (idle while the workers run)."""
    from tracekit.testing._fakeserver import FakeLLMServer

    server = FakeLLMServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def mlflow_server(tmp: str) -> Iterator[str | None]:
    """A real MLflow tracking server (sqlite backend), stopped by its process group id."""
    mlflow = os.path.join(ROOT, ".venv-mlflow", "bin", "mlflow")
    if not os.path.exists(mlflow):
        log("no .venv-mlflow: the MLflow server variants are skipped")
        yield None
        return
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    # no background job runner (huey consumers): trace ingestion does not need it, and
    # its idle polling would eat the CPU the benchmark measures
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    cmd = [
        mlflow, "server", "--backend-store-uri", f"sqlite:///{tmp}/mlflow-server.db",
        "--artifacts-destination", f"{tmp}/mlflow-artifacts",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with open(os.path.join(tmp, "mlflow-server.log"), "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(uri + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the MLflow server did not start; see " + out.name)
        log(f"MLflow server at {uri} (pid {proc.pid})")
        yield uri
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the group of the server we started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


# --- running workers ------------------------------------------------------------------------


class Runner:
    def __init__(self, tmp: str, http_url: str, mlflow_uri: str | None) -> None:
        self.tmp = tmp
        self.http_url = http_url
        self.mlflow_uri = mlflow_uri
        self.n = 0
        self.failures: list[dict[str, Any]] = []

    def run(self, variant: str, provider: str, mode: str, timeout: float = 1800, **opts: Any) -> dict[str, Any] | None:
        py = python_of(variant)
        if py is None:
            return None
        if variant_meta(variant)["needs_server"] and not self.mlflow_uri:
            return None
        self.n += 1
        workdir = os.path.join(self.tmp, f"{variant}-{provider}-{mode}-{self.n}")
        os.makedirs(workdir)
        out = workdir + ".json"
        cmd = [py, os.path.join(BENCH, "_worker.py"), "--variant", variant, "--provider", provider, "--mode", mode]
        cmd += ["--workdir", workdir, "--out", out, "--http-url", self.http_url]
        for key, value in opts.items():
            cmd += ["--" + key.replace("_", "-"), str(value)]
        env = {
            **os.environ,
            "TRACEKIT_HOME": workdir,  # tracekit's local store: a fresh file per worker
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "BENCH_MLFLOW_URI": self.mlflow_uri or "",
            "PYTHONWARNINGS": "ignore",
        }
        t0 = time.monotonic()
        try:
            proc = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            result: dict[str, Any] = {"ok": False, "error": f"timed out after {timeout}s"}
        else:
            try:
                with open(out) as f:
                    result = json.load(f)
            except (OSError, ValueError):
                result = {"ok": False, "error": f"exit {proc.returncode}: {proc.stderr[-3000:]}"}
        result.update(variant=variant, provider=provider, mode=mode, seconds=round(time.monotonic() - t0, 1))
        result["verdict"] = verdict(result)
        log(f"  {variant:18} {provider:9} {mode:8} {result['seconds']:6.1f}s  {result['verdict']}")
        if not result.get("ok"):
            self.failures.append(result)
            log("    " + str(result.get("error", ""))[-1500:].replace("\n", "\n    "))
        shutil.rmtree(workdir, ignore_errors=True)  # stores and databases can be large
        return result


def verdict(result: dict[str, Any]) -> str:
    """Did the variant trace? Every span expected, and the content captured."""
    if not result.get("ok"):
        return "CRASHED"
    proof = result.get("proof")
    if proof is None or result["variant"] == "baseline":
        return "ok"
    problems = []
    if "traces" in proof and proof["traces"] != result["expected_traces"]:
        problems.append(f"traces {proof['traces']}/{result['expected_traces']}")
    if "spans" in proof and proof["spans"] != result["expected_spans"]:
        problems.append(f"spans {proof['spans']}/{result['expected_spans']}")
    if result.get("instrumented", True):
        if not proof.get("text_ok"):
            problems.append("output text missing")
        if not proof.get("usage_ok"):
            problems.append("usage missing")
    else:
        problems.append("provider not instrumented yet")
    return "traced" if not problems else "INCOMPLETE: " + ", ".join(problems)


# --- the plan ----------------------------------------------------------------------------------


def plan_latency(args: argparse.Namespace) -> list[tuple[str, str, dict[str, Any]]]:
    jobs = []
    for provider in args.providers:
        scenarios = SCENARIOS_FULL if provider == "openai" else SCENARIOS_OTHER
        for variant in args.variants:
            if provider != "openai" and variant in OPENAI_ONLY:
                continue
            calls = max(30, args.calls // SLOW.get(variant, 1))
            jobs.append((variant, provider, {"scenarios": ",".join(scenarios), "calls": calls, "warmup": args.warmup}))
    return jobs


def run_all(args: argparse.Namespace, runner: Runner) -> dict[str, Any]:
    results: dict[str, Any] = {"latency": [], "paired": [], "rss": [], "export": [], "autolog": [], "imports": {}}
    jobs = plan_latency(args)
    for r in range(args.rounds):
        log(f"== latency round {r + 1}/{args.rounds}")
        # a different order each round, so that no variant always runs first or last
        order = jobs[r % len(jobs) :] + jobs[: r % len(jobs)] if r % 2 == 0 else list(reversed(jobs))
        for variant, provider, opts in order:
            res = runner.run(variant, provider, "latency", **opts)
            if res is not None:
                res["round"] = r
                results["latency"].append(res)
    if args.smoke:
        return results

    log("== paired on/off blocks (one process per variant)")
    for provider in args.providers:
        for variant in args.paired_variants:
            if variant not in args.variants or (provider != "openai" and variant != "tracekit_local"):
                continue
            res = runner.run(
                variant, provider, "paired", scenarios="plain,stream,nested",
                calls=args.block, cycles=args.cycles, warmup=args.warmup,
            )  # fmt: skip
            if res is not None:
                results["paired"].append(res)

    log("== memory")
    for variant in args.variants:
        if variant in ("mlflow_local", "tracekit_mlflow"):
            continue  # tens of ms of CPU per trace (mlflow_local); the server run measures export
        calls = args.rss_calls if variant in ("baseline", "tracekit_local") else args.rss_peer_calls
        res = runner.run(variant, "openai", "rss", calls=calls, timeout=3600)
        if res is not None:
            results["rss"].append(res)

    log("== export throughput to a real MLflow server")
    for variant in ("tracekit_mlflow", "mlflow_server"):
        res = runner.run(variant, "openai", "export", calls=args.export_calls, warmup=20, timeout=1800)
        if res is not None:
            results["export"].append(res)

    log("== tracekit's own cost, SDK stubbed (bench/core_micro.py)")
    proc = subprocess.run(
        [os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(BENCH, "core_micro.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "TRACEKIT_HOME": tempfile.mkdtemp(dir=runner.tmp)},
    )
    try:
        results["core"] = json.loads(proc.stdout)
    except ValueError:
        log("core_micro failed: " + proc.stderr[-2000:])

    log("== import and autolog() time")
    results["imports"] = import_times(args.import_reps)
    for provider in args.providers:
        for variant in ("tracekit_local", "mlflow_stub", "openllmetry", "openinference_peer"):
            if variant not in args.variants:
                continue
            for _ in range(args.autolog_reps if variant == "tracekit_local" else 2):
                res = runner.run(variant, provider, "autolog")
                if res is not None:
                    results["autolog"].append(res)
    return results


def import_times(reps: int) -> dict[str, Any]:
    """Wall time of ``python -c "import X"`` minus ``python -c pass`` of the same venv, interleaved."""
    cases = {
        "import tracekit": (".venv", "import tracekit"),
        "import openai SDK": (".venv", "import openai"),
        "import tracekit + openai SDK": (".venv", "import tracekit, openai"),
        "import mlflow": (".venv-bench-mlflow", "import mlflow"),
        "import OpenLLMetry (openai)": (".venv-bench-openllmetry", "import opentelemetry.instrumentation.openai"),
        "import OpenInference (openai)": (".venv-bench-openinference", "import openinference.instrumentation.openai"),
    }
    runs = [(f"start-up {venv}", venv, "pass") for venv in sorted({v for v, _ in cases.values()})]
    runs += [(name, venv, code) for name, (venv, code) in cases.items()]
    times: dict[str, list[float]] = {}
    for _ in range(reps):
        for name, venv, code in runs:
            py = os.path.join(ROOT, venv, "bin", "python")
            if not os.path.exists(py):
                continue
            t0 = time.perf_counter()
            subprocess.run([py, "-c", code], check=True, cwd=ROOT)
            times.setdefault(name, []).append((time.perf_counter() - t0) * 1e3)
    out: dict[str, Any] = {}
    for name, venv, _ in runs:
        if name not in times or name.startswith("start-up"):
            continue
        total = statistics.median(times[name])
        out[name] = {"total_ms": total, "beyond_startup_ms": total - statistics.median(times[f"start-up {venv}"])}
    if "start-up .venv" in times:
        out["python start-up"] = {"total_ms": statistics.median(times["start-up .venv"]), "beyond_startup_ms": 0.0}
    return out


# --- versions ------------------------------------------------------------------------------------


def versions() -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    for venv in (".venv", ".venv-bench-mlflow", ".venv-bench-openllmetry", ".venv-bench-openinference", ".venv-mlflow"):
        py = os.path.join(ROOT, venv, "bin", "python")
        if not os.path.exists(py):
            continue
        code = (
            "import json, importlib.metadata as m\n"
            "names = ['tracekit','openai','anthropic','google-genai','httpx2','opentelemetry-sdk','wrapt','mlflow',"
            "'opentelemetry-instrumentation-openai','opentelemetry-instrumentation-anthropic',"
            "'opentelemetry-instrumentation-google-generativeai','openinference-instrumentation-openai',"
            "'openinference-instrumentation-anthropic','openinference-instrumentation-google-genai']\n"
            "out = {}\n"
            "for n in names:\n"
            "    try: out[n] = m.version(n)\n"
            "    except Exception: pass\n"
            "print(json.dumps(out))"
        )
        proc = subprocess.run([py, "-c", code], capture_output=True, text=True)
        if proc.returncode == 0:
            out[venv] = json.loads(proc.stdout)
    with contextlib.suppress(Exception):
        out["tracekit_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="CI: tracekit and baseline only, a few hundred calls")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the latency runs")
    p.add_argument("--calls", type=int, default=200, help="measured calls per scenario per round")
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--block", type=int, default=100, help="calls per block of the paired on/off runs")
    p.add_argument("--cycles", type=int, default=6, help="ABBA cycles of the paired runs")
    p.add_argument("--rss-calls", type=int, default=100_000)
    p.add_argument("--rss-peer-calls", type=int, default=10_000)
    p.add_argument("--export-calls", type=int, default=3000)
    p.add_argument("--import-reps", type=int, default=10)
    p.add_argument("--autolog-reps", type=int, default=5)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--paired-variants", default="tracekit_local,tracekit_mlflow,mlflow_stub,openllmetry,openinference_peer")
    p.add_argument("--providers", default=",".join(PROVIDERS))
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.*")
    p.add_argument("--rerender", action="store_true", help="rewrite the docs from bench/results/latest.json")
    args = p.parse_args()
    if args.rerender:
        from _report import render

        with open(os.path.join(RESULTS, "latest.json")) as f:
            saved = json.load(f)
        write_docs(render(saved), saved)
        return 0
    args.variants = args.variants.split(",")
    args.paired_variants = args.paired_variants.split(",")
    args.providers = args.providers.split(",")
    if args.smoke:
        args.variants = ["baseline", "tracekit_local"]
        args.rounds, args.calls, args.warmup = 1, 100, 10
    t0 = time.monotonic()
    os.makedirs(RESULTS, exist_ok=True)
    # Like an installed wheel (pip compiles bytecode at install): with
    # PYTHONDONTWRITEBYTECODE=1 an editable checkout would compile tracekit's source at
    # every start, which the peers, installed by pip, never pay
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(ROOT, "tracekit")], check=False)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="tracekit-bench-"))
        http_url = stack.enter_context(fake_http_server())
        mlflow_uri = None if args.smoke else stack.enter_context(mlflow_server(tmp))
        runner = Runner(tmp, http_url, mlflow_uri)
        results = run_all(args, runner)
    results["versions"] = versions()
    results["args"] = {k: v for k, v in vars(args).items()}
    results["seconds"] = round(time.monotonic() - t0, 1)
    name = "smoke.json" if args.smoke else "latest.json"
    with open(os.path.join(RESULTS, name), "w") as f:
        json.dump(results, f, indent=1)
    from _report import render

    report = render(results)
    if args.smoke:
        tk = [r for r in results["latency"] if r["variant"] == "tracekit_local"]
        crashed = [r for r in tk if not r.get("ok")]
        no_spans = [r for r in tk if r.get("ok") and not r["proof"].get("spans")]
        for r in tk:
            log(f"smoke: tracekit {r['provider']}: {r['verdict']}, {r.get('proof', {}).get('spans')} spans")
        log(f"smoke: done in {results['seconds']}s")
        if crashed or no_spans or not tk:
            log("smoke: FAILED (tracekit crashed or produced no spans)")
            return 1
        return 0
    if not args.no_docs:
        write_docs(report, results)
    print(report)
    log(f"done in {results['seconds']}s; {len(runner.failures)} failed worker(s)")
    return 0


def write_docs(report: str, results: dict[str, Any]) -> None:
    """Replace the generated part of docs/benchmarks.md, keep the hand-written analysis."""
    start, end = "<!-- generated by bench/run.py: start -->", "<!-- generated by bench/run.py: end -->"
    block = f"{start}\n{report}\n{end}"
    try:
        with open(DOC) as f:
            text = f.read()
    except OSError:
        text = ""
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = "# Benchmarks\n\n" + block + "\n"
    with open(DOC, "w") as f:
        f.write(text)
    with open(DOC_JSON, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    sys.path.insert(0, BENCH)
    sys.exit(main())

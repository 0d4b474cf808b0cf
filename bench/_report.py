# ruff: noqa: RUF001, RUF005, E501  (markdown tables: their symbols and long rows are the point)
"""Turn bench/run.py's raw results into the markdown tables of docs/benchmarks.md."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from run import LABELS, SCENARIO_LABELS

THROUGHPUT = ("threads", "tasks")
CHUNKS = 20


def _med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt(value: float | None, spec: str = ".0f", suffix: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


class Latency:
    """Per (provider, variant, scenario): the figures of every round, and ratios to the
    baseline of the same round."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.by: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        base: dict[tuple[str, int, str], dict[str, Any]] = {}
        for r in rows:
            if not r.get("ok"):
                continue
            for scenario, fig in r.get("scenarios", {}).items():
                fig = {**fig, "round": r.get("round", 0)}
                self.by[(r["provider"], r["variant"], scenario)].append(fig)
                if r["variant"] == "baseline":
                    base[(r["provider"], fig["round"], scenario)] = fig
        self.ratios: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        for (provider, variant, scenario), figs in self.by.items():
            for fig in figs:
                b = base.get((provider, fig["round"], scenario))
                if b is None:
                    continue
                if scenario in THROUGHPUT:
                    self.ratios[(provider, variant, scenario)].append(fig["calls_per_s"] / b["calls_per_s"])
                else:
                    self.ratios[(provider, variant, scenario)].append(fig["median_us"] / b["median_us"])

    def value(self, provider: str, variant: str, scenario: str, key: str) -> float | None:
        return _med([f[key] for f in self.by.get((provider, variant, scenario), []) if key in f])

    def ratio(self, provider: str, variant: str, scenario: str) -> float | None:
        return _med(self.ratios.get((provider, variant, scenario), []))

    def added(self, provider: str, variant: str, scenario: str, key: str = "median_us") -> float | None:
        v, b = self.value(provider, variant, scenario, key), self.value(provider, "baseline", scenario, key)
        return None if v is None or b is None else v - b


def _paired(results: dict[str, Any], provider: str, variant: str, scenario: str) -> dict[str, Any] | None:
    for r in results.get("paired", []):
        if r.get("ok") and r["provider"] == provider and r["variant"] == variant:
            return dict(r["scenarios"].get(scenario) or {}) or None
    return None


def _check(ok: bool | None) -> str:
    return "–" if ok is None else ("✅" if ok else "❌")


def headline(results: dict[str, Any], lat: Latency) -> list[str]:
    out = ["## Targets (tracekit, local store, in-process transport)", ""]
    providers = sorted({p for (p, _, _) in lat.by}, key=lambda p: ("openai", "anthropic", "gemini").index(p))
    out.append("| target | " + " | ".join(providers) + " |")
    out.append("|---|" + "---|" * len(providers))

    def row(label: str, cells: list[str]) -> None:
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    tk = "tracekit_local"

    def paired_ratio(p: str, scenario: str) -> float | None:
        pair = _paired(results, p, tk, scenario)
        return (pair["off_median_us"] + pair["added_us"]) / pair["off_median_us"] if pair else None

    for scenario, label, limit in (
        ("plain", "non-streamed ≤ 1.10× baseline", 1.10),
        ("nested", "nested under @trace ≤ 1.15×", 1.15),
        ("stream", "20-chunk stream ≤ 1.10×", 1.10),
    ):
        cells = []
        for p in providers:
            r = lat.ratio(p, tk, scenario)
            pr = paired_ratio(p, scenario)
            paired = f"; paired {_fmt(pr, '.2f', '×')} {_check(pr <= limit if pr else None)}" if pr else ""
            cells.append(f"rounds {_fmt(r, '.2f', '×')} {_check(r <= limit if r else None)}{paired}")
        row(label, cells)
    cells = []
    for p in providers:
        pair = _paired(results, p, tk, "stream")
        per_chunk = pair["added_us"] / CHUNKS if pair else None
        cells.append(f"{_fmt(per_chunk, '.1f', ' µs')} {_check(per_chunk <= 5 if per_chunk is not None else None)}")
    row("stream: added per chunk ≤ 5 µs (paired)", cells)
    cells = []
    for p in providers:
        pair = _paired(results, p, tk, "plain")
        cpu = pair["added_cpu_us"] if pair else None
        cells.append(f"+{_fmt(cpu, '.0f', ' µs')} {_check(cpu <= 100 if cpu is not None else None)}")
    row("process CPU per call incl. export ≤ +100 µs (paired)", cells)
    for sc, label in (("threads", "8 threads throughput ≥ 0.90×"), ("tasks", "64 asyncio tasks throughput ≥ 0.90×")):
        cells = []
        for p in providers:
            r = lat.ratio(p, tk, sc)
            cells.append(f"{_fmt(r, '.2f', '×')} {_check(r >= 0.90 if r else None)}")
        row(label, cells)
    imp = results.get("imports", {}).get("import tracekit")
    v = imp["beyond_startup_ms"] if imp else None
    row(
        "`import tracekit` ≤ 30 ms beyond start-up",
        [f"{_fmt(v, '.1f', ' ms')} {_check(v <= 30 if v is not None else None)}"] + [""] * (len(providers) - 1),
    )
    cells = []
    for p in providers:
        t = _med(
            [r["autolog_ms"] for r in results.get("autolog", []) if r.get("ok") and r["variant"] == tk and r["provider"] == p]
        )
        cells.append(f"{_fmt(t, '.1f', ' ms')} {_check(t <= 10 if t is not None else None)}")
    row("`autolog()` ≤ 10 ms", cells)
    cells = []
    for p in providers:
        t = _med(
            [
                r["import_ms"]
                for r in results.get("autolog", [])
                if r.get("ok") and r["variant"] == tk and r["provider"] == p and "import_ms" in r
            ]
        )
        cells.append(f"{_fmt(t, '.1f', ' ms')}")
    row("(not a target) importing `tracekit.<provider>` before it", cells)
    rss = {r["variant"]: r for r in results.get("rss", []) if r.get("ok")}
    if tk in rss:
        g = rss[tk]["growth_bytes_per_call"]
        row(
            f"steady memory growth ≤ 1 B/call ({rss[tk]['calls']:,} calls)",
            [f"{g:.2f} B/call {_check(g <= 1)}"] + [""] * (len(providers) - 1),
        )
        if "baseline" in rss:
            d = rss[tk]["rss_end_mb"] - rss["baseline"]["rss_end_mb"]
            row("RSS ≤ baseline + 15 MB", [f"+{d:.1f} MB {_check(d <= 15)}"] + [""] * (len(providers) - 1))
    out.append("")
    out.append(
        "Ratios: per round, the variant's median over the baseline's median of the same round; the table"
        ' shows the median over rounds. "Paired": tracing off and on in alternating blocks inside one'
        " process (see below)."
    )
    return out


def latency_tables(lat: Latency, results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    providers = sorted({p for (p, _, _) in lat.by}, key=lambda p: ("openai", "anthropic", "gemini").index(p))
    for p in providers:
        variants = [v for v in LABELS if any(k[0] == p and k[1] == v for k in lat.by)]
        scenarios = [s for s in SCENARIO_LABELS if any(k[0] == p and k[2] == s for k in lat.by)]
        out += [f"### {p}: wall time per call", ""]
        out.append("median µs (×baseline) · p99 µs; throughput rows: calls/s (×baseline)")
        out.append("")
        out.append("| variant | " + " | ".join(SCENARIO_LABELS[s] for s in scenarios) + " |")
        out.append("|---|" + "---|" * len(scenarios))
        for v in variants:
            cells = []
            for s in scenarios:
                r = lat.ratio(p, v, s)
                if s in THROUGHPUT:
                    cells.append(f"{_fmt(lat.value(p, v, s, 'calls_per_s'))} ({_fmt(r, '.2f', '×')})")
                else:
                    cells.append(
                        f"{_fmt(lat.value(p, v, s, 'median_us'))} ({_fmt(r, '.2f', '×')}) · {_fmt(lat.value(p, v, s, 'p99_us'))}"
                    )
            out.append(f"| {LABELS[v]} | " + " | ".join(cells) + " |")
        out += ["", f"### {p}: process CPU per call, including the background export (flushed at the end of each scenario)", ""]
        out.append("CPU µs per call (added over baseline)")
        out.append("")
        out.append("| variant | " + " | ".join(SCENARIO_LABELS[s] for s in scenarios) + " |")
        out.append("|---|" + "---|" * len(scenarios))
        for v in variants:
            cells = []
            for s in scenarios:
                c = lat.value(p, v, s, "cpu_us")
                a = lat.added(p, v, s, "cpu_us")
                cells.append(f"{_fmt(c)} ({'+' if a is not None and a >= 0 else ''}{_fmt(a)})")
            out.append(f"| {LABELS[v]} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def paired_table(results: dict[str, Any]) -> list[str]:
    rows = [r for r in results.get("paired", []) if r.get("ok")]
    if not rows:
        return []
    out = [
        "## Paired: tracing off and on in alternating blocks in one process",
        "",
        "Blocks of calls in ABBA cycles (off, on, on, off); the figure is the median over cycles of"
        " (mean of the on blocks − mean of the off blocks) of the per-block median wall time, and of"
        " process CPU per call with the export flushed inside each block. A/A: the first off block"
        " against the second of the same cycle (median |difference|): the noise floor of the method.",
        "",
        "| provider | variant | scenario | off µs | added wall µs | A/A wall µs | added CPU µs | A/A CPU µs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for s, f in r["scenarios"].items():
            out.append(
                f"| {r['provider']} | {LABELS[r['variant']]} | {SCENARIO_LABELS[s]} | {f['off_median_us']:.0f} |"
                f" {f['added_us']:+.0f} | ±{f['aa_abs_us']:.0f} | {f['added_cpu_us']:+.0f} | ±{f['aa_abs_cpu_us']:.0f} |"
            )
    return out + [""]


def memory_table(results: dict[str, Any]) -> list[str]:
    rows = [r for r in results.get("rss", []) if r.get("ok")]
    if not rows:
        return []
    out = [
        "## Memory (openai, non-streamed, in-process)",
        "",
        "Steady growth: least-squares slope of RSS over the second half of the run.",
        "",
        "| variant | calls | RSS start MB | RSS end MB | peak MB | steady growth B/call | spans delivered / dropped |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        flushed = (r.get("proof") or {}).get("flush") or {}
        spans = f"{flushed.get('delivered', 0):,} / {flushed.get('dropped', 0):,}" if flushed else "–"
        out.append(
            f"| {LABELS[r['variant']]} | {r['calls']:,} | {r['rss_start_mb']:.1f} | {r['rss_end_mb']:.1f} |"
            f" {r['rss_peak_mb']:.1f} | {r['growth_bytes_per_call']:.2f} | {spans} |"
        )
    return out + [""]


def export_table(results: dict[str, Any]) -> list[str]:
    rows = [r for r in results.get("export", [])]
    if not rows:
        return []
    out = [
        "## Export throughput to a real MLflow server (openai, nested: 2 spans per call)",
        "",
        "Calls as fast as the app can make them, then a flush; delivered = read back from the server.",
        "",
        "| variant | calls | app time s | until delivered s | spans/s delivered | CPU µs/call | traces on server |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if not r.get("ok"):
            out.append(f"| {LABELS[r['variant']]} | crashed | | | | | |")
            continue
        out.append(
            f"| {LABELS[r['variant']]} | {r['calls']:,} | {r['produce_s']:.1f} | {r['deliver_s']:.1f} |"
            f" {r['spans_per_s']:.0f} | {r['cpu_us_per_call']:.0f} | {r['proof'].get('traces_on_server')} |"
        )
    return out + [""]


def import_table(results: dict[str, Any]) -> list[str]:
    imports = results.get("imports") or {}
    out = ["## Import and autolog() time", ""]
    if imports:
        out += ["| what | wall ms | beyond Python start-up ms |", "|---|---|---|"]
        for name, f in imports.items():
            out.append(f"| `{name}` | {f['total_ms']:.0f} | {f['beyond_startup_ms']:.1f} |")
        out.append("")
    auto: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in results.get("autolog", []):
        if r.get("ok"):
            auto[(r["variant"], r["provider"])].append(r["autolog_ms"])
    if auto:
        out += [
            "`autolog()` (or the peer's `instrument()`), SDK already imported, fresh process, median ms"
            " (tracekit: the `autolog()` call; importing `tracekit.<provider>` is timed apart, in the targets table;"
            " the peers: importing their instrumentor and `instrument()`):",
            "",
        ]
        providers = sorted({p for _, p in auto}, key=lambda p: ("openai", "anthropic", "gemini").index(p))
        out += ["| variant | " + " | ".join(providers) + " |", "|---|" + "---|" * len(providers)]
        for v in LABELS:
            if any(k[0] == v for k in auto):
                out.append(f"| {LABELS[v]} | " + " | ".join(_fmt(_med(auto.get((v, p), [])), ".1f") for p in providers) + " |")
        out.append("")
    return out


def proof_table(results: dict[str, Any]) -> list[str]:
    out = [
        "## Did every variant trace?",
        "",
        "Each worker counts the spans its variant produced (read back from the store, the server, or"
        " the exporter) against the calls it made, and checks that the reply text and the token usage"
        " were captured.",
        "",
        "| variant | provider | workers | spans produced / expected | verdicts |",
        "|---|---|---|---|---|",
    ]
    agg: dict[tuple[str, str], dict[str, Any]] = {}
    for mode in ("latency", "paired", "rss", "export"):
        for r in results.get(mode, []):
            a = agg.setdefault((r["variant"], r["provider"]), {"n": 0, "spans": 0, "expected": 0, "verdicts": set()})
            a["n"] += 1
            proof = r.get("proof") or {}
            a["spans"] += proof.get("spans") or 0
            a["expected"] += r.get("expected_spans") or 0
            a["verdicts"].add(r.get("verdict", "?"))
    for (v, p), a in sorted(agg.items(), key=lambda kv: (list(LABELS).index(kv[0][0]), kv[0][1])):
        if v == "baseline":
            continue
        out.append(f"| {LABELS[v]} | {p} | {a['n']} | {a['spans']:,} / {a['expected']:,} | {', '.join(sorted(a['verdicts']))} |")
    return out + [""]


def versions_block(results: dict[str, Any]) -> list[str]:
    v = results.get("versions", {})
    out = ["## Versions", ""]
    out.append(
        f"Python {v.get('python')} on {v.get('cpus')} CPUs ({v.get('machine')}); tracekit at {v.get('tracekit_commit')}; run took {results.get('seconds')} s."
    )
    out.append("")
    for venv, pkgs in v.items():
        if isinstance(pkgs, dict):
            out.append(f"- `{venv}`: " + ", ".join(f"{k} {val}" for k, val in pkgs.items()))
    return out + [""]


def core_table(results: dict[str, Any]) -> list[str]:
    core = results.get("core")
    if not core:
        return []
    return [
        "## tracekit's own cost, SDK stubbed (`bench/core_micro.py`)",
        "",
        "The caller thread's CPU time (not wall time: a busy machine preempts, it adds no"
        " instructions), minimum over repeats, with the SDK's work replaced by a canned response."
        " Robust where the wall-time tables above are noisy.",
        "",
        "| what (openai chat) | µs |",
        "|---|---|",
        f"| non-streamed call: tracekit on the caller's thread | {core['plain_us']:.0f} |",
        f"| the same under `@trace` (two spans) | {core['nested_us']:.0f} |",
        f"| {core['chunks']}-chunk stream, whole (span, chunks, finalize) | {core['stream_us']:.0f} |",
        f"| … of which the end-of-stream merge (`_openai_accumulate.accumulate_chat`) | {core['stream_accumulate_us']:.0f} |",
        f"| … the SDK's `ChatCompletionStreamState` on the same chunks (for comparison) | {core['stream_accumulate_sdk_us']:.0f} |",
        f"| local store: background CPU per span written | {core['store_cpu_us_per_span']:.0f} |",
        "",
    ]


def render(results: dict[str, Any]) -> str:
    lat = Latency(results.get("latency", []))
    parts = headline(results, lat) + [""]
    parts += ["## Per call, all variants (interleaved rounds)", ""] + latency_tables(lat, results)
    parts += core_table(results) + paired_table(results) + export_table(results) + memory_table(results) + import_table(results)
    parts += proof_table(results) + versions_block(results)
    return "\n".join(parts)

"""Finding traces by what they contain: the filters of ``tracekit traces list``.

Trace-level filters (name, status, time, session, user, tags) read the one-row-per-trace
``traces`` table. Span-level filters (model, span type, text search) ask whether the
trace has a matching span, through the ``spans`` primary key (``trace_id`` first), so
they cost one indexed probe per candidate trace. ``search`` is a case-insensitive
``LIKE`` over the previews and every span's inputs/outputs: a scan of the stored text,
slow on a huge store, but it needs no index to keep up to date.

Cost is summed per listed trace at read time from the LLM spans' cost attributes, so
the schema did not change for it (only the listed traces' spans are read).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit._model import TraceInfo

if TYPE_CHECKING:
    from tracekit._store._sqlite import SQLiteStore

__all__ = ["TraceFilter", "TraceMatches", "find_traces"]


@dataclasses.dataclass(frozen=True)
class TraceFilter:
    """What ``traces list`` asks for; every field left ``None``/empty matches all."""

    name: str | None = None
    status: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    session: str | None = None
    user: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    model: str | None = None
    span_type: str | None = None
    search: str | None = None


@dataclasses.dataclass(frozen=True)
class TraceMatches:
    """The newest matching traces, how many matched in all, and each listed trace's cost."""

    traces: list[TraceInfo]
    total: int
    cost_usd: dict[str, float]

    @property
    def more(self) -> int:
        """How many matching traces the limit left out."""
        return max(0, self.total - len(self.traces))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _json_key(key: str) -> str:
    # a JSON path quoting the whole key: attribute keys contain dots
    return '$."' + key.replace('"', '\\"') + '"'


def _where(f: TraceFilter) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.name:
        if any(c in f.name for c in "*?["):
            where.append("lower(t.name) GLOB ?")
        else:
            where.append("instr(lower(t.name), ?) > 0")
        params.append(f.name.lower())
    if f.status:
        where.append("t.status = ?")
        params.append(f.status.upper())
    if f.since_ns is not None:
        where.append("t.start_ns >= ?")
        params.append(f.since_ns)
    if f.until_ns is not None:
        where.append("t.start_ns < ?")
        params.append(f.until_ns)
    if f.session is not None:
        where.append("t.session_id = ?")
        params.append(f.session)
    if f.user is not None:
        where.append("t.user_id = ?")
        params.append(f.user)
    for key, value in f.tags:
        where.append("json_extract(t.tags, ?) = ?")
        params += [_json_key(key), value]
    if f.model:
        # the model attributes hold a plain string, or a JSON-encoded one (MLflow's style)
        keys = (attr.LLM_MODEL, attr.GEN_AI_RESPONSE_MODEL, attr.GEN_AI_REQUEST_MODEL)
        tests = " OR ".join("json_extract(s.attributes, ?) IN (?, ?)" for _ in keys)
        where.append(f"EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND ({tests}))")
        for key in keys:
            params += [_json_key(key), f.model, f'"{f.model}"']
    if f.span_type:
        where.append(
            "EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND upper(json_extract(s.summary, ?)) IN (?, ?))"
        )
        kind = f.span_type.upper()
        params += [_json_key(attr.SPAN_TYPE), kind, f'"{kind}"']
    if f.search:
        pattern = _like(f.search)
        where.append(
            "(lower(t.request_preview) LIKE ? ESCAPE '\\' OR lower(t.response_preview) LIKE ? ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id AND"
            " (lower(json_extract(s.attributes, ?)) LIKE ? ESCAPE '\\'"
            " OR lower(json_extract(s.attributes, ?)) LIKE ? ESCAPE '\\')))"
        )
        params += [pattern, pattern, _json_key(attr.SPAN_INPUTS), pattern, _json_key(attr.SPAN_OUTPUTS), pattern]
    return (" WHERE " + " AND ".join(where)) if where else "", params


#: a span's cost in USD: tracekit's own key, else MLflow's ``mlflow.llm.cost`` JSON
_SPAN_COST = (
    "COALESCE(json_extract(s.attributes, ?),"
    " CASE WHEN json_valid(json_extract(s.attributes, ?))"
    " THEN json_extract(json_extract(s.attributes, ?), '$.total_cost') END)"
)


def find_traces(store: SQLiteStore, f: TraceFilter, *, limit: int | None = 20) -> TraceMatches:
    """The newest traces matching ``f`` (at most ``limit``), the total count, their costs."""
    from tracekit._store._rows import _TRACE_COLUMNS, _trace_info

    where, params = _where(f)
    columns = ", ".join("t." + c.strip() for c in _TRACE_COLUMNS.split(","))
    with store._connect(create=False) as conn:
        if conn is None:
            return TraceMatches([], 0, {})
        rows = conn.execute(
            f"SELECT {columns} FROM traces t{where} ORDER BY t.start_ns DESC, t.trace_id LIMIT ?",
            [*params, -1 if limit is None else limit],
        ).fetchall()
        infos = [_trace_info(row) for row in rows]
        if limit is not None and len(infos) == limit:
            total = int(conn.execute(f"SELECT count(*) FROM traces t{where}", params).fetchone()[0])
        else:
            total = len(infos)
        costs = _costs(conn, [info.trace_id for info in infos])
    return TraceMatches(infos, total, costs)


def _costs(conn: sqlite3.Connection, trace_ids: Sequence[str]) -> dict[str, float]:
    costs: dict[str, float] = {}
    for i in range(0, len(trace_ids), 500):
        chunk = list(trace_ids[i : i + 500])
        marks = ",".join("?" * len(chunk))
        cost_key, mlflow_key = _json_key(attr.COST_TOTAL), _json_key(attr.LLM_COST)
        for trace_id, total in conn.execute(
            f"SELECT s.trace_id, sum({_SPAN_COST}) FROM spans s WHERE s.trace_id IN ({marks}) GROUP BY s.trace_id",
            [cost_key, mlflow_key, mlflow_key, *chunk],
        ):
            if total is not None:
                costs[str(trace_id)] = float(total)
    return costs

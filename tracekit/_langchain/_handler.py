"""The LangChain callback handler: one tracekit span per LangChain run.

Runs nest by ``parent_run_id`` (LangChain calls back from many threads and tasks; its
own parent links are the truth), and a run without a known parent nests under the
app's current tracekit span (``@trace``, ``start_span``). While a run executes its
span is the *current* tracekit span: LangChain copies the context after the start
callback into the thread or task that runs the body (``ContextThreadPoolExecutor``,
``run_in_executor``, ``asyncio`` tasks), so a provider SDK call or a ``@trace``
function inside a tool nests under the tool's span. That needs the callbacks to run
in the flow itself: ``run_inline = True`` (langchain-core otherwise runs a sync
handler of an async run in an executor thread, where a context change is lost). The end
callback may run elsewhere (LangGraph 1.x ends async runs in a shielded task), where the
activation cannot be undone: ``activate_until_end`` makes the flow pass over the span
once it ended.

A chat-model or LLM run offers its span to the provider autolog (``tracekit/_adopt.py``):
with ``tracekit.openai.autolog()`` on too, the SDK call records its wire-level details
into the run's span instead of opening a second one, and this handler then leaves the
model facts (inputs, outputs, usage, model) to it.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Mapping
from contextvars import Token
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from tracekit import _adopt, _errors, _llm
from tracekit import _attributes as attr
from tracekit._langchain import _mapping as m
from tracekit._span import NOOP_SPAN, Span, SpanType, _before, _current, _live, activate_until_end, current_span, open_span

_MESSAGE_FORMAT = "langchain"


class _Run:
    """What the handler keeps for one LangChain run until it ends."""

    __slots__ = (
        "chunks",
        "first_token_ns",
        "hidden",
        "inputs",
        "kind",
        "offer",
        "offer_token",
        "span",
        "start_ns",
        "token",
        "top",
    )

    def __init__(self, span: Span | None, kind: str, *, top: bool = False, hidden: bool = False) -> None:
        self.span = span
        self.kind = kind
        self.top = top
        self.hidden = hidden
        self.token: Token[Span | None] | None = None
        self.offer: _adopt.Offer | None = None
        self.offer_token: Token[_adopt.Offer | None] | None = None
        self.inputs: Any = None
        self.chunks = 0
        self.first_token_ns: int | None = None
        self.start_ns = 0


def _restore(token: Token[Span | None] | None, span: Span | None) -> None:
    """Undo the start callback's activation where it was made. The end may come from
    another task or thread (LangGraph ends async runs in a shielded task): the flow that
    started the run then still holds the span, which -- ended -- it passes over
    (``_span.activate_until_end``)."""
    if token is None:
        return
    try:
        _current.reset(token)
    except ValueError:
        pass


def _failed_already(span: Span) -> bool:
    otel = span._otel
    if otel is None:
        return True
    status = otel.status
    return not (status.is_unset or status.is_ok)


class TracekitCallbackHandler(BaseCallbackHandler):  # type: ignore[misc]
    """Records every LangChain run as a tracekit span (registered by ``tracekit.langchain.autolog()``)."""

    run_inline = True  # see the module docstring: the callbacks must run in the flow's context
    raise_error = False

    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[UUID, _Run] = {}
        self._activated: weakref.WeakSet[Span] = weakref.WeakSet()

    # --- lifecycle shared by every kind of run -------------------------------------
    def _start(
        self,
        kind: str,
        span_type: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        tags: Any,
        metadata: Any,
        activate: bool = True,
    ) -> _Run | None:
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        parent_span = parent.span if parent is not None else None
        if tags and m.HIDDEN_TAG in tags:
            # LangChain's own tracers hide these (LangGraph's writers, branches): their
            # children nest under the nearest shown run
            self._runs[run_id] = _Run(parent_span, kind, hidden=True)
            return None
        top = parent is None
        if kind == "chain":
            if top and m.is_agent(name, metadata):
                span_type = SpanType.AGENT.value
            elif parent is not None and parent.top and parent.kind == "chain" and m.is_graph_node(metadata):
                _make_agent(parent)
        if parent_span is None:
            parent_span = self._app_span()
        else:
            parent_span = self._inner(parent_span)
        outer = _current.set(parent_span)
        try:
            span = open_span(name, span_type)
        finally:
            _current.reset(outer)
        if span is NOOP_SPAN:
            # unsampled or tracing off: a marker of this run's own (activate_until_end
            # needs one per run); spans opened under it are no-ops too
            span = Span(None, name, span_type, None)
        run = _Run(span, kind, top=top)
        values: dict[str, Any] = {attr.LANGCHAIN_RUN_ID: str(run_id)}
        if tags:
            values[attr.LANGCHAIN_TAGS] = [str(t) for t in tags]
        if metadata:
            values[attr.LANGCHAIN_METADATA] = dict(metadata)
        span.set_attributes(values)
        self._runs[run_id] = run
        if activate:
            self._activated.add(span)
            run.token = activate_until_end(span)
        return run

    def _inner(self, parent: Span) -> Span:
        """The parent run's span, or a span the app opened inside that run (a ``@trace``
        function in a tool that invokes a chain: LangChain names the tool as the parent)."""
        span = current_span()
        if span is None or span is parent or span._ended or span in self._activated:
            return parent
        otel, parent_otel = span._otel, parent._otel
        if otel is None or parent_otel is None or span._root is not parent._root:
            return parent
        started, parent_started = otel.start_time, parent_otel.start_time
        if started is None or parent_started is None or started < parent_started:
            return parent
        return span

    def _app_span(self) -> Span | None:
        """The span a run LangChain knows no parent for nests under: the current span of
        the flow, passing over the spans of this handler's runs -- a run's activation is
        seen by runs LangChain starts beside it in the same flow (``RunnableSequence.batch``,
        ``generate()`` with several prompts), which are its siblings, not its children."""
        span = current_span()
        activated = self._activated
        while span is not None and span in activated:
            span = _before.get(span)
        return span

    def _end(self, run_id: UUID, outputs: Any = None, error: BaseException | None = None, record: Any = None) -> None:
        run = self._runs.pop(run_id, None)
        if run is None or run.hidden or run.span is None:
            return
        span = run.span
        try:
            if record is not None:
                record(run, span)
            if error is None:
                if outputs is not None:
                    span.set_outputs(outputs)
            elif isinstance(error, GeneratorExit):
                # the app stopped consuming a stream: cut short, not failed
                span.set_attributes({attr.STREAM_INCOMPLETE: True, attr.STREAM_END_REASON: "closed"})
            elif not _failed_already(span):
                span.record_exception(error)
        finally:
            span.end()
            if run.offer is not None:
                if run.offer_token is not None:
                    _adopt.withdraw(run.offer_token, run.offer)
                else:
                    _adopt.withdraw_detached(run.offer)
            _restore(run.token, span)

    # --- chains and graph nodes ----------------------------------------------------
    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        name: Any = None,
        **kwargs: Any,
    ) -> None:
        with _errors.handle_internal_errors("langchain.on_chain_start"):
            run = self._start(
                "chain", SpanType.CHAIN.value, run_id, parent_run_id, m.run_name(serialized, name, "chain"), tags, metadata
            )
            if run is not None and run.span is not None:
                run.span.set_inputs(m.chain_value(inputs))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, inputs: Any = None, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_chain_end"):
            self._end(run_id, m.chain_value(outputs), record=_late_inputs(inputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, inputs: Any = None, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_chain_error"):
            self._end(run_id, error=error, record=_late_inputs(inputs))

    # --- chat models and LLMs ------------------------------------------------------
    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        name: Any = None,
        **kwargs: Any,
    ) -> None:
        with _errors.handle_internal_errors("langchain.on_chat_model_start"):
            self._start_model(
                SpanType.CHAT_MODEL.value,
                m.chat_inputs(messages),
                serialized,
                run_id,
                parent_run_id,
                tags,
                metadata,
                name,
                kwargs,
            )

    def on_llm_start(
        self,
        serialized: Any,
        prompts: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        name: Any = None,
        **kwargs: Any,
    ) -> None:
        with _errors.handle_internal_errors("langchain.on_llm_start"):
            self._start_model(
                SpanType.LLM.value, m.prompt_inputs(prompts), serialized, run_id, parent_run_id, tags, metadata, name, kwargs
            )

    def _start_model(
        self,
        span_type: str,
        inputs: Any,
        serialized: Any,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: Any,
        metadata: Any,
        name: Any,
        kwargs: Mapping[str, Any],
    ) -> None:
        # several prompts in one generate() call: their runs share this flow, none is made current
        single = kwargs.get("batch_size", 1) == 1
        name = m.run_name(serialized, name, "llm")
        run = self._start("llm", span_type, run_id, parent_run_id, name, tags, metadata, activate=single)
        if run is None or run.span is None:
            return
        run.start_ns = time.time_ns()
        params = kwargs.get("invocation_params")
        requested = m.requested_model(metadata, params if isinstance(params, Mapping) else None)
        provider = (metadata or {}).get("ls_provider")
        # recorded at the end, unless the provider autolog recorded the wire-level request
        run.inputs = (inputs, requested, provider if isinstance(provider, str) and provider else None)
        if not single:
            # each SDK call takes the oldest waiting offer: generate() serves its prompts in order
            run.offer = _adopt.offer_detached(run.span, current_span())
        elif _in_gathered_task():
            # langchain-core 0.3 runs async model-start handlers in tasks of their own: the
            # activation above is lost when this returns, so the offer waits detached
            token = run.token
            outer = _live(token.old_value) if token is not None and token.old_value is not Token.MISSING else None
            run.offer = _adopt.offer_detached(run.span, outer)
        else:
            run.offer, run.offer_token = _adopt.offer(run.span)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        run.chunks += 1
        if run.first_token_ns is None:
            run.first_token_ns = time.time_ns()

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_llm_end"):
            self._end(run_id, record=lambda run, span: _record_model(run, span, response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_llm_error"):
            self._end(run_id, error=error, record=lambda run, span: _record_model(run, span, kwargs.get("response")))

    # --- tools -------------------------------------------------------------------
    def on_tool_start(
        self,
        serialized: Any,
        input_str: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        name: Any = None,
        inputs: Any = None,
        **kwargs: Any,
    ) -> None:
        with _errors.handle_internal_errors("langchain.on_tool_start"):
            run = self._start(
                "tool", SpanType.TOOL.value, run_id, parent_run_id, m.run_name(serialized, name, "tool"), tags, metadata
            )
            if run is not None and run.span is not None:
                run.span.set_inputs(inputs if inputs is not None else input_str)
                call_id = kwargs.get("tool_call_id")
                if isinstance(call_id, str):
                    run.span.set_attribute("gen_ai.tool.call.id", call_id)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_tool_end"):
            self._end(run_id, m.tool_output(output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_tool_error"):
            self._end(run_id, error=error)

    # --- retrievers --------------------------------------------------------------
    def on_retriever_start(
        self,
        serialized: Any,
        query: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: Any = None,
        metadata: Any = None,
        name: Any = None,
        **kwargs: Any,
    ) -> None:
        with _errors.handle_internal_errors("langchain.on_retriever_start"):
            kind = SpanType.RETRIEVER.value
            run = self._start("retriever", kind, run_id, parent_run_id, m.run_name(serialized, name, "retriever"), tags, metadata)
            if run is not None and run.span is not None:
                run.span.set_inputs({"query": query})

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_retriever_end"):
            self._end(run_id, m.documents(documents))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with _errors.handle_internal_errors("langchain.on_retriever_error"):
            self._end(run_id, error=error)


def _in_gathered_task() -> bool:
    """True when this callback runs in a task langchain-core made just for it (0.3's
    ``asyncio.gather`` of ``ahandle_event`` coroutines), not in the run's own flow."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return False
    if task is None:
        return False
    return getattr(task.get_coro(), "__qualname__", "") in ("ahandle_event", "_ahandle_event_for_handler")


def _make_agent(run: _Run) -> None:
    """A top-level chain whose children are graph nodes is the agent (LangGraph graph)."""
    span = run.span
    if span is not None and span.span_type == SpanType.CHAIN.value:
        span.span_type = SpanType.AGENT.value
        span.set_attribute(attr.SPAN_TYPE, SpanType.AGENT.value)


def _late_inputs(inputs: Any) -> Any:
    """Streamed chains learn their input at the end (``on_chain_end(inputs=...)``)."""
    if inputs is None:
        return None
    return lambda run, span: span.set_inputs(m.chain_value(inputs))


def _record_model(run: _Run, span: Span, response: Any) -> None:
    """The model facts LangChain knows, unless the provider autolog recorded them."""
    if run.offer is not None and run.offer.taken:
        return
    values: dict[str, Any] = {attr.MESSAGE_FORMAT: _MESSAGE_FORMAT}
    if run.chunks:
        values[attr.STREAM] = True
        values[attr.STREAM_CHUNKS] = run.chunks
        if run.first_token_ns is not None:
            ttft_ms = round((run.first_token_ns - run.start_ns) / 1e6, 3)
            values[attr.STREAM_TTFT_MS] = ttft_ms
            span.add_event(attr.FIRST_TOKEN_EVENT, {"time_to_first_token_ms": ttft_ms}, run.first_token_ns)
    inputs, requested, provider = run.inputs
    if provider:
        values[attr.GEN_AI_PROVIDER] = provider
        values[attr.LLM_PROVIDER] = provider
    span.set_attributes(values)
    span.set_inputs(inputs)
    record = _llm.CallRecord()
    record.request_model = requested
    _llm.write(span, record)
    if response is None:
        return
    span.set_outputs(m.llm_outputs(response))
    record.response_model = m.served_model(response)
    used = m.usage(response)
    if used:
        record.usage = _llm.Usage(
            used.get("input"),
            used.get("output"),
            used.get("total"),
            cache_read=used.get("cache_read") or None,
            cache_creation=used.get("cache_creation") or None,
            reasoning=used.get("reasoning") or None,
        )
    _llm.write(span, record)

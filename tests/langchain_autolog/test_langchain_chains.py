"""Chains without an agent: a retriever chain (RETRIEVER, and EMBEDDING from the provider
autolog), a streamed chat model (stream / astream / astream_events accumulated), an LLM
error, and ChatAnthropic with the Anthropic autolog."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough
from lc_helpers import shape, tree, usage

import tracekit
from tracekit import _attributes as attr
from tracekit.testing import FakeLLMServer, SpanCapture

REPLY = "Hello! This is the fake LLM server."
DOCS = ["Paris is sunny today.", "Oslo is cold today.", "Lima is foggy today."]


class KeywordRetriever(BaseRetriever):
    """A tiny in-memory retriever: the documents sharing a word with the query."""

    docs: list[str]

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        words = {w for w in query.lower().replace("?", "").split() if len(w) > 3}
        return [Document(page_content=d, metadata={"n": i}) for i, d in enumerate(self.docs) if words & set(d.lower().split())]


class EmbeddingRetriever(BaseRetriever):
    """A tiny vector retriever: the document whose embedding is nearest the query's."""

    docs: list[str]
    embeddings: Any

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        wanted = self.embeddings.embed_query(query)
        vectors = self.embeddings.embed_documents(self.docs)
        scores = [sum(a * b for a, b in zip(wanted, v, strict=True)) for v in vectors]
        best = scores.index(max(scores))
        return [Document(page_content=self.docs[best])]


def _rag_chain(retriever: Any, llm: Any) -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", "Answer from: {context}"), ("human", "{question}")])

    def join(docs: list[Document]) -> str:
        return "\n".join(d.page_content for d in docs)

    return {"context": retriever | join, "question": RunnablePassthrough()} | prompt | llm | StrOutputParser()


def test_retriever_chain(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    server.set_scenario("text")
    chain = _rag_chain(KeywordRetriever(docs=DOCS), llm)

    @tracekit.trace
    def app(question: str) -> str:
        return str(chain.invoke(question))

    assert app("Is Paris sunny?") == REPLY
    [trace] = captured.traces
    assert len(trace.spans) == 10
    assert shape(trace) == (
        "app", "CHAIN", "OK", (
            ("RunnableSequence", "CHAIN", "OK", (
                ("ChatOpenAI", "CHAT_MODEL", "OK", ()),
                ("ChatPromptTemplate", "CHAIN", "OK", ()),
                ("RunnableParallel<context,question>", "CHAIN", "OK", (
                    ("RunnablePassthrough", "CHAIN", "OK", ()),
                    ("RunnableSequence", "CHAIN", "OK", (
                        ("KeywordRetriever", "RETRIEVER", "OK", ()),
                        ("join", "CHAIN", "OK", ()),
                    )),
                )),
                ("StrOutputParser", "CHAIN", "OK", ()),
            )),
        ),
    )  # fmt: skip
    [retriever] = trace.find(span_type="RETRIEVER")
    assert retriever.inputs == {"query": "Is Paris sunny?"}
    assert retriever.outputs == [{"page_content": "Paris is sunny today.", "metadata": {"n": 0}}]
    [model] = trace.find(span_type="CHAT_MODEL")
    assert trace.info.token_usage == usage(model)
    assert model.attributes[attr.MESSAGE_FORMAT] == ("openai" if provider else "langchain")
    system = server.requests[0].json["messages"][0]
    assert system == {"role": "system", "content": "Answer from: Paris is sunny today."}
    assert trace.root is not None and trace.root.outputs == REPLY


# langchain-openai 0.2.0 (the oldest supported) calls pydantic's deprecated .dict()
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
def test_embedding_retriever_shows_the_embedding_calls(llm: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    from langchain_openai import OpenAIEmbeddings

    server.set_scenario("text")
    # check_embedding_ctx_length=False: no tiktoken download, texts go as they are
    embeddings = OpenAIEmbeddings(
        model="text-embedding-3-small", base_url=server.openai_base_url, api_key="k", check_embedding_ctx_length=False
    )
    chain = _rag_chain(EmbeddingRetriever(docs=DOCS, embeddings=embeddings), llm)
    tracekit.openai.autolog()
    try:
        captured.clear()
        tracekit.trace(name="app")(chain.invoke)("Is Paris sunny?")
    finally:
        tracekit.openai.autolog(disable=True)
    [trace] = captured.traces
    [retriever] = trace.find(span_type="RETRIEVER")
    assert retriever.name == "EmbeddingRetriever"
    # LangChain has no embedding runs: the provider autolog's spans nest under the retriever
    embeddings_spans = trace.find(span_type="EMBEDDING")
    # the query, then the documents (one request for all in langchain-openai 1.x, one each in 0.2)
    assert len(embeddings_spans) in (2, 1 + len(DOCS))
    assert {s.name for s in embeddings_spans} == {"embeddings text-embedding-3-small"}
    assert all(s.parent_id == retriever.span_id for s in embeddings_spans)
    assert len(retriever.outputs) == 1


def test_stream_accumulates(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    server.set_scenario("text")
    llm = llm.model_copy(update={"stream_usage": True})
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | llm | StrOutputParser()
    assert "".join(tracekit.trace(name="app")(lambda: list(chain.stream({"q": "hi"})))()) == REPLY
    _check_stream(captured, provider)


async def test_astream_accumulates(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    server.set_scenario("text")
    llm = llm.model_copy(update={"stream_usage": True})
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | llm | StrOutputParser()

    @tracekit.trace
    async def app() -> str:
        return "".join([piece async for piece in chain.astream({"q": "hi"})])

    assert await app() == REPLY
    _check_stream(captured, provider)


async def test_astream_events_accumulates(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    server.set_scenario("text")
    llm = llm.model_copy(update={"stream_usage": True})
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | llm | StrOutputParser()

    @tracekit.trace
    async def app() -> str:
        pieces = []
        async for event in chain.astream_events({"q": "hi"}, version="v2"):
            if event["event"] == "on_chat_model_stream":
                pieces.append(event["data"]["chunk"].content)
        return "".join(pieces)

    assert await app() == REPLY
    _check_stream(captured, provider)


def _check_stream(captured: SpanCapture, provider: bool) -> None:
    [trace] = captured.traces
    assert [row[1:3] for row in tree(trace)] == [
        ("app", "CHAIN"),
        ("RunnableSequence", "CHAIN"),
        ("ChatPromptTemplate", "CHAIN"),
        ("ChatOpenAI", "CHAT_MODEL"),
        ("StrOutputParser", "CHAIN"),
    ]
    assert all(s.status == "OK" for s in trace.spans)
    [model] = trace.find(span_type="CHAT_MODEL")
    assert model.attributes[attr.STREAM] is True
    assert model.attributes[attr.STREAM_CHUNKS] >= 20
    assert [e["name"] for e in model.events] == [attr.FIRST_TOKEN_EVENT]
    u = usage(model)
    assert u is not None and u["output_tokens"] == 20
    assert trace.info.token_usage == u
    if provider:
        assert model.outputs["choices"][0]["message"]["content"] == REPLY
        assert model.attributes[attr.STREAM_END_REASON] == "exhausted"
    else:
        assert model.outputs == {"role": "ai", "content": REPLY}
    [sequence] = trace.find(name="RunnableSequence")
    assert sequence.inputs == {"q": "hi"}
    assert sequence.outputs == REPLY


def test_model_error(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    import openai

    server.set_scenario("error_429")
    with pytest.raises(openai.RateLimitError):
        tracekit.trace(name="app")(llm.invoke)("hi")
    [trace] = captured.traces
    assert tree(trace) == [(0, "app", "CHAIN", "ERROR"), (1, "ChatOpenAI", "CHAT_MODEL", "ERROR")]
    [model] = trace.find(span_type="CHAT_MODEL")
    [event] = model.events  # recorded once, whichever side saw it first
    # the SDK's error, or langchain-openai's subclass of it when only LangChain saw it
    assert event["attributes"]["exception.type"].endswith("RateLimitError")
    assert model.inputs is not None
    if provider:
        assert model.attributes[attr.HTTP_STATUS_CODE] == 429


def test_chat_anthropic_is_one_span_per_call(server: FakeLLMServer, captured: SpanCapture) -> None:
    pytest.importorskip("langchain_anthropic")
    from langchain_anthropic import ChatAnthropic

    import tracekit.anthropic

    server.set_scenario("text")
    for on in (False, True):
        if on:
            tracekit.anthropic.autolog()
        # a fresh client per round: langchain-anthropic calls messages.with_raw_response.create,
        # which the anthropic SDK binds once per client
        model = ChatAnthropic(model="claude-sonnet-4-5", base_url=server.anthropic_base_url, api_key="k", max_retries=0)
        try:
            captured.clear()
            assert tracekit.trace(name="app")(model.invoke)("hi").content == REPLY
        finally:
            tracekit.anthropic.autolog(disable=True)
        [trace] = captured.traces
        assert tree(trace) == [(0, "app", "CHAIN", "OK"), (1, "ChatAnthropic", "CHAT_MODEL", "OK")]
        [span] = trace.find(span_type="CHAT_MODEL")
        assert span.attributes[attr.LLM_PROVIDER] == "anthropic"
        assert span.attributes[attr.MESSAGE_FORMAT] == ("anthropic" if on else "langchain")
        assert trace.info.token_usage == usage(span) and usage(span) is not None
        assert json.loads(span.attributes[attr.LANGCHAIN_METADATA])["ls_provider"] == "anthropic"


def test_stream_cut_short_ends_every_span_and_leaves_no_current_span(
    llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture
) -> None:
    server.set_scenario("text")
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | llm | StrOutputParser()

    @tracekit.trace
    def app() -> str:
        stream = chain.stream({"q": "hi"})
        first = next(stream) + next(stream) + next(stream)
        stream.close()  # the app stops reading
        return first

    assert REPLY.startswith(app())
    # nothing of the cut stream stays current in the app's flow
    assert tracekit.get_current_span().is_recording is False
    with tracekit.start_span("after") as after:
        pass
    assert after.trace_id != captured.traces[0].info.trace_id
    trace = captured.traces[0]
    # every run ended, none as failed (langchain-core 1.x reports a closed stream as ended;
    # where a release reports GeneratorExit the span is marked incomplete, not ERROR)
    assert [s.name for s in trace.spans if s.end_time_ns is None] == []
    assert {s.status for s in trace.spans} == {"OK"}
    assert {s.name for s in trace.spans} == {"app", "RunnableSequence", "ChatPromptTemplate", "ChatOpenAI", "StrOutputParser"}


# langchain-openai 1.8 warns while combining several prompts' llm_output (its own doing)
@pytest.mark.filterwarnings("ignore:Unexpected type for token usage:UserWarning")
def test_several_prompts_and_batches_are_siblings(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    from langchain_core.messages import HumanMessage

    server.set_scenario("text")

    @tracekit.trace
    def app() -> None:
        llm.generate([[HumanMessage("first prompt")], [HumanMessage("second prompt")]])
        chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | llm | StrOutputParser()
        assert chain.batch([{"q": "one"}, {"q": "two"}]) == [REPLY, REPLY]

    app()
    [trace] = captured.traces
    assert shape(trace) == (
        "app", "CHAIN", "OK", (
            ("ChatOpenAI", "CHAT_MODEL", "OK", ()),
            ("ChatOpenAI", "CHAT_MODEL", "OK", ()),
            ("RunnableSequence", "CHAIN", "OK", (
                ("ChatOpenAI", "CHAT_MODEL", "OK", ()),
                ("ChatPromptTemplate", "CHAIN", "OK", ()),
                ("StrOutputParser", "CHAIN", "OK", ()),
            )),
            ("RunnableSequence", "CHAIN", "OK", (
                ("ChatOpenAI", "CHAT_MODEL", "OK", ()),
                ("ChatPromptTemplate", "CHAIN", "OK", ()),
                ("StrOutputParser", "CHAIN", "OK", ()),
            )),
        ),
    )  # fmt: skip
    models = trace.find(span_type="CHAT_MODEL")
    # each model span holds its own prompt (also when the provider autolog filled it)
    texts = sorted(json.dumps(m.inputs) for m in models)
    for prompt, text in zip(("first prompt", "one", "second prompt", "two"), texts, strict=True):
        assert prompt in text
    assert trace.info.token_usage is not None
    assert trace.info.token_usage["output_tokens"] == 4 * 20  # four calls, each counted once

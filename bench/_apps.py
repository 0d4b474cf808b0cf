"""The benchmark's "application": real SDK clients talking to tracekit's fake LLM.

Runs in every variant's virtualenv (tracekit's and the peers'), so it imports only the
provider SDKs, ``httpx2`` and ``tracekit.testing`` (the fake server; nothing of
tracekit's tracing). Every call checks what the app received, so that a variant that
broke the SDK call cannot win.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

TEXT = "Hello! This is the fake LLM server."
CHUNKS = 20  # the fake server's default: 20 content chunks, 20 completion tokens
MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Say hello to the benchmark."},
]
PROVIDERS = ("openai", "anthropic", "gemini")

SyncCall = Callable[[], str]
AsyncCall = Callable[[], Awaitable[str]]


class App:
    """Clients of one provider, over the in-process transport or loopback HTTP."""

    def __init__(self, provider: str, http_url: str | None = None) -> None:
        import httpx2

        from tracekit.testing._fakeserver import AsyncFakeTransport, FakeLLM, FakeTransport

        self.provider = provider
        self.fake = FakeLLM()  # in-process: the fake answers in the calling thread
        transport = httpx2.Client(transport=FakeTransport(self.fake))
        atransport = httpx2.AsyncClient(transport=AsyncFakeTransport(self.fake))
        self.client = _client(provider, "http://fake.invalid", transport, is_async=False)
        self.aclient = _client(provider, "http://fake.invalid", atransport, is_async=True)
        self.http_client = None
        if http_url:
            self.http_client = _client(provider, http_url, httpx2.Client(), is_async=False)

    def clear(self) -> None:
        """The fake keeps every request; forget them between blocks (memory)."""
        self.fake.clear()

    def call(self, stream: bool, http: bool = False) -> SyncCall:
        client = self.http_client if http else self.client
        return _SYNC[self.provider](client, stream)

    def acall(self, stream: bool) -> AsyncCall:
        return _ASYNC[self.provider](self.aclient, stream)


def _client(provider: str, base: str, http_client: Any, is_async: bool) -> Any:
    if provider == "openai":
        import openai

        cls = openai.AsyncOpenAI if is_async else openai.OpenAI
        return cls(api_key="bench-key", base_url=base.rstrip("/") + "/v1", max_retries=0, http_client=http_client)
    if provider == "anthropic":
        import anthropic

        acls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
        return acls(api_key="bench-key", base_url=base, max_retries=0, http_client=http_client)
    if provider == "gemini":
        from google import genai
        from google.genai import types

        key = "httpx_async_client" if is_async else "httpx_client"
        client = genai.Client(api_key="bench-key", http_options=types.HttpOptions(base_url=base, **{key: http_client}))
        return client.aio if is_async else client
    raise ValueError(provider)


def _check(text: str) -> str:
    if text != TEXT:
        raise AssertionError(f"the app received {text!r}, not the fake's reply")
    return text


# --- OpenAI chat completions ---------------------------------------------------------


def _openai(client: Any, stream: bool) -> SyncCall:
    create = client.chat.completions.create
    if not stream:
        return lambda: _check(create(model="gpt-4o-mini", messages=MESSAGES).choices[0].message.content)

    def run() -> str:
        parts = []
        for chunk in create(model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}):
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        return _check("".join(parts))

    return run


def _aopenai(client: Any, stream: bool) -> AsyncCall:
    create = client.chat.completions.create

    async def plain() -> str:
        return _check((await create(model="gpt-4o-mini", messages=MESSAGES)).choices[0].message.content)

    async def streamed() -> str:
        parts = []
        response = await create(model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        return _check("".join(parts))

    return streamed if stream else plain


# --- Anthropic messages --------------------------------------------------------------

_SYSTEM = MESSAGES[0]["content"]
_USER = MESSAGES[1:]


def _anthropic(client: Any, stream: bool) -> SyncCall:
    create = client.messages.create
    if not stream:
        return lambda: _check(create(model="claude-sonnet-4-5", max_tokens=256, system=_SYSTEM, messages=_USER).content[0].text)

    def run() -> str:
        parts = []
        for event in create(model="claude-sonnet-4-5", max_tokens=256, system=_SYSTEM, messages=_USER, stream=True):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                parts.append(event.delta.text)
        return _check("".join(parts))

    return run


def _aanthropic(client: Any, stream: bool) -> AsyncCall:
    create = client.messages.create

    async def plain() -> str:
        reply = await create(model="claude-sonnet-4-5", max_tokens=256, system=_SYSTEM, messages=_USER)
        return _check(reply.content[0].text)

    async def streamed() -> str:
        parts = []
        events = await create(model="claude-sonnet-4-5", max_tokens=256, system=_SYSTEM, messages=_USER, stream=True)
        async for event in events:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                parts.append(event.delta.text)
        return _check("".join(parts))

    return streamed if stream else plain


# --- Gemini generate_content ---------------------------------------------------------

_CONTENTS = [{"role": "user", "parts": [{"text": MESSAGES[1]["content"]}]}]


def _gemini_config() -> Any:
    from google.genai import types

    return types.GenerateContentConfig(system_instruction=_SYSTEM)


def _gemini(client: Any, stream: bool) -> SyncCall:
    models = client.models
    config = _gemini_config()
    if not stream:
        return lambda: _check(models.generate_content(model="gemini-2.5-flash", contents=_CONTENTS, config=config).text)

    def run() -> str:
        parts = [
            c.text or "" for c in models.generate_content_stream(model="gemini-2.5-flash", contents=_CONTENTS, config=config)
        ]
        return _check("".join(parts))

    return run


def _agemini(client: Any, stream: bool) -> AsyncCall:
    models = client.models
    config = _gemini_config()

    async def plain() -> str:
        reply = await models.generate_content(model="gemini-2.5-flash", contents=_CONTENTS, config=config)
        return _check(reply.text)

    async def streamed() -> str:
        chunks = await models.generate_content_stream(model="gemini-2.5-flash", contents=_CONTENTS, config=config)
        return _check("".join([(c.text or "") async for c in chunks]))

    return streamed if stream else plain


_SYNC: dict[str, Callable[[Any, bool], SyncCall]] = {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini}
_ASYNC: dict[str, Callable[[Any, bool], AsyncCall]] = {"openai": _aopenai, "anthropic": _aanthropic, "gemini": _agemini}


# --- proof that a variant traced ---------------------------------------------------------


def has_text(attributes: dict[str, Any]) -> bool:
    """Some attribute holds the reply text (whole, or accumulated from the stream)."""
    return any(isinstance(v, str) and TEXT in v for v in attributes.values()) or any(
        isinstance(v, (list, tuple)) and any(isinstance(x, str) and TEXT in x for x in v) for v in attributes.values()
    )


def has_usage(attributes: dict[str, Any]) -> bool:
    """Some attribute holds the reply's completion token count (the fake's 20)."""
    for key, value in attributes.items():
        k = key.lower()
        if "token" not in k:
            continue
        if isinstance(value, int) and value == CHUNKS and any(s in k for s in ("output", "completion", "candidates")):
            return True
        if isinstance(value, str) and ('"output_tokens":20' in value.replace(" ", "")):
            return True
    return False

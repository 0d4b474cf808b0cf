"""The transport-independent core: route, record, pick a scenario, answer."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
from typing import Any

from . import _anthropic, _gemini, _openai
from ._model import FakeRequest, FakeResponse, json_response
from ._scenarios import Call, ScenarioError, ScenarioOptions, check_scenario, select_scenario

__all__ = ["FakeLLM", "route"]

logger = logging.getLogger("tracekit.testing.fakeserver")

# Routing looks only at the end of the path, so any gateway prefix works:
# /v1/chat/completions, /gateway/openai/v1/chat/completions,
# /serving-endpoints/chat/completions, /gemini/v1beta/models/m:generateContent...
_SUFFIXES: tuple[tuple[str, str, str], ...] = (
    ("/messages/count_tokens", "anthropic", "count_tokens"),
    ("/messages", "anthropic", "messages"),
    ("/chat/completions", "openai", "chat"),
    ("/completions", "openai", "completions"),
    ("/responses", "openai", "responses"),
    ("/embeddings", "openai", "embeddings"),
)
_GEMINI = re.compile(r"/(?:tuned)?[mM]odels/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$")
_GEMINI_METHODS = frozenset({"generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents", "countTokens"})


def route(path: str) -> tuple[str, str, str | None] | None:
    """(provider, endpoint, model-from-path) for a request path, or None."""
    path = path.rstrip("/")
    match = _GEMINI.search(path)
    if match and match.group("method") in _GEMINI_METHODS:
        return "gemini", match.group("method"), match.group("model")
    for suffix, provider, endpoint in _SUFFIXES:
        if path.endswith(suffix):
            return provider, endpoint, None
    return None


_ERRORS = {"openai": _openai.error_response, "anthropic": _anthropic.error_response, "gemini": _gemini.error_response}
_HANDLERS = {"openai": _openai.handle, "anthropic": _anthropic.handle, "gemini": _gemini.handle}


class FakeLLM:
    """The fake model behind every transport: answers requests and records them.

    Thread-safe. ``FakeLLMServer`` serves one over HTTP and ``FakeTransport``
    in process; pass the same instance to both to share scenario and records.

    Example::

        app = FakeLLM(scenario="tool_call")
        client = OpenAI(api_key="k", base_url="http://fake/v1",
                        http_client=httpx2.Client(transport=FakeTransport(app)))
    """

    def __init__(self, scenario: str = "text", **options: Any) -> None:
        self._lock = threading.Lock()
        self._requests: list[FakeRequest] = []
        self._scenario = check_scenario(scenario)
        self._options = ScenarioOptions.create(**options)

    # ------------------------------------------------------------------ configuration

    def set_scenario(self, name: str = "text", **options: Any) -> None:
        """Make ``name`` the default scenario, with the given options.

        Options not given return to their defaults. Requests still override the
        default with the ``x-fake-scenario`` header or a ``[scenario:<name>]`` marker.
        """
        check_scenario(name)
        built = ScenarioOptions.create(**options)
        with self._lock:
            self._scenario, self._options = name, built

    @property
    def scenario(self) -> str:
        """The default scenario name."""
        return self._scenario

    @property
    def options(self) -> ScenarioOptions:
        """The default scenario options."""
        return self._options

    # ------------------------------------------------------------------ records

    @property
    def requests(self) -> list[FakeRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> FakeRequest | None:
        """The most recent request, or None."""
        with self._lock:
            return self._requests[-1] if self._requests else None

    def clear(self) -> None:
        """Forget recorded requests and restart the id counter at 1."""
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """``clear()`` and return to the ``text`` scenario with default options."""
        with self._lock:
            self._requests.clear()
            self._scenario, self._options = "text", ScenarioOptions()

    # ------------------------------------------------------------------ serving

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one request (never raises: a fake-server bug becomes a 500)."""
        if request.method == "GET" and request.path.rstrip("/") in ("", "/health", "/healthz"):
            return json_response(200, {"status": "ok"})
        routed = route(request.path)
        provider, endpoint, path_model = routed if routed else (None, None, None)
        with self._lock:
            default, options = self._scenario, self._options
        scenario: str | None = None
        problem: str | None = None
        try:
            scenario, options = select_scenario(request, default, options)
        except ScenarioError as exc:
            problem = str(exc)
        body = request.json if isinstance(request.json, dict) else {}
        stream = endpoint == "streamGenerateContent" or body.get("stream") is True
        record = dataclasses.replace(request, provider=provider, endpoint=endpoint, scenario=scenario, stream=stream)
        with self._lock:
            self._requests.append(record)
            number = len(self._requests)

        if provider is None or endpoint is None:
            return json_response(
                404,
                {
                    "error": {
                        "message": f"fake LLM server: no route for {request.method} {request.path}",
                        "type": "invalid_request_error",
                        "code": "unknown_url",
                    }
                },
            )
        error = _ERRORS[provider]
        if problem is not None or scenario is None:
            return error(None, 400, problem)
        if request.body and not isinstance(request.json, dict):
            return error(None, 400, "fake LLM server: the request body is not a JSON object")
        model = path_model or str(body.get("model") or "unknown-model")
        call = Call(request=record, body=body, scenario=scenario, options=options, number=number, model=model, stream=stream)
        try:
            return _dress(_HANDLERS[provider](call, endpoint), options)
        except Exception as exc:  # a bug here must not take the test server down
            logger.exception("fake LLM server failed to answer %s %s", request.method, request.path)
            return error(call, 500, f"fake LLM server internal error: {exc!r}")


def _dress(response: FakeResponse, options: ScenarioOptions) -> FakeResponse:
    """Add the options' extra response headers; put ``error_body`` on an error answer."""
    changes: dict[str, Any] = {}
    if options.response_headers:
        changes["headers"] = [*response.headers, *options.response_headers.items()]
    if options.error_body is not None and response.status >= 400 and response.chunks is None:
        changes["body"] = json.dumps(options.error_body).encode()
    return dataclasses.replace(response, **changes) if changes else response

"""``@trace`` arguments whose names mark them as secrets are recorded as a marker (issue 9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import tracekit
from tracekit import _config
from tracekit._redact import MARKER, is_secret_name
from tracekit.testing import SpanCapture

ROOT = Path(__file__).resolve().parents[2]

SECRET_NAMES = [
    "api_key", "apiKey", "APIKey", "OPENAI_API_KEY", "x-api-key", "apikey",
    "password", "user_password", "passwd", "pwd", "passphrase",
    "token", "access_token", "refreshToken", "auth_token", "id_token",
    "secret", "client_secret", "authorization", "auth",
    "credential", "credentials", "private_key", "aws_secret_access_key", "access_key",
    "session_key", "signing_key", "cookie",
]  # fmt: skip
PLAIN_NAMES = [
    "max_tokens", "token_count", "tokens", "num_tokens", "tokenizer", "max_output_tokens",
    "key", "cache_key", "sort_key", "primary_key", "keys", "secret_name", "password_policy",
    "author", "authority", "query", "messages", "model", "temperature", "session_id", "user",
]  # fmt: skip


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_names_that_only_look_like_secrets(name: str) -> None:
    assert not is_secret_name(name)


def test_secret_arguments_are_recorded_as_the_marker_in_every_shape(captured: SpanCapture) -> None:
    @tracekit.trace
    def call(prompt: str, api_key: str, max_tokens: int = 5, *, token_count: int = 0, **options: Any) -> str:
        return "ok"

    class Client:
        @tracekit.trace
        def login(self, user: str, password: str) -> bool:
            return True

    @tracekit.trace
    def positional_only(secret: str, /, n: int) -> int:
        return n

    @tracekit.trace
    def gen(token: str) -> Iterator[int]:
        yield 1

    @tracekit.trace
    async def agen(clientSecret: str) -> AsyncIterator[int]:
        yield 1

    @tracekit.trace
    async def coro(authorization: str) -> int:
        return 1

    import asyncio

    assert call("hi", "sk-1", token_count=3, headers={"x": 1}, Access_Token="sk-2") == "ok"
    assert call(prompt="hi", api_key="sk-1") == "ok"
    assert Client().login("ann", "hunter2") is True
    assert positional_only("sk-3", 2) == 2
    assert list(gen("sk-4")) == [1]

    async def main() -> None:
        assert [x async for x in agen("sk-5")] == [1]
        assert await coro("Bearer sk-6") == 1

    asyncio.run(main())
    inputs = [s.inputs for s in captured.spans]
    assert inputs == [
        {
            "prompt": "hi",
            "api_key": MARKER,
            "max_tokens": 5,
            "token_count": 3,
            "options": {"headers": {"x": 1}, "Access_Token": MARKER},
        },
        {"prompt": "hi", "api_key": MARKER, "max_tokens": 5, "token_count": 0, "options": {}},
        {"user": "ann", "password": MARKER},
        {"secret": MARKER, "n": 2},
        {"token": MARKER},
        {"clientSecret": MARKER},
        {"authorization": MARKER},
    ]
    assert not any(f"sk-{i}" in json.dumps(inputs) for i in range(1, 7))


def test_a_function_without_a_signature_still_redacts_its_keyword_arguments(captured: SpanCapture) -> None:
    class Weird:
        __signature__ = property(lambda self: (_ for _ in ()).throw(ValueError("no signature")))

        def __call__(self, *args: Any, **kwargs: Any) -> int:
            return 1

    traced = tracekit.trace(Weird(), name="weird")
    assert traced("a", password="hunter2") == 1
    assert "hunter2" not in json.dumps(captured.spans[0].inputs)


def test_redact_arguments_setting(captured: SpanCapture) -> None:
    @tracekit.trace
    def signup(email: str, ssn: str, card_pin: str, password: str) -> None: ...

    tracekit.configure(redact_arguments=["ssn", "*_PIN"])  # case-insensitive globs, on top of the rule
    signup("a@b.c", "123-45-6789", "0000", "pw")
    tracekit.configure(redact_arguments=False)
    signup("a@b.c", "123-45-6789", "0000", "pw")
    tracekit.configure(redact_arguments=True)
    signup("a@b.c", "123-45-6789", "0000", "pw")
    assert [s.inputs for s in captured.spans] == [
        {"email": "a@b.c", "ssn": MARKER, "card_pin": MARKER, "password": MARKER},
        {"email": "a@b.c", "ssn": "123-45-6789", "card_pin": "0000", "password": "pw"},
        {"email": "a@b.c", "ssn": "123-45-6789", "card_pin": "0000", "password": MARKER},
    ]
    assert tracekit.get_settings().redact_arguments is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [("false", False), ("0", False), ("true", True), ("", True), ("ssn, *_pin", ("*_pin", "ssn"))],
)
def test_redact_arguments_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: object) -> None:
    monkeypatch.setenv("TRACEKIT_REDACT_ARGUMENTS", value)
    _config.reset()
    assert tracekit.get_settings().redact_arguments == expected


def test_redact_arguments_environment_in_a_fresh_process(tmp_path: Path) -> None:
    code = (
        "import json, tracekit\n"
        "from tracekit.testing import capture\n"
        "@tracekit.trace\n"
        "def f(api_key, ssn): return 1\n"
        "with capture() as spans:\n"
        "    f('sk-1', '123')\n"
        "print(json.dumps(spans.spans[0].inputs))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env.update({"TRACEKIT_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)})
    outputs = []
    for setting in ("ssn", "off"):
        env["TRACEKIT_REDACT_ARGUMENTS"] = setting
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    assert outputs == [{"api_key": MARKER, "ssn": MARKER}, {"api_key": "sk-1", "ssn": "123"}]

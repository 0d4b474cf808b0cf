"""A configuration mistake never breaks the app's calls (issue 9).

Explicit set-up calls raise one-line ConfigErrors; everything the app runs -- traced
SDK calls, ``@trace`` functions, spans, the exit hook -- goes on untraced after one
ERROR line. Environment behaviour is tested in fresh interpreters, as an app sees it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tracekit
from tracekit import _config
from tracekit.testing import FakeLLMServer, SpanCapture

ROOT = Path(__file__).resolve().parents[2]

# An app as a user writes it: set-up, a decorated function, a span, a traced SDK call.
APP = """
import json, sys, openai, tracekit
outcome = {}
try:
    tracekit.openai.autolog()
    outcome["autolog"] = "ok"
except tracekit.ConfigError as exc:
    outcome["autolog"] = str(exc)
if sys.argv[2] == "patched-before":
    pass
@tracekit.trace
def add(x, y):
    return x + y
outcome["add"] = add(1, 2)
with tracekit.start_span("block") as span:
    outcome["recording"] = span.is_recording
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="sk-test")
reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
outcome["reply"] = reply.choices[0].message.content
outcome["flush"] = tracekit.flush(timeout=5).delivered
print(json.dumps(outcome))
"""


def _run(tmp_path: Path, code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    clean.update({"TRACEKIT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=clean, timeout=60)


def _app(tmp_path: Path, server: FakeLLMServer, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    done = _run(tmp_path, APP, env, server.url, "")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TRACEKIT_SAMPLE_RATE", "abc", "TRACEKIT_SAMPLE_RATE='abc' is invalid: expected a number from 0.0 to 1.0"),
        ("TRACEKIT_OUTBOX_MAX_BYTES", "abc", "TRACEKIT_OUTBOX_MAX_BYTES='abc' is invalid: expected a whole number"),
        ("TRACEKIT_EXPORT_INTERVAL", "0", "TRACEKIT_EXPORT_INTERVAL='0' is invalid: expected a number from 0.01"),
        ("TRACEKIT_MAX_ATTRIBUTE_LENGTH", "-5", "TRACEKIT_MAX_ATTRIBUTE_LENGTH='-5' is invalid: expected a whole number"),
        ("TRACEKIT_TRACKING_URI", "s3://bucket", "TRACEKIT_TRACKING_URI='s3://bucket' is invalid: expected sqlite:///PATH"),
        ("TRACEKIT_EXPERIMENT_ID", "١٢", "TRACEKIT_EXPERIMENT_ID='١٢' is invalid: expected a numeric MLflow experiment id"),
    ],
)
def test_a_bad_variable_is_one_error_line_and_the_app_runs_untraced(
    tmp_path: Path, server: FakeLLMServer, name: str, value: str, expected: str
) -> None:
    outcome, stderr = _app(tmp_path, server, {name: value})
    # the explicit set-up call says exactly what is wrong, on one line
    assert outcome["autolog"].startswith(expected)
    assert "\n" not in outcome["autolog"]
    # the app's own calls all work, untraced
    assert outcome["add"] == 3
    assert outcome["recording"] is False
    assert outcome["reply"] == "Hello! This is the fake LLM server."
    assert outcome["flush"] == 0
    # one ERROR line, no traceback, not even at exit
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == [f"tracekit: configuration error, tracing is off: {expected}" + lines[0].split(expected, 1)[1]]
    assert "`tracekit status` shows it" in lines[0]
    assert "Traceback" not in stderr


def test_an_unknown_variable_is_a_warning_naming_the_closest_one(tmp_path: Path, server: FakeLLMServer) -> None:
    outcome, stderr = _app(tmp_path, server, {"TRACEKIT_SAMPEL_RATE": "0.5", "TRACEKIT_FOO": "1"})
    assert outcome == {
        "autolog": "ok",
        "add": 3,
        "recording": True,
        "reply": "Hello! This is the fake LLM server.",
        "flush": 3,  # add, block and the chat span: tracing is on
    }
    assert stderr.splitlines() == [
        "tracekit: TRACEKIT_FOO is not a tracekit variable and is ignored; did you mean TRACEKIT_HOME?",
        "tracekit: TRACEKIT_SAMPEL_RATE is not a tracekit variable and is ignored; did you mean TRACEKIT_SAMPLE_RATE?",
    ]


def test_calls_patched_before_the_environment_went_bad_never_raise(tmp_path: Path, server: FakeLLMServer) -> None:
    # autolog() succeeded, then the environment changed (a .env file loaded late) and the
    # settings are read again: the SDK call, @trace and the exit hook must not raise
    code = """
import json, os, sys, openai, tracekit
from tracekit import _config
tracekit.openai.autolog()
os.environ["TRACEKIT_SAMPLE_RATE"] = "half"
os.environ["TRACEKIT_MAX_QUEUE_SIZE"] = "0"
_config.reset()
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="sk-test")
reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
traced = tracekit.trace(lambda: 7)
print(json.dumps([reply.choices[0].message.content, traced(), tracekit.flush().delivered]))
"""
    done = _run(tmp_path, code, {}, server.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["Hello! This is the fake LLM server.", 7, 0]
    (line,) = done.stderr.splitlines()
    assert line.startswith(
        "tracekit: configuration error, tracing is off: TRACEKIT_SAMPLE_RATE='half' is invalid: expected a number "
        "from 0.0 to 1.0; TRACEKIT_MAX_QUEUE_SIZE='0' is invalid: expected a whole number from 1 up"
    )


def test_tracekit_debug_adds_the_traceback(tmp_path: Path) -> None:
    code = "import tracekit\nwith tracekit.start_span('x') as s:\n    print(s.is_recording)\n"
    done = _run(tmp_path, code, {"TRACEKIT_SAMPLE_RATE": "abc", "TRACEKIT_DEBUG": "1"})
    assert done.stdout.strip() == "False"
    assert "configuration error, tracing is off" in done.stderr
    assert "tracekit._errors.ConfigError: TRACEKIT_SAMPLE_RATE='abc'" in done.stderr
    assert "Stack (most recent call last)" in done.stderr  # where the settings were first read


def test_status_shows_the_problem_and_the_unknown_variables(tmp_path: Path) -> None:
    env = {"TRACEKIT_SAMPLE_RATE": "abc", "TRACEKIT_EXPORT_INTERVAL": "0", "TRACEKIT_SAMPEL_RATE": "1"}
    done = _run(tmp_path, "from tracekit._cli import main; raise SystemExit(main(['status']))", env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "config:       ERROR, tracing is off: TRACEKIT_SAMPLE_RATE='abc' is invalid: expected a number from 0.0 to 1.0; "
        "TRACEKIT_EXPORT_INTERVAL='0' is invalid: expected a number from 0.01 to 3600.0"
    )
    assert lines[1] == "warning:      TRACEKIT_SAMPEL_RATE is not a tracekit variable (did you mean TRACEKIT_SAMPLE_RATE?)"
    assert lines[2].startswith("destination:  sqlite:///")
    assert done.stderr == ""
    as_json = _run(tmp_path, "from tracekit._cli import main; raise SystemExit(main(['status', '--json']))", env)
    status = json.loads(as_json.stdout)
    assert status["config_error"].startswith("TRACEKIT_SAMPLE_RATE='abc' is invalid")
    assert status["unknown_variables"] == [{"name": "TRACEKIT_SAMPEL_RATE", "closest": "TRACEKIT_SAMPLE_RATE"}]


# --- in-process: explicit calls ---------------------------------------------------------


def test_explicit_calls_validate_the_whole_environment_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEKIT_SAMPLE_RATE", "abc")
    monkeypatch.setenv("TRACEKIT_EXPORT_BATCH_SIZE", "0")
    _config.reset()
    for call in (
        lambda: tracekit.configure(capture_content=True),
        lambda: tracekit.set_tracking_uri("sqlite:///x.db"),
        lambda: tracekit.set_experiment("e"),
        tracekit.autolog,
        tracekit.openai.autolog,
    ):
        with pytest.raises(tracekit.ConfigError) as raised:
            call()
        assert str(raised.value) == (
            "TRACEKIT_SAMPLE_RATE='abc' is invalid: expected a number from 0.0 to 1.0; "
            "TRACEKIT_EXPORT_BATCH_SIZE='0' is invalid: expected a whole number from 1 to 100000"
        )
        assert [e.setting for e in raised.value.errors] == ["TRACEKIT_SAMPLE_RATE", "TRACEKIT_EXPORT_BATCH_SIZE"]
    tracekit.autolog(disable=True)  # turning off never needs a valid configuration


def test_fixing_the_environment_and_calling_autolog_turns_tracing_back_on(
    monkeypatch: pytest.MonkeyPatch, captured: SpanCapture
) -> None:
    monkeypatch.setenv("TRACEKIT_SAMPLE_RATE", "abc")
    _config.reset()
    assert tracekit.get_settings().enabled is False
    assert _config.problem() is not None
    monkeypatch.setenv("TRACEKIT_SAMPLE_RATE", "1")
    tracekit.autolog()
    assert _config.problem() is None
    with tracekit.start_span("back"):
        pass
    assert [s.name for s in captured.spans] == ["back"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"export_interval": 0}, "export_interval=0 is invalid: expected a number from 0.01 to 3600.0"),
        ({"export_interval": math.nan}, "export_interval=nan is invalid"),
        ({"sample_rate": math.inf}, "sample_rate=inf is invalid"),
        ({"sample_rate": "nan"}, "sample_rate='nan' is invalid"),
        ({"max_attribute_length": math.inf}, "max_attribute_length=inf is invalid: expected a whole number from 256 up"),
        ({"max_queue_size": "inf"}, "max_queue_size='inf' is invalid"),
        ({"max_queue_size": "١٢"}, "max_queue_size='١٢' is invalid"),
        ({"sample_rate": "\u0660.\u0665"}, "sample_rate='\u0660.\u0665' is invalid"),  # Arabic-Indic 0.5
        ({"export_batch_size": 0}, "export_batch_size=0 is invalid"),
        ({"exit_timeout": -1}, "exit_timeout=-1 is invalid"),
        ({"export_timeout": 0}, "export_timeout=0 is invalid"),
        ({"export_retry_budget": math.inf}, "export_retry_budget=inf is invalid"),
        ({"experiment_id": "١٢"}, "experiment_id='١٢' is invalid: expected a numeric MLflow experiment id"),
        ({"experiment_id": "²"}, "experiment_id='²' is invalid"),
        ({"tracking_uri": "http://host:0"}, "tracking_uri='http://host:0' is invalid"),
        ({"tracking_uri": "http://my host:5000"}, "tracking_uri='http://my host:5000' is invalid"),
        ({"redact_arguments": 3}, "redact_arguments=3 is invalid: expected true (secret-named arguments), false"),
        ({"redact_arguments": ["ok", ""]}, "redact_arguments=['ok', ''] is invalid"),
    ],
)
def test_values_that_cannot_work_are_refused_at_configuration_time(options: dict[str, object], message: str) -> None:
    before = tracekit.get_settings()
    with pytest.raises(tracekit.ConfigError) as raised:
        tracekit.configure(**options)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert tracekit.get_settings() == before


def test_a_config_error_never_shows_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(tracekit.ConfigError) as raised:
        tracekit.set_tracking_uri("ftp://bob:hunter2@host/?token=abc")
    assert "hunter2" not in str(raised.value) and "abc" not in str(raised.value)
    assert str(raised.value).startswith("tracking_uri='ftp://***@host/?token=***' is invalid")


def test_conflicting_mlflow_tls_variables_are_a_configuration_error_not_an_internal_one(
    monkeypatch: pytest.MonkeyPatch, captured: SpanCapture
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com")
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", "/etc/ca.pem")
    _config.reset()
    with tracekit.start_span("x") as span:  # strict mode: an internal error would fail the test
        assert span.is_recording is False
    with pytest.raises(tracekit.ConfigError, match="MLFLOW_TRACKING_INSECURE_TLS='true' is invalid: expected unset"):
        tracekit.configure()


def test_a_misspelt_setting_names_the_closest_one() -> None:
    with pytest.raises(tracekit.ConfigError) as raised:
        tracekit.configure(sample_rat=0.5)
    message = str(raised.value)
    assert message.startswith("sample_rat=0.5 is invalid: expected one of the settings: enabled, tracking_uri")
    assert message.endswith(" (did you mean sample_rate?)")
    assert all(name in message for name in ("redact_arguments", "propagate_context", "propagate_threads", "store_max_mb"))

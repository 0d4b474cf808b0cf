"""Configuration precedence and every ConfigError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tracekit
from tracekit import _config
from tracekit.testing import SpanCapture


def test_defaults(tmp_path: Path) -> None:
    settings = tracekit.get_settings()
    assert settings.enabled is True
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'tracekit-home' / 'traces.db'}"
    assert settings.store_path == tmp_path / "tracekit-home" / "traces.db"
    assert settings.sample_rate == 1.0
    assert settings.experiment_name is None


def test_precedence_explicit_over_tracekit_env_over_mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow-env:5000")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-mlflow")
    _config.reset()
    assert tracekit.get_settings().tracking_uri == "http://mlflow-env:5000"
    assert tracekit.get_settings().experiment_name == "from-mlflow"

    monkeypatch.setenv("TRACEKIT_TRACKING_URI", "https://tracekit-env")
    monkeypatch.setenv("TRACEKIT_EXPERIMENT_NAME", "from-tracekit")
    _config.reset()
    assert tracekit.get_settings().tracking_uri == "https://tracekit-env"
    assert tracekit.get_settings().experiment_name == "from-tracekit"

    tracekit.set_tracking_uri("http://127.0.0.1:5001/")
    tracekit.set_experiment("explicit")
    settings = tracekit.get_settings()
    assert settings.tracking_uri == "http://127.0.0.1:5001"
    assert settings.experiment_name == "explicit"


def test_environment_numbers_and_booleans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEKIT_SAMPLE_RATE", "0.25")
    monkeypatch.setenv("TRACEKIT_CAPTURE_CONTENT", "no")
    monkeypatch.setenv("TRACEKIT_MAX_QUEUE_SIZE", "10")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "7")
    _config.reset()
    settings = tracekit.get_settings()
    assert (settings.sample_rate, settings.capture_content, settings.max_queue_size) == (0.25, False, 10)
    assert settings.experiment_id == "7"


def test_mlflow_uri_that_is_not_a_server_falls_back_to_local_store_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "databricks")
    _config.reset()
    assert tracekit.get_settings().is_local
    assert "not an http(s) tracking server" in caplog.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tracking_uri": "ftp://x"}, "tracking_uri='ftp://x' is invalid: expected sqlite:///PATH (local store), http"),
        ({"tracking_uri": "sqlite://relative"}, "tracking_uri='sqlite://relative' is invalid"),
        ({"tracking_uri": "http://host:notaport"}, "tracking_uri='http://host:notaport' is invalid"),
        ({"tracking_uri": ""}, "tracking_uri='' is invalid"),
        ({"sample_rate": 2}, "sample_rate=2 is invalid: expected a number from 0.0 to 1.0"),
        ({"sample_rate": "half"}, "sample_rate='half' is invalid: expected a number from 0.0 to 1.0"),
        ({"sample_rate": True}, "sample_rate=True is invalid"),
        ({"max_queue_size": 0}, "max_queue_size=0 is invalid: expected a whole number from 1 up"),
        ({"max_queue_size": 1.5}, "max_queue_size=1.5 is invalid"),
        ({"max_attribute_length": 10}, "max_attribute_length=10 is invalid: expected a whole number from 256 up"),
        ({"export_interval": -1}, "export_interval=-1 is invalid"),
        ({"enabled": "maybe"}, "enabled='maybe' is invalid: expected a boolean"),
        ({"experiment_id": "abc"}, "experiment_id='abc' is invalid: expected a numeric MLflow experiment id"),
        ({"experiment_name": ""}, "experiment_name='' is invalid: expected a non-empty string"),
        ({"mask": 3}, "mask=3 is invalid: expected a callable"),
        ({"sample_rat": 0.5}, "sample_rat=0.5 is invalid: expected one of the settings: enabled, tracking_uri"),
        ({"redact_argument": 1}, "redact_argument=1 is invalid: expected one of the settings: "),
    ],
)
def test_bad_settings_raise_config_error_naming_setting_value_and_forms(options: dict[str, object], message: str) -> None:
    before = tracekit.get_settings()
    with pytest.raises(tracekit.ConfigError) as raised:
        tracekit.configure(**options)
    assert str(raised.value).startswith(message)
    assert tracekit.get_settings() == before  # a rejected call changes nothing


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRACEKIT_SAMPLE_RATE", "lots", "TRACEKIT_SAMPLE_RATE='lots' is invalid: expected a number from 0.0 to 1.0"),
        ("TRACEKIT_TRACKING_URI", "s3://bucket", "TRACEKIT_TRACKING_URI='s3://bucket' is invalid"),
        ("TRACEKIT_DISABLED", "perhaps", "TRACEKIT_DISABLED='perhaps' is invalid: expected a boolean"),
        ("TRACEKIT_OUTBOX_MAX_BYTES", "lots", "TRACEKIT_OUTBOX_MAX_BYTES='lots' is invalid: expected a whole number"),
        ("TRACEKIT_EXPORT_INTERVAL", "0", "TRACEKIT_EXPORT_INTERVAL='0' is invalid: expected a number from 0.01"),
        ("MLFLOW_EXPERIMENT_ID", "١٢", "MLFLOW_EXPERIMENT_ID='١٢' is invalid: expected a numeric MLflow experiment id"),
    ],
)
def test_bad_environment_raises_at_configuration_time(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    _config.reset()
    with pytest.raises(tracekit.ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        tracekit.configure()


def test_bad_environment_never_raises_from_decorating_a_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEKIT_SAMPLE_RATE", "lots")
    _config.reset()

    @tracekit.trace
    def f() -> int:
        return 1

    assert f() == 1
    assert tracekit.get_settings().enabled is False


def test_kill_switch_env_and_configure(monkeypatch: pytest.MonkeyPatch, captured: SpanCapture) -> None:
    @tracekit.trace
    def f(x: int) -> int:
        return x + 1

    monkeypatch.setenv("TRACEKIT_DISABLED", "1")
    _config.reset()
    assert f(1) == 2
    with tracekit.start_span("s") as span:
        assert span.is_recording is False
    assert captured.spans == []
    monkeypatch.delenv("TRACEKIT_DISABLED")
    tracekit.configure(enabled=False)
    assert f(1) == 2
    assert captured.spans == []
    tracekit.configure(enabled=True)
    assert f(1) == 2
    assert len(captured.spans) == 1


def test_head_sampling_is_decided_once_per_trace_at_the_root(captured: SpanCapture) -> None:
    tracekit.configure(sample_rate=0.5)

    @tracekit.trace
    def child() -> None: ...

    @tracekit.trace
    def root() -> None:
        child()
        child()

    for _ in range(400):
        root()
    traces = captured.traces
    assert 120 < len(traces) < 280  # ~200 expected; very loose so it never flakes
    assert all(len(t.spans) == 3 for t in traces)  # whole traces, never partial ones
    tracekit.configure(sample_rate=0.0)
    root()
    assert len(captured.traces) == len(traces)


def test_import_tracekit_imports_no_provider_sdk_nor_the_otel_sdk() -> None:
    code = (
        "import sys, tracekit\n"
        "bad = [m for m in ('openai', 'anthropic', 'google.genai', 'opentelemetry.sdk', 'wrapt') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_is_sorted_and_honest() -> None:
    assert tracekit.__all__ == sorted(tracekit.__all__)
    for name in tracekit.__all__:
        assert getattr(tracekit, name) is not None
        assert getattr(tracekit, name).__doc__, f"{name} has no docstring"


def test_every_tracekit_variable_the_package_reads_is_known() -> None:
    # an unknown TRACEKIT_* variable draws a warning, so one the package itself reads must never be
    import re

    package = Path(tracekit.__file__).parent
    used = {m for path in package.rglob("*.py") for m in re.findall(r"TRACEKIT_[A-Z_]+[A-Z]", path.read_text())}
    assert used - _config.KNOWN_ENV == set()

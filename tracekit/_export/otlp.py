"""OTLP/HTTP (protobuf) to any OpenTelemetry backend, from the standard variables.

Read, with the ``_TRACES_`` form winning over the general one (as in the
OpenTelemetry specification and its Python SDK):

* ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as is) or ``OTEL_EXPORTER_OTLP_ENDPOINT``
  (``/v1/traces`` appended);
* ``OTEL_EXPORTER_OTLP_[TRACES_]HEADERS``: ``key=value,key2=value2``, values URL-decoded;
* ``OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION``: ``gzip`` or ``none`` (default ``gzip``
  here: every collector accepts it);
* ``OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT``: seconds, as the Python SDK reads it;
* ``OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE``, ``..._CLIENT_CERTIFICATE``, ``..._CLIENT_KEY``;
* ``OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL``: only ``http/protobuf`` is spoken; ``grpc``
  is reported once and the destination is skipped rather than mis-sent;
* ``TRACEKIT_OTLP_ATTRIBUTES``: which extra attribute families the spans carry for
  backends that do not read MLflow's keys (``genai,openinference`` by default, see
  :mod:`tracekit._export._semconv`), or ``none``.

Headers may hold API keys: they are never written to the outbox, so a later process
(or ``tracekit sync``) needs the same variables to resend.

>>> otlp_config({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}).endpoint
'http://collector:4318/v1/traces'
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tracekit._export._http import HttpClient
from tracekit._export._semconv import FAMILIES, parse_families, with_semconv
from tracekit._export._sender import ReliableExporter
from tracekit._redact import needs_credentials, redact_url

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["OtlpConfig", "OtlpExporter", "otlp_config", "parse_headers"]

logger = logging.getLogger("tracekit")


@dataclasses.dataclass(frozen=True)
class OtlpConfig:
    endpoint: str
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    compression: str = "gzip"
    timeout: float = 10.0
    certificate: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    attribute_families: tuple[str, ...] = FAMILIES


def parse_headers(text: str) -> dict[str, str]:
    """Parse ``key=value,key2=value2`` (W3C baggage style, URL-encoded values).

    >>> parse_headers("api-key=abc%20def, x-team = ml")
    {'api-key': 'abc def', 'x-team': 'ml'}
    """
    headers: dict[str, str] = {}
    for item in text.split(","):
        if "=" not in item:
            continue
        key, value = item.split("=", 1)
        key = unquote(key.strip()).strip()
        if key:
            headers[key] = unquote(value.strip()).strip()
    return headers


def _get(environ: Mapping[str, str], name: str) -> str | None:
    for key in (f"OTEL_EXPORTER_OTLP_TRACES_{name}", f"OTEL_EXPORTER_OTLP_{name}"):
        value = environ.get(key, "").strip()
        if value:
            return value
    return None


def otlp_config(environ: Mapping[str, str]) -> OtlpConfig | None:
    """The OTLP destination the environment names, or None (pure).

    Raises ``ValueError`` for a protocol tracekit does not speak.
    """
    traces_endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if traces_endpoint:
        endpoint = traces_endpoint
    elif base:
        endpoint = base.rstrip("/") + "/v1/traces"
    else:
        return None
    protocol = (_get(environ, "PROTOCOL") or "http/protobuf").lower()
    if protocol != "http/protobuf":
        raise ValueError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: tracekit sends OTLP over http/protobuf only; "
            "point it at the backend's OTLP/HTTP port (usually 4318)"
        )
    compression = (_get(environ, "COMPRESSION") or "gzip").lower()
    if compression not in ("gzip", "none"):
        raise ValueError(f"OTEL_EXPORTER_OTLP_COMPRESSION={compression!r}: expected gzip or none")
    timeout_text = _get(environ, "TIMEOUT")
    try:
        timeout = float(timeout_text) if timeout_text else 10.0
    except ValueError:
        raise ValueError(f"OTEL_EXPORTER_OTLP_TIMEOUT={timeout_text!r}: expected seconds") from None
    return OtlpConfig(
        endpoint=endpoint,
        headers=parse_headers(_get(environ, "HEADERS") or ""),
        compression=compression,
        timeout=timeout if timeout > 0 else 10.0,
        certificate=_get(environ, "CERTIFICATE"),
        client_certificate=_get(environ, "CLIENT_CERTIFICATE"),
        client_key=_get(environ, "CLIENT_KEY"),
        attribute_families=parse_families(environ.get("TRACEKIT_OTLP_ATTRIBUTES")),
    )


class OtlpExporter(ReliableExporter):
    """Span exporter for any OTLP/HTTP endpoint, with the same retries and outbox as MLflow's.

    >>> OtlpExporter(OtlpConfig("http://127.0.0.1:4318/v1/traces")).describe()
    'http://127.0.0.1:4318/v1/traces'
    """

    label = "OTLP endpoint"

    def __init__(
        self,
        config: OtlpConfig,
        *,
        retry_budget: float = 15.0,
        outbox_root: Path | None = None,
        outbox_max_bytes: int | None = None,
    ) -> None:
        self.config = config
        cert: str | tuple[str, str] | None = None
        if config.client_certificate:
            cert = (config.client_certificate, config.client_key) if config.client_key else config.client_certificate
        client = HttpClient(config.headers, verify=config.certificate or True, cert=cert, timeout=config.timeout)
        super().__init__(
            {"kind": "otlp", "endpoint": redact_url(config.endpoint)},  # no credentials on disk
            client,
            retry_budget=retry_budget,
            outbox_root=outbox_root,
            outbox_max_bytes=outbox_max_bytes,
            compress=config.compression == "gzip",
        )

    @classmethod
    def from_destination(cls, destination: Mapping[str, Any], environ: Mapping[str, str], **kwargs: Any) -> OtlpExporter:
        """Rebuild the exporter an outbox directory was written for; headers and TLS
        come from ``environ`` when it names the same endpoint (credentials in the endpoint
        too: the outbox keeps it redacted). Raises ``ValueError`` when they are needed
        and the environment does not give them."""
        endpoint = str(destination["endpoint"])
        try:
            config = otlp_config(environ)
        except ValueError:
            config = None
        if config is None or redact_url(config.endpoint) != endpoint:
            if needs_credentials(endpoint):
                raise ValueError(
                    f"{endpoint}: the outbox keeps no credentials; set OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT "
                    "to the full endpoint to resend"
                )
            config = OtlpConfig(endpoint)
        return cls(config, **kwargs)

    def describe(self) -> str:
        return redact_url(self.config.endpoint)

    def _prepare(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        return with_semconv(spans, self.config.attribute_families) if self.config.attribute_families else spans

    def _url(self) -> str:
        return self.config.endpoint

"""Run in the Phoenix virtualenv: one OpenAI call traced by OpenInference's own
instrumentor, exported to Phoenix, so the tests can compare tracekit's spans with it.

    python openinference_openai.py PHOENIX_URL PROJECT OPENAI_BASE_URL REQUEST_JSON
"""

import json
import sys

import openai
from openinference.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

endpoint, project, base_url, request = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
provider = TracerProvider(resource=Resource({"openinference.project.name": project}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces")))
OpenAIInstrumentor().instrument(tracer_provider=provider)
client = openai.OpenAI(base_url=base_url, api_key="k", max_retries=0)
stream = request.pop("stream", False)
if stream:
    for _ in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **request):
        pass
else:
    client.chat.completions.create(**request)
provider.shutdown()

"""Every span-attribute key tracekit writes, in one place.

Three families:

* ``mlflow.*``: what the MLflow tracking server and UI read (see MLFLOW_SERVER.md).
* ``gen_ai.*`` / ``server.*`` / ``error.*``: the OpenTelemetry GenAI semantic
  conventions, so that any OTLP backend understands the spans.
* ``tracekit.*``: our own facts that neither family has a key for.
"""

from __future__ import annotations

from typing import Final

# --- MLflow ------------------------------------------------------------------------
SPAN_TYPE: Final = "mlflow.spanType"
SPAN_INPUTS: Final = "mlflow.spanInputs"
SPAN_OUTPUTS: Final = "mlflow.spanOutputs"
TOKEN_USAGE: Final = "mlflow.chat.tokenUsage"
MESSAGE_FORMAT: Final = "mlflow.message.format"
CHAT_TOOLS: Final = "mlflow.chat.tools"
LLM_MODEL: Final = "mlflow.llm.model"
LLM_PROVIDER: Final = "mlflow.llm.provider"
#: JSON {"input_cost", "output_cost", "total_cost"} in USD: the shape MLflow 3.17 writes
#: (mlflow.tracing.constant.CostKey) and sums into the trace's cost; a span that has it is
#: not priced again by the server
LLM_COST: Final = "mlflow.llm.cost"
TRACE_TAG_PREFIX: Final = "mlflow.traceTag."
TRACE_NAME: Final = "mlflow.traceTag.mlflow.traceName"
TRACE_METADATA_PREFIX: Final = "mlflow.traceMetadata."
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"

# keys inside the JSON of TOKEN_USAGE
USAGE_INPUT: Final = "input_tokens"
USAGE_OUTPUT: Final = "output_tokens"
USAGE_TOTAL: Final = "total_tokens"
USAGE_CACHE_READ: Final = "cache_read_input_tokens"
USAGE_CACHE_CREATION: Final = "cache_creation_input_tokens"
USAGE_REASONING: Final = "reasoning_tokens"

# --- OpenTelemetry GenAI semantic conventions --------------------------------------
GEN_AI_OPERATION: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER: Final = "gen_ai.provider.name"
GEN_AI_SYSTEM: Final = "gen_ai.system"  # the older name of GEN_AI_PROVIDER; many backends still read it
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_STOP: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_USAGE_INPUT: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_USAGE_COST: Final = "gen_ai.usage.cost"  # total USD; not in the conventions: the key OpenLIT writes
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
GEN_AI_EMBEDDINGS_DIMENSION: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
URL_FULL: Final = "url.full"
ERROR_TYPE: Final = "error.type"
HTTP_STATUS_CODE: Final = "http.response.status_code"
USER_AGENT: Final = "user_agent.original"  # the client's User-Agent (tracekit proxy)

# gen_ai.operation.name values
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_GENERATE_CONTENT: Final = "generate_content"

# --- tracekit's own -----------------------------------------------------------------
GATEWAY_PATH: Final = "tracekit.gateway.path"  # the base URL's path prefix, e.g. /gateway/openai/v1
BASE_URL: Final = "tracekit.base_url"  # the client's base URL, without credentials or query
STREAM: Final = "tracekit.stream"  # True on a streamed call
STREAM_CHUNKS: Final = "tracekit.stream.chunks"  # how many chunks/events the stream delivered
STREAM_TTFT_MS: Final = "tracekit.stream.time_to_first_token_ms"
STREAM_INCOMPLETE: Final = "tracekit.stream.incomplete"  # True when the stream did not run to its end
STREAM_END_REASON: Final = "tracekit.stream.end_reason"  # exhausted | closed | error | abandoned | cancelled
FIRST_TOKEN_EVENT: Final = "gen_ai.first_token"  # event name for the time to first token
TRUNCATED: Final = "tracekit.truncated"  # names of attributes cut to the payload limit
UNSTORABLE: Final = "tracekit.unstorable"  # set (with a marker) on a span whose attributes an exporter could not encode
FUNCTION_NAME: Final = "tracekit.function"  # module.qualname of a @trace'd function
REMOTE_PARENT: Final = "tracekit.remote_parent"  # True on a local top span whose parent is a caller's span (traceparent)
LINKED_FROM: Final = "tracekit.linked_from"  # foreign OTel trace id this trace was started under
PROXY_UPSTREAM: Final = "tracekit.proxy.upstream"  # the upstream URL a tracekit proxy forwarded the call to
PROXY_SESSION_SOURCE: Final = "tracekit.proxy.session_source"  # where session.id came from: a header name, --session or run
PROXY_NOT_RECORDED: Final = "tracekit.proxy.body_not_recorded"  # why a response body is missing (encoding, size)
LANGCHAIN_RUN_ID: Final = "tracekit.langchain.run_id"  # the LangChain run a span records
LANGCHAIN_TAGS: Final = "tracekit.langchain.tags"  # the run's tags (a list of strings)
LANGCHAIN_METADATA: Final = "tracekit.langchain.metadata"  # the run's metadata (JSON)

# Span types accepted by the MLflow server (mlflow.spanType).
SPAN_TYPES: Final = (
    "LLM",
    "CHAT_MODEL",
    "CHAIN",
    "AGENT",
    "TOOL",
    "RETRIEVER",
    "EMBEDDING",
    "RERANKER",
    "PARSER",
    "MEMORY",
    "WORKFLOW",
    "TASK",
    "GUARDRAIL",
    "EVALUATOR",
    "UNKNOWN",
)

# what a gateway told the client (tracekit/_gateway.py)
GATEWAY_KIND: Final = "tracekit.gateway.kind"  # mlflow | databricks | litellm | kong; absent for a provider's own API
GATEWAY_CALL_ID: Final = "tracekit.gateway.call_id"  # x-litellm-call-id, x-kong-request-id
GATEWAY_MODEL_ALIAS: Final = "tracekit.gateway.model_alias"  # the model the body named when the gateway names another as served
GATEWAY_OVERHEAD_MS: Final = "tracekit.gateway.overhead_ms"  # time the gateway itself added
GATEWAY_DURATION_MS: Final = "tracekit.gateway.duration_ms"  # the gateway's whole handling time
GATEWAY_UPSTREAM_MS: Final = "tracekit.gateway.upstream_ms"  # Kong: time waiting for the provider
REQUEST_ID: Final = "tracekit.request_id"  # x-request-id / request-id of the response (provider or gateway)
ERROR_BODY: Final = "tracekit.error.body"  # the error response's body (JSON text, bounded)

# cost in USD (tracekit/_cost.py)
COST_INPUT: Final = "tracekit.cost.input_usd"
COST_OUTPUT: Final = "tracekit.cost.output_usd"
COST_TOTAL: Final = "tracekit.cost.total_usd"
COST_SOURCE: Final = "tracekit.cost.source"  # gateway | genai-prices
COST_UNPRICED: Final = "tracekit.cost.unpriced"  # True: the price table does not know the served model

# --- provider-specific facts (tracekit's own) ----------------------------------------
# LiteLLM (the tracekit.litellm callback): which deployment served a call, and who asked
LITELLM_CALL_ID: Final = "tracekit.litellm.call_id"  # LiteLLM's call id (x-litellm-call-id)
LITELLM_MODEL_GROUP: Final = "tracekit.litellm.model_group"  # the model name the proxy routed on
LITELLM_DEPLOYMENT: Final = "tracekit.litellm.deployment"  # the deployment's model, e.g. openai/gpt-4o-mini
LITELLM_API_BASE: Final = "tracekit.litellm.api_base"  # the upstream called, without credentials or query
LITELLM_CACHE_HIT: Final = "tracekit.litellm.cache_hit"
LITELLM_ATTEMPTED_RETRIES: Final = "tracekit.litellm.attempted_retries"
LITELLM_ATTEMPTED_FALLBACKS: Final = "tracekit.litellm.attempted_fallbacks"
LITELLM_KEY_ALIAS: Final = "tracekit.litellm.key_alias"  # the virtual key's alias (never the key or its hash)
LITELLM_TEAM_ID: Final = "tracekit.litellm.team_id"
LITELLM_TEAM_ALIAS: Final = "tracekit.litellm.team_alias"
LITELLM_USER_ID: Final = "tracekit.litellm.user_id"  # the key's internal user
LITELLM_ORG_ID: Final = "tracekit.litellm.org_id"
LITELLM_END_USER: Final = "tracekit.litellm.end_user"  # the request's `user`
LITELLM_OVERHEAD_MS: Final = "tracekit.litellm.overhead_ms"  # LiteLLM's own time on the call
GEMINI_BLOCK_REASON: Final = "tracekit.gemini.block_reason"  # promptFeedback.blockReason of a blocked prompt

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
FUNCTION_NAME: Final = "tracekit.function"  # module.qualname of a @trace'd function
REMOTE_PARENT: Final = "tracekit.remote_parent"  # True on a local top span whose parent is a caller's span (traceparent)
LINKED_FROM: Final = "tracekit.linked_from"  # foreign OTel trace id this trace was started under
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

# --- provider-specific facts (tracekit's own) ----------------------------------------
GEMINI_BLOCK_REASON: Final = "tracekit.gemini.block_reason"  # promptFeedback.blockReason of a blocked prompt

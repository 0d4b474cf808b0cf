"""The read-side data model: finished spans and traces as plain, frozen values.

``_span_data`` holds one span (:class:`SpanData`, trace ids, attribute values decoded);
``_trace`` one trace (:class:`TraceInfo`, :class:`Trace`) and how its spans add up to
its summary. This package only hands their names on.
"""

from tracekit._model._span_data import TRACE_ID_PREFIX as TRACE_ID_PREFIX
from tracekit._model._span_data import SpanData as SpanData
from tracekit._model._span_data import _usage_from_attributes as _usage_from_attributes
from tracekit._model._span_data import decode_json as decode_json
from tracekit._model._span_data import format_trace_id as format_trace_id
from tracekit._model._span_data import jsonable as jsonable
from tracekit._model._span_data import make_span_data as make_span_data
from tracekit._model._span_data import normalize_trace_id as normalize_trace_id
from tracekit._model._span_data import otel_trace_hex as otel_trace_hex
from tracekit._model._span_data import span_data_from_readable as span_data_from_readable
from tracekit._model._trace import CONTINUES_REMOTE as CONTINUES_REMOTE
from tracekit._model._trace import PREVIEW_CHARS as PREVIEW_CHARS
from tracekit._model._trace import Trace as Trace
from tracekit._model._trace import TraceInfo as TraceInfo
from tracekit._model._trace import continues_remote as continues_remote
from tracekit._model._trace import is_summary_key as is_summary_key
from tracekit._model._trace import sum_token_usage as sum_token_usage
from tracekit._model._trace import summarize_spans as summarize_spans
from tracekit._model._trace import trace_facts as trace_facts
from tracekit._model._trace import trace_from_spans as trace_from_spans

"""The shared core of every provider: patch tables, the LLM-call lifecycle, stream proxies.

A provider module (``tracekit/openai.py`` …) only *maps data*: it declares a patch
table of :class:`Patch` rows, each pointing at an :class:`Endpoint` subclass whose
methods turn a request, a response, stream chunks or an error into the call record. This
package does everything else: it wraps the SDK method, starts and ends the span,
guards every provider hook (an internal error is reported and the call goes on
untraced), runs the user's call exactly once and unguarded, and re-raises its
exception unchanged with a bare ``raise``.

Lifecycle of one call (sync or async)::

    wrapper ─► Endpoint.on_request(call, ...)     guarded; failure -> the call runs untraced
           ─► the SDK method (once, unguarded, with nested patched calls suppressed)
           ─► raised?   Endpoint.on_error(call, exc); span ERROR; ``raise``
           ─► returned: Endpoint.wrap(call, result) -> result, or a stream proxy
                        non-stream: Endpoint.on_response(call, result); span ends
                        stream: the proxy records chunks; Endpoint.on_stream_end(...)
                                runs exactly once, on exhaustion, error, close, with-exit,
                                cancellation or garbage collection; the span ends there

Providers never write attribute keys: their hooks fill ``call.record`` (a
:class:`CallRecord`), which the core writes on the span after each hook.

Its jobs live in six modules; this package only hands their names on:
``_patching`` (patch tables), ``_wrappers`` (the call lifecycle around an SDK method),
``_streams`` (stream proxies), ``_stainless`` (the SDK shapes openai and anthropic share:
stream managers, helper streams, raw responses; imported by those providers directly),
``_call`` (the call, :class:`Endpoint`, how a call ends) and ``_record`` (the typed call
record and the one place it becomes attributes).
"""

from tracekit._attributes import OP_CHAT as OP_CHAT
from tracekit._attributes import OP_EMBEDDINGS as OP_EMBEDDINGS
from tracekit._attributes import OP_GENERATE_CONTENT as OP_GENERATE_CONTENT
from tracekit._attributes import OP_TEXT_COMPLETION as OP_TEXT_COMPLETION
from tracekit._llm._call import Call as Call
from tracekit._llm._call import Endpoint as Endpoint
from tracekit._llm._call import _settle as _settle
from tracekit._llm._call import flush as flush
from tracekit._llm._call import nested_calls_suppressed as nested_calls_suppressed
from tracekit._llm._call import with_extra_headers as with_extra_headers
from tracekit._llm._patching import Patch as Patch
from tracekit._llm._patching import apply as apply
from tracekit._llm._patching import is_applied as is_applied
from tracekit._llm._patching import remove as remove
from tracekit._llm._record import UNSET as UNSET
from tracekit._llm._record import CallRecord as CallRecord
from tracekit._llm._record import Deployment as Deployment
from tracekit._llm._record import Usage as Usage
from tracekit._llm._record import record_error as record_error
from tracekit._llm._record import write as write
from tracekit._llm._streams import END_ABANDONED as END_ABANDONED
from tracekit._llm._streams import END_CANCELLED as END_CANCELLED
from tracekit._llm._streams import END_CLOSED as END_CLOSED
from tracekit._llm._streams import END_ERROR as END_ERROR
from tracekit._llm._streams import END_EXHAUSTED as END_EXHAUSTED
from tracekit._llm._streams import AsyncStreamProxy as AsyncStreamProxy
from tracekit._llm._streams import SyncStreamProxy as SyncStreamProxy
from tracekit._llm._streams import _StreamState as _StreamState
from tracekit._llm._streams import finalize_open_streams as finalize_open_streams
from tracekit._llm._streams import proxy_stream as proxy_stream
from tracekit._llm._wrappers import RequestTap as RequestTap
from tracekit._llm._wrappers import ResponseTap as ResponseTap
from tracekit._llm._wrappers import _async_wrapper as _async_wrapper
from tracekit._llm._wrappers import _begin as _begin
from tracekit._llm._wrappers import _sync_wrapper as _sync_wrapper

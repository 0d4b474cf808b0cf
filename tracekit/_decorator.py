"""``@tracekit.trace``: a span around the app's own functions, in all four shapes."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any, TypeVar, overload

from tracekit import _attributes as attr
from tracekit import _config, _errors, _redact
from tracekit._span import NOOP_SPAN, Span, SpanType, _current, deactivate, open_span
from tracekit._values import span_attribute_value as _attribute_value

F = TypeVar("F", bound=Callable[..., Any])

#: how many yielded items a generator span keeps as its outputs
MAX_GENERATOR_ITEMS = 1000


@overload
def trace(func: F, /) -> F: ...


@overload
def trace(
    *,
    name: str | None = None,
    span_type: SpanType | str = SpanType.CHAIN,
    attributes: Mapping[str, Any] | None = None,
) -> Callable[[F], F]: ...


def trace(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    span_type: SpanType | str = SpanType.CHAIN,
    attributes: Mapping[str, Any] | None = None,
) -> F | Callable[[F], F]:
    """Trace a function: each call becomes a span (type CHAIN unless told otherwise).

    Works on functions, methods, static and class methods, coroutines, generators and
    async generators. The span records the bound arguments (without ``self``/``cls``)
    as inputs and the return value -- for generators, the yielded items -- as outputs.
    Arguments whose names mark them as secrets (``api_key``, ``password``, ``token``,
    ...; the ``redact_arguments`` setting) are recorded as ``"[REDACTED]"``.
    An exception sets status ERROR with an exception event and propagates unchanged.
    A generator's span ends when it is exhausted, raises, or is closed early.

    >>> @tracekit.trace
    ... def answer(question: str) -> str:
    ...     return "42"
    >>> @tracekit.trace(name="search", span_type=tracekit.SpanType.RETRIEVER)
    ... async def search(query: str) -> list[str]:
    ...     return ["doc"]
    """
    if func is None:
        return lambda f: _decorate(f, name, span_type, attributes)  # type: ignore[no-any-return]
    return _decorate(func, name, span_type, attributes)  # type: ignore[no-any-return]


def _decorate(func: Any, name: str | None, span_type: SpanType | str, attributes: Mapping[str, Any] | None) -> Any:
    if isinstance(func, staticmethod):
        return staticmethod(_decorate(func.__func__, name, span_type, attributes))
    if isinstance(func, classmethod):
        return classmethod(_decorate(func.__func__, name, span_type, attributes))
    if not callable(func):
        raise TypeError(f"@tracekit.trace needs a function, not {type(func).__name__}")
    span_name = name or _default_name(func)
    static = _static_attributes(func, span_name, attributes)
    binder = _Binder(func)

    def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span:
        try:
            span = open_span(span_name, span_type, static)
            if span is not NOOP_SPAN:
                span.set_inputs(binder.inputs(args, kwargs))
            return span
        except Exception:
            _errors.report("trace.start")
            return NOOP_SPAN

    wrapper: Any
    if inspect.isasyncgenfunction(func):
        wrapper = _async_generator_wrapper(func, start)
    elif inspect.isgeneratorfunction(func):
        wrapper = _generator_wrapper(func, start)
    elif inspect.iscoroutinefunction(func):
        wrapper = _coroutine_wrapper(func, start)
    else:
        wrapper = _function_wrapper(func, start)
    functools.update_wrapper(wrapper, func)
    return wrapper


def _static_attributes(func: Any, span_name: str, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attributes every span of ``func`` carries, converted once at decoration time."""
    static: dict[str, Any] = {}
    with _errors.handle_internal_errors("trace.attributes"):
        for key, value in (attributes or {}).items():
            if value is not None:
                static[key] = _attribute_value(value)
    module = getattr(func, "__module__", None)
    static[attr.FUNCTION_NAME] = f"{module}.{getattr(func, '__qualname__', span_name)}"
    return static


def _default_name(func: Any) -> str:
    qualname: str = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__
    return qualname.rsplit(".<locals>.", 1)[-1]


class _Binder:
    """Maps a call's arguments to a ``{parameter: value}`` dict, without self/cls."""

    __slots__ = (
        "_defaults",
        "_names",
        "_params",
        "_redacting",
        "_rule",
        "_secret",
        "_settings",
        "_signature",
        "_skip_first",
        "_var_keyword",
    )

    def __init__(self, func: Any) -> None:
        try:
            self._signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            self._signature = None
        params = list(self._signature.parameters) if self._signature else []
        self._params = tuple(params)
        self._skip_first = bool(params) and params[0] in ("self", "cls")
        #: the **kwargs parameter, whose keys are argument names too
        self._var_keyword = next(
            (p.name for p in (self._signature.parameters.values() if self._signature else ()) if p.kind is p.VAR_KEYWORD),
            None,
        )
        # the secret parameters under the settings in force (recomputed when they change)
        self._settings: _config.Settings | None = None
        self._rule: _redact.ArgumentRule | None = None
        self._secret: tuple[str, ...] = ()
        self._redacting = False
        # The fast path: only plain positional-or-keyword parameters (no *args, **kwargs,
        # keyword- or positional-only ones) bind by position without Signature.bind,
        # which costs ~10 µs per call (CPython 3.11)
        self._names: tuple[str, ...] | None = None
        self._defaults: dict[str, Any] = {}
        if self._signature is not None and all(
            p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in self._signature.parameters.values()
        ):
            self._names = tuple(params)
            self._defaults = {
                p.name: p.default for p in self._signature.parameters.values() if p.default is not inspect.Parameter.empty
            }

    def _fast_inputs(self, names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """Bind by position and name, as Signature.bind + apply_defaults would; None when
        the call is anything but plain (a missing, repeated or unknown argument), so that
        the slow path sees it."""
        if len(args) > len(names) or (kwargs and not kwargs.keys().isdisjoint(names[: len(args)])):
            return None
        values = dict(zip(names, args, strict=False))
        used = 0
        for name in names[len(args) :]:
            if name in kwargs:
                values[name] = kwargs[name]
                used += 1
            elif name in self._defaults:
                values[name] = self._defaults[name]
            else:
                return None
        if used != len(kwargs):
            return None
        if self._skip_first and names:
            values.pop(names[0], None)
        return values

    def _refresh(self, settings: _config.Settings) -> None:
        rule = _redact.argument_rule(settings.redact_arguments)
        self._rule = rule
        self._secret = tuple(name for name in self._params if rule(name)) if rule is not None else ()
        self._redacting = bool(self._secret) or (rule is not None and self._var_keyword is not None)
        self._settings = settings

    def inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        settings = _config.get()
        if settings is not self._settings:
            self._refresh(settings)
        rule = self._rule
        names = self._names
        if names is not None:
            values = self._fast_inputs(names, args, kwargs)
            if values is not None:
                return self._redacted(values, rule) if self._redacting and rule is not None else values
        try:
            if self._signature is None:
                values = {"args": args, "kwargs": kwargs}
                return values if rule is None else _redact_keys(values, "kwargs", rule)
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            if self._skip_first:
                values.pop(next(iter(values)), None)
            return values if rule is None else self._redacted(values, rule)
        except TypeError:
            # the call itself is wrong; the function will raise the real error
            values = {"args": args, "kwargs": kwargs}
            return values if rule is None else _redact_keys(values, "kwargs", rule)
        except Exception:
            _errors.report("trace.bind_inputs")
            return None

    def _redacted(self, values: dict[str, Any], rule: _redact.ArgumentRule) -> dict[str, Any]:
        """``values`` with secret-named arguments (and ``**kwargs`` keys) as the marker."""
        for name in self._secret:
            if name in values:
                values[name] = _redact.MARKER
        if self._var_keyword is not None:
            values = _redact_keys(values, self._var_keyword, rule)
        return values


def _redact_keys(values: dict[str, Any], field: str, rule: _redact.ArgumentRule) -> dict[str, Any]:
    """``values[field]`` (a ``**kwargs`` dict) with its secret-named keys as the marker."""
    extra = values.get(field)
    if isinstance(extra, dict) and any(isinstance(k, str) and rule(k) for k in extra):
        values[field] = {k: _redact.MARKER if isinstance(k, str) and rule(k) else v for k, v in extra.items()}
    return values


def _finish(span: Span, exc: BaseException | None = None) -> None:
    if exc is not None:
        span.record_exception(exc)
    span.end()


def _function_wrapper(func: Callable[..., Any], start: Callable[..., Span]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = start(args, kwargs)
        token = _current.set(span)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            _finish(span, exc)
            raise
        finally:
            deactivate(token)
        if span is not NOOP_SPAN:
            span.set_outputs(result)
            span.end()
        return result

    return wrapper


def _coroutine_wrapper(func: Callable[..., Any], start: Callable[..., Span]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = start(args, kwargs)
        token = _current.set(span)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            _finish(span, exc)
            raise
        finally:
            deactivate(token)
        if span is not NOOP_SPAN:
            span.set_outputs(result)
            span.end()
        return result

    return wrapper


class _Items:
    """The yielded items a generator span keeps: the first MAX_GENERATOR_ITEMS, and a count."""

    __slots__ = ("count", "items")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.count = 0

    def add(self, item: Any) -> None:
        self.count += 1
        if self.count <= MAX_GENERATOR_ITEMS:
            self.items.append(item)

    def end(self, span: Span, complete: bool) -> None:
        if span is NOOP_SPAN:
            return
        if self.count > MAX_GENERATOR_ITEMS:
            self.items.append(f"...[{self.count - MAX_GENERATOR_ITEMS} more items]")
        span.set_outputs(self.items)
        if not complete:
            span.set_attribute(attr.STREAM_INCOMPLETE, True)
        span.end()


def _generator_wrapper(func: Callable[..., Any], start: Callable[..., Span]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        span = start(args, kwargs)
        items = _Items()
        token = _current.set(span)
        try:
            gen = func(*args, **kwargs)
        except BaseException as exc:
            _finish(span, exc)
            raise
        finally:
            deactivate(token)
        step: Callable[[Any], Any] = gen.send
        value: Any = None
        while True:
            token = _current.set(span)
            try:
                item = step(value)
            except StopIteration as stop:
                items.end(span, complete=True)
                return stop.value
            except BaseException as exc:
                _finish(span, exc)
                raise
            finally:
                deactivate(token)
            items.add(item)
            try:
                value = yield item
                step = gen.send
            except GeneratorExit:
                # break / close() / garbage collection: close the inner generator too
                token = _current.set(span)
                try:
                    gen.close()
                except BaseException as exc:
                    _finish(span, exc)
                    raise
                finally:
                    deactivate(token)
                items.end(span, complete=False)
                raise
            except BaseException as exc:  # thrown in by the caller: pass it on
                step, value = gen.throw, exc

    return wrapper


def _async_generator_wrapper(func: Callable[..., Any], start: Callable[..., Span]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        span = start(args, kwargs)
        items = _Items()
        token = _current.set(span)
        try:
            agen = func(*args, **kwargs)
        except BaseException as exc:
            _finish(span, exc)
            raise
        finally:
            deactivate(token)
        step: Callable[[Any], Any] = agen.asend
        value: Any = None
        while True:
            token = _current.set(span)
            try:
                item = await step(value)
            except StopAsyncIteration:
                items.end(span, complete=True)
                return
            except BaseException as exc:
                _finish(span, exc)
                raise
            finally:
                deactivate(token)
            items.add(item)
            try:
                value = yield item
                step = agen.asend
            except GeneratorExit:
                token = _current.set(span)
                try:
                    await agen.aclose()
                except BaseException as exc:
                    _finish(span, exc)
                    raise
                finally:
                    deactivate(token)
                items.end(span, complete=False)
                raise
            except BaseException as exc:
                step, value = agen.athrow, exc

    return wrapper

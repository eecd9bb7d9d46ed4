"""The sandbox in which every expression and script from uploaded BPMN/DMN runs.

SpiffWorkflow's own `TaskDataEnvironment` is plain eval/exec. Here source is compiled with
RestrictedPython plus our own rewrites and run against a curated set of builtins:

- statically (`check_source`, also before anything runs): no imports, no names or attributes
  starting with '_', no dangerous builtins by name, no str.format, classes, generators, `with`
  or bytes literals;
- at run time, guard functions injected as `_getattr_`, `_write_`, `_sandbox_mult_`... refuse what
  only values can tell: a result that would be too large is refused before it is allocated, only
  curated str methods exist, only dicts and lists can be written to;
- budgets per call: time (the thread's CPU time without garbage collection, read by a trace
  function counting opcodes of sandboxed frames), size of any one object and of the result or task
  data, and a meter on the bytes the guarded operations copy.

Budget errors cannot be swallowed by the script: every `except`/`finally` body first re-raises
a sandbox error. The trace function is installed only for the sandboxed call and the previous one
(coverage, a debugger) is restored afterwards. Compiled code is cached per (source, mode) and
shared by all environments and threads.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import gc
import math
import operator
import re
import sys
import threading
import time
import warnings
from itertools import repeat
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

# Spiff's PythonScriptEngine finds the failing script line by this frame filename.
_FILENAME = "<string>"

FORBIDDEN_NAMES = frozenset(
    "open eval exec compile __import__ globals locals vars getattr setattr delattr input breakpoint "
    "help exit quit memoryview type object super dir classmethod staticmethod property".split()
)

_MAX_INT_BITS = 1 << 16  # far beyond what int->str (4300 digits) can even show
_MAX_MODPOW_BITS = 2_048  # pow(a, b, m) runs in one C call: bound its work
_MAX_ROUND_DIGITS = 5_000
_ALLOCATION_FACTOR = 64  # a call may copy this many times size_budget bytes in total
_CHECK_EVERY = 32  # opcodes between clock reads
_GC_ALLOWANCE_S = 2.0  # collection time left out of a call, at most: a script making garbage still stops
_MAX_MESSAGE = 2_000  # exception text leaving the sandbox
_MAX_NESTING = 100  # levels of lists/dicts in task data and results


class SandboxViolation(Exception):
    """Sandboxed code tried something the sandbox refuses; `code` names the rule."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.code = code


class BudgetExceeded(SandboxViolation):
    """Sandboxed code ran too long or would have built too large a value."""


# --- one sandboxed call -----------------------------------------------------------------------

_local = threading.local()


class _Run:
    """State of one sandboxed call: the deadline, size limits, the allocation meter and the tracer."""

    __slots__ = (
        "allocation_left",
        "countdown",
        "deadline",
        "expired",
        "gc_spent",
        "gc_started",
        "on_call",
        "on_event",
        "on_gc",
        "thread",
        "size_budget",
        "time_budget_s",
    )

    def __init__(self, time_budget_s: float, size_budget: int):
        self.time_budget_s = time_budget_s
        self.size_budget = size_budget
        self.allocation_left = size_budget * _ALLOCATION_FACTOR
        # CPU time of this thread, not the wall clock: a busy machine must not fail a routine's script.
        self.deadline = time.thread_time() + time_budget_s
        # Nor may the garbage collector: it runs in whichever thread allocates when a collection is
        # due, and a full collection of a large heap takes long (0.95 s measured in a test worker).
        self.gc_spent = 0.0
        self.gc_started: float | None = None
        self.thread = threading.get_ident()
        self.countdown = _CHECK_EVERY
        self.expired = False
        # Bound once: sys.gettrace() is compared by identity, gc.callbacks removed by equality.
        self.on_call = self._on_call
        self.on_event = self._on_event
        self.on_gc = self._on_gc

    # The budget is only enforced where raising is safe: at opcodes of sandboxed frames and when
    # this module's guards are entered (C code calling back, as in sorted(key=str)). 'call',
    # 'exception' and 'return' events also come from finalizers (a generator closed by the
    # garbage collector), where the error would be swallowed with tracing switched off for good.

    def _on_call(self, frame, event, arg):
        filename = frame.f_code.co_filename
        if filename == _FILENAME:
            # Per opcode, not per line: `while True: pass` is a jump to itself that never emits
            # a line event on 3.11.
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
            return self.on_event
        if filename == _OWN_FILENAME and frame.f_code is not _GC_CALLBACK:
            self._tick()
        return None

    def _on_event(self, frame, event, arg):
        if event == "opcode":
            self._tick()
        return self.on_event

    def _tick(self) -> None:
        self.countdown -= 1
        if self.countdown <= 0:
            self._check_clock()

    def _on_gc(self, phase: str, info: dict) -> None:
        if threading.get_ident() != self.thread:
            return  # gc.callbacks are process-wide: another thread's collection
        if phase == "start":
            self.gc_started = time.thread_time()
        elif self.gc_started is not None:
            self.gc_spent += time.thread_time() - self.gc_started
            self.gc_started = None

    def _check_clock(self) -> None:
        self.countdown = _CHECK_EVERY
        if time.thread_time() - min(self.gc_spent, _GC_ALLOWANCE_S) > self.deadline:
            self.expired = True
            raise self.timeout()

    def timeout(self) -> BudgetExceeded:
        """The error for this call's expired time budget."""
        return BudgetExceeded(
            f"the script ran longer than its time budget of {self.time_budget_s:g} s", "time_budget"
        )

    def check_size(self, size: int, what: str) -> None:
        if size > self.size_budget:
            raise BudgetExceeded(
                f"{what} would have {size:,} items or characters; the limit is {self.size_budget:,}",
                "size_budget",
            )

    def charge(self, sample, count: int) -> None:
        """Meter `count` new items like `sample`: characters cost a byte, references eight."""
        self.allocation_left -= count if isinstance(sample, (str, bytes)) else 8 * count
        if self.allocation_left < 0:
            raise BudgetExceeded(
                f"the script copied more than {self.size_budget * _ALLOCATION_FACTOR:,} bytes in total",
                "allocation_budget",
            )


_OWN_FILENAME = _Run._tick.__code__.co_filename  # frames of this module's guards
# Never a place to raise: the collector swallows a callback's error, and the trace function that
# raised is switched off for good (the script would run on without a budget).
_GC_CALLBACK = _Run._on_gc.__code__


def _active() -> _Run:
    run = getattr(_local, "run", None)
    if run is None:
        raise SandboxViolation("sandboxed code can only run inside the sandbox", "outside_sandbox")
    return run


def _sized(value):
    """Check and charge a freshly built str/list/tuple/dict/set, then hand it on."""
    run = _active()
    run.check_size(len(value), "the value")
    run.charge(value, len(value))
    return value


def _estimated_size(value, limit: int) -> int:
    """Approximate length of `value` as JSON text; stops as soon as it passes `limit`.

    Nesting deeper than _MAX_NESTING counts as over the limit: Spiff copies and serializes task
    data recursively.
    """
    total = 0
    pending = [(value, 0)]
    while pending and total <= limit:
        item, depth = pending.pop()
        if depth > _MAX_NESTING:
            return limit + 1
        if isinstance(item, str):
            total += len(item) + 2
        elif item is None or isinstance(item, bool):
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, float):
            total += 24
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= limit:
                pending.extend(zip(item.keys(), repeat(depth + 1)))
                pending.extend(zip(item.values(), repeat(depth + 1)))
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total <= limit:
                pending.extend(zip(item, repeat(depth + 1)))
        else:
            total += 32
    return total


_TEXT_IS_BOUNDED = (str, int, float, bool, type(None))


def _check_text_size(value, what: str) -> None:
    # The text of a container can be far larger than the container (a list of references to
    # one long string), so it is estimated before str()/repr()/formatting builds it.
    if not isinstance(value, _TEXT_IS_BOUNDED):
        run = _active()
        run.check_size(_estimated_size(value, run.size_budget), what)


# --- guarded operators ------------------------------------------------------------------------

_SEQUENCES = (str, list, tuple, bytes)


def _refuse_big_int() -> None:
    raise BudgetExceeded(f"the result would be an integer of more than {_MAX_INT_BITS:,} bits", "size_budget")


def _check_add(left, right, in_place: bool = False) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        run = _active()
        run.check_size(len(left) + len(right), "the result of '+'")
        run.charge(left, len(right) if in_place else len(left) + len(right))


def _check_mult(left, right) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            _refuse_big_int()
        return
    sequence, count = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
    if isinstance(sequence, _SEQUENCES) and isinstance(count, int):
        run = _active()
        run.check_size(len(sequence) * count, "the result of '*'")
        run.charge(sequence, len(sequence) * max(count, 0))


def _check_pow(base, exponent) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1):
        return
    if exponent > _MAX_INT_BITS or exponent * math.log2(abs(base)) > _MAX_INT_BITS:
        _refuse_big_int()


def _check_lshift(value, count) -> None:
    if not (isinstance(value, int) and isinstance(count, int) and value and count > 0):
        return
    if count > _MAX_INT_BITS or value.bit_length() + count > _MAX_INT_BITS:
        _refuse_big_int()


def _add(left, right):
    _check_add(left, right)
    return left + right


def _mult(left, right):
    _check_mult(left, right)
    return left * right


def _pow(base, exponent, modulus=None):
    if modulus is not None:  # as small as the modulus, but the work grows with both
        if (
            isinstance(exponent, int)
            and isinstance(modulus, int)
            and max(exponent.bit_length(), modulus.bit_length()) > _MAX_MODPOW_BITS
        ):
            raise BudgetExceeded(
                f"pow() with a modulus is limited to {_MAX_MODPOW_BITS}-bit numbers", "size_budget"
            )
        return pow(base, exponent, modulus)
    _check_pow(base, exponent)
    return base**exponent


def _lshift(value, count):
    _check_lshift(value, count)
    return value << count


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGIT_RUNS = re.compile(r"\d+")


def _spec_number(run: _Run, digits: str) -> int:
    if len(digits) > len(str(run.size_budget)) or int(digits) > run.size_budget:
        raise BudgetExceeded(
            f"a width or precision of {digits[:20]} is larger than the limit of {run.size_budget:,}",
            "size_budget",
        )
    return int(digits)


def _mod(left, right):
    if isinstance(left, str):
        return _percent_format(left, right)
    if isinstance(left, (bytes, bytearray)):
        raise SandboxViolation("formatting bytes is not allowed in process scripts", "refused")
    return left % right


def _percent_format(template: str, args):
    run = _active()
    padding, starred = 0, False
    for match in _PERCENT_SPEC.finditer(template):
        for group in match.groups():
            if group == "*":
                starred = True
            elif group:
                padding += _spec_number(run, group)
    if starred:  # widths taken from the arguments
        for value in args if isinstance(args, tuple) else (args,):
            if isinstance(value, int) and not isinstance(value, bool):
                padding += _spec_number(run, str(abs(value)))
    run.check_size(len(template) + padding + _estimated_size(args, run.size_budget), "the formatted string")
    return _sized(template % args)


def _format(value, conversion: int, spec: str):
    """One f-string field: conversion and format spec, with the width and the text checked first."""
    run = _active()
    if conversion == ord("r"):
        value = _repr(value)
    elif conversion == ord("s"):
        value = _new_str(value)
    elif conversion == ord("a"):
        _check_text_size(value, "an f-string value")
        value = ascii(value)
    for digits in _DIGIT_RUNS.findall(spec):
        _spec_number(run, digits)
    _check_text_size(value, "an f-string value")
    return _sized(format(value, spec))


def _fstring(*pieces: str) -> str:
    _active().check_size(sum(map(len, pieces)), "the f-string")
    return _sized("".join(pieces))


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
    "@=": operator.imatmul,
}


def _inplacevar(op: str, target, value):
    if op == "+=":
        _check_add(target, value, in_place=isinstance(target, list))
    elif op == "*=":
        _check_mult(target, value)
    elif op == "**=":
        _check_pow(target, value)
    elif op == "<<=":
        _check_lshift(target, value)
    elif op == "%=":
        return _mod(target, value)
    return _INPLACE[op](target, value)


def _augitem(target, key, op: str, value) -> None:
    """`target[key] op= value` (RestrictedPython refuses augmented item assignment outright)."""
    _write(target)[key] = _inplacevar(op, target[key], value)


# --- guarded access ---------------------------------------------------------------------------


class _ListWriter:
    """What `_write_` hands out for a list: item writes pass, slice writes are size-checked."""

    __slots__ = ("items",)

    def __init__(self, items: list):
        object.__setattr__(self, "items", items)

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            value = list(value)
            removed = len(range(*key.indices(len(self.items))))
            _active().check_size(len(self.items) - removed + len(value), "the list")
        self.items[key] = value

    def __delitem__(self, key):
        del self.items[key]

    def __setattr__(self, name, value):
        raise SandboxViolation("process scripts cannot set attributes", "write_refused")

    __delattr__ = __setattr__


def _write(obj):
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, list):
        return _ListWriter(obj)
    raise SandboxViolation(
        f"process scripts can only change dicts and lists, not {type(obj).__name__} objects", "write_refused"
    )


def _getitem(obj, key):
    value = obj[key]
    if type(key) is slice and isinstance(value, _SEQUENCES):
        _active().charge(value, len(value))
    return value


def _getiter(obj):
    _active()  # a lambda that escaped the sandbox must not loop unwatched
    return iter(obj)


def _apply(function, *args, **kwargs):
    return function(*args, **kwargs)


def _handler_entered() -> None:
    """First statement of every except/finally body: sandbox errors cannot be swallowed."""
    run = _active()
    if run.expired:
        raise run.timeout()
    error = sys.exception()
    if isinstance(error, SandboxViolation):
        raise error
    if sys.gettrace() is not run.on_call:
        # An error inside the tracer (e.g. RecursionError) switches tracing off for good.
        raise SandboxViolation("the script's time budget can no longer be enforced", "trace_lost")


def _padding_guard(method):
    def guarded(text, width, *args):
        run = _active()
        if isinstance(width, int):
            run.check_size(width, f"str.{method.__name__}()")
        return _sized(method(text, width, *args))

    return guarded


def _expandtabs(text, tabsize=8):
    if isinstance(text, str) and isinstance(tabsize, int):
        _active().check_size(len(text) + text.count("\t") * max(tabsize, 0), "str.expandtabs()")
    return _sized(str.expandtabs(text, tabsize))


def _replace(text, old, new, count=-1):
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        hits = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _active().check_size(len(text) + hits * (len(new) - len(old)), "str.replace()")
    return _sized(str.replace(text, old, new, count))


def _join(separator, iterable):
    items = iterable if isinstance(iterable, (list, tuple)) else list(iterable)
    if isinstance(separator, str):
        try:
            total = sum(map(len, items)) + len(separator) * max(len(items) - 1, 0)
        except TypeError:
            total = 0  # not all strings: str.join raises its own error below
        _active().check_size(total, "str.join()")
    return _sized(str.join(separator, items))


# Beside its characters every new str object costs about this many bytes (CPython's header).
_STR_OBJECT_BYTES = 50


def _copying_str_method(method, text, *args, **kwargs):
    result = method(text, *args, **kwargs)
    run = _active()
    if isinstance(result, (list, tuple)):
        # split() and its kin build a new string per piece and a list to hold them: charged as such,
        # not as one copy of the text (a million short pieces are ~60 MB, not 1 MB).
        run.check_size(len(result), "the list")
        run.charge(result, len(result))
        run.charge(text, len(text) + _STR_OBJECT_BYTES * len(result))
    else:
        run.charge(text, len(text))
    return result


_STR_READING = frozenset(
    "count endswith find index isalnum isalpha isascii isdecimal isdigit isidentifier islower isnumeric "
    "isprintable isspace istitle isupper rfind rindex startswith".split()
)
_STR_COPYING = frozenset(
    "capitalize casefold lower lstrip partition removeprefix removesuffix rpartition rsplit rstrip split "
    "splitlines strip swapcase title upper".split()
)
_STR_SIZED = {
    "center": _padding_guard(str.center),
    "ljust": _padding_guard(str.ljust),
    "rjust": _padding_guard(str.rjust),
    "zfill": _padding_guard(str.zfill),
    "expandtabs": _expandtabs,
    "replace": _replace,
    "join": _join,
}
_REFUSED_ATTRIBUTES = (
    frozenset({"format", "format_map", "mro", "to_bytes", "from_bytes"}) | INSPECT_ATTRIBUTES
)


def _str_attribute(obj, name: str):
    is_class = obj is str
    if name in _STR_READING:
        return getattr(obj, name)
    if name in _STR_COPYING:
        method = getattr(str, name)
        return (
            functools.partial(_copying_str_method, method)
            if is_class
            else functools.partial(_copying_str_method, method, obj)
        )
    guard = _STR_SIZED.get(name)
    if guard is None:
        raise SandboxViolation(f"str.{name}() is not available in process scripts", "attribute_refused")
    return guard if is_class else functools.partial(guard, obj)


def _list_extend(items, more) -> None:
    more = more if isinstance(more, (list, tuple)) else list(more)
    run = _active()
    run.check_size(len(items) + len(more), "the list")
    run.charge(more, len(more))
    list.extend(items, more)


def _copy_container(container):
    return _sized(container.copy())


_CONTAINER_GUARDS = {
    (list, "extend"): _list_extend,
    (list, "copy"): _copy_container,
    (dict, "copy"): _copy_container,
    (set, "copy"): _copy_container,
}


def _getattr(obj, name: str):
    if name.startswith("_") or name in _REFUSED_ATTRIBUTES:
        raise SandboxViolation(
            f"the attribute '.{name}' is not allowed in process scripts", "attribute_refused"
        )
    if type(obj) is _GuardedType:
        obj = obj.real
    if isinstance(obj, str) or obj is str:
        return _str_attribute(obj, name)
    if isinstance(obj, (bytes, bytearray)):
        raise SandboxViolation("bytes are not supported in process scripts", "attribute_refused")
    is_class = isinstance(obj, type)
    guard = _CONTAINER_GUARDS.get((obj if is_class else type(obj), name))
    if guard is not None:
        return guard if is_class else functools.partial(guard, obj)
    return safer_getattr_raise(obj, name)


# --- builtins ---------------------------------------------------------------------------------


class _GuardedType(type):
    """Metaclass of the sandbox's `str`, `list`, `dict`...: calls are guarded, isinstance still works."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls.real)

    def __subclasscheck__(cls, sub):
        return issubclass(sub.real if type(sub) is _GuardedType else sub, cls.real)

    def __call__(cls, *args, **kwargs):
        return cls.construct(*args, **kwargs)


def _guarded_type(real: type, construct) -> _GuardedType:
    return _GuardedType(real.__name__, (), {"real": real, "construct": staticmethod(construct)})


def _new_str(*args, **kwargs):
    if len(args) + len(kwargs) == 1:  # str(value) or str(object=value)
        _check_text_size([*args, *kwargs.values()][0], "str()")
    return _sized(str(*args, **kwargs))


def _repr(value):
    _check_text_size(value, "repr()")
    return _sized(repr(value))


def _copying_constructor(real: type):
    def construct(*args, **kwargs):
        return _sized(real(*args, **kwargs))

    return construct


def _range(*args):
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = sys.maxsize
    _active().check_size(length, "range()")
    return numbers


def _sorted(iterable, /, *, key=None, reverse=False):
    return _sized(sorted(iterable, key=key, reverse=reverse))


def _sum(iterable, /, start=0):
    # sum() of lists or tuples copies quadratically inside one C call.
    if isinstance(start, _SEQUENCES):
        raise SandboxViolation("sum() only adds numbers in process scripts", "refused")
    return sum(iterable, start)


def _round(number, ndigits=None):
    if ndigits is None:
        return round(number)
    if isinstance(ndigits, int) and ndigits < -_MAX_ROUND_DIGITS:
        raise BudgetExceeded(
            f"round() to {ndigits} digits is beyond the limit of {_MAX_ROUND_DIGITS}", "size_budget"
        )
    return round(number, ndigits)


def _print(*args, **kwargs) -> None:
    """Scripts may print while they are written; the output goes nowhere."""


class _Forbidden:
    """Stands in for a refused builtin so that reaching it fails with a clear message."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise SandboxViolation(f"'{self.name}' is not available in process scripts", "forbidden_name")

    def __repr__(self) -> str:
        return f"<refused builtin {self.name}>"


# Scripts cannot name `__import__`, but C code finds it in the sandbox's builtins when it imports
# lazily (datetime.strftime imports time, strptime imports _strptime).
_C_LEVEL_IMPORTS = frozenset(
    {"time", "_strptime", "calendar", "locale", "encodings", "unicodedata", "warnings"}
)


def _c_level_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name in _C_LEVEL_IMPORTS:
        return builtins.__import__(name, globals, locals, fromlist, level)
    raise SandboxViolation(f"importing '{name}' is not allowed in process scripts", "forbidden_name")


def _build_builtins() -> dict[str, Any]:
    names = {
        name: value
        for name, value in safe_builtins.items()
        if not name.startswith("_")
        and name not in {"BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}
    }
    names.update(
        min=min, max=max, any=any, all=all, enumerate=enumerate, reversed=reversed, zip=zip, map=map,
        filter=filter, len=len, isinstance=isinstance, abs=abs, divmod=divmod,
        sum=_sum, round=_round, pow=_pow, range=_range, repr=_repr, sorted=_sorted, print=_print,
        str=_guarded_type(str, _new_str),
    )  # fmt: skip
    for real in (list, tuple, dict, set, frozenset):
        names[real.__name__] = _guarded_type(real, _copying_constructor(real))
    for name in FORBIDDEN_NAMES:
        names[name] = _Forbidden(name)
    names["__import__"] = _c_level_import
    return names


SANDBOX_BUILTINS = _build_builtins()

# Injected last into every namespace, so task data cannot shadow them (scripts cannot name them).
_HELPERS: dict[str, Any] = {
    "__builtins__": SANDBOX_BUILTINS,
    "_getattr_": _getattr,
    "_getitem_": _getitem,
    "_getiter_": _getiter,
    "_write_": _write,
    "_apply_": _apply,
    "_inplacevar_": _inplacevar,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_sandbox_add_": _add,
    "_sandbox_mult_": _mult,
    "_sandbox_pow_": _pow,
    "_sandbox_lshift_": _lshift,
    "_sandbox_mod_": _mod,
    "_sandbox_format_": _format,
    "_sandbox_fstring_": _fstring,
    "_sandbox_augitem_": _augitem,
    "_sandbox_sized_": _sized,
    "_sandbox_handler_": _handler_entered,
}


# --- compilation ------------------------------------------------------------------------------

_BINOP_HELPERS = {
    ast.Add: "_sandbox_add_",
    ast.Mult: "_sandbox_mult_",
    ast.Pow: "_sandbox_pow_",
    ast.LShift: "_sandbox_lshift_",
    ast.Mod: "_sandbox_mod_",
}


def _call(helper: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(helper, ast.Load()), args=args, keywords=[])
    copy_locations(call, like)
    return call


class _SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy with our messages, refusals and guarded operators."""

    def error(self, node, info):
        self.errors.append(f"{info} (line {getattr(node, 'lineno', '?')})")

    def not_allowed(self, node):
        self.error(node, f"{type(node).__name__} statements are not allowed in process scripts")

    def _refuse(self, node, what: str):
        self.error(node, f"{what} not allowed in process scripts")
        return node

    def check_name(self, node, name, allow_magic_methods=False):
        if name is None:
            return
        if name.startswith("_") and name != "_":
            self.error(node, f"names starting with '_' are not allowed in process scripts ('{name}')")
        elif name in FORBIDDEN_NAMES:
            self.error(node, f"'{name}' is not allowed in process scripts")

    def visit_Name(self, node):
        # Unlike RestrictedPython, `print` is an ordinary (silent) builtin here.
        self.check_name(node, node.id)
        return node

    def visit_Import(self, node):
        return self._refuse(node, "import is")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        return self._refuse(node, "class definitions are")

    def visit_Yield(self, node):
        return self._refuse(node, "generators ('yield') are")

    visit_YieldFrom = visit_Yield

    def visit_With(self, node):
        return self._refuse(node, "'with' statements are")

    def visit_Constant(self, node):
        if isinstance(node.value, bytes):
            return self._refuse(node, "bytes literals are")
        return node

    def visit_Attribute(self, node):
        name = node.attr
        if name.startswith("_"):
            self.error(node, f"attributes starting with '_' are not allowed in process scripts ('.{name}')")
        elif name in ("format", "format_map"):
            self.error(node, f"'.{name}()' is not allowed in process scripts (use an f-string)")
        elif name in _REFUSED_ATTRIBUTES:
            self.error(node, f"the attribute '.{name}' is not allowed in process scripts")
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            return _call("_getattr_", [node.value, ast.Constant(name)], node)
        node.value = _call("_write_", [node.value], node.value)
        return node

    def visit_Call(self, node):
        # As RestrictedPython, minus its extra messages for eval/exec (check_name has them).
        wrap = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)
        node = self.node_contents_visit(node)
        if wrap:
            node.args.insert(0, node.func)
            node.func = ast.Name("_apply_", ast.Load())
            copy_locations(node.func, node.args[0])
        return node

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        helper = _BINOP_HELPERS.get(type(node.op))
        return node if helper is None else _call(helper, [node.left, node.right], node)

    def visit_AugAssign(self, node):
        target = node.target
        if isinstance(target, ast.Attribute):
            return self._refuse(node, "augmented assignment of attributes is")
        if not isinstance(target, ast.Subscript):
            return super().visit_AugAssign(node)
        key = target.slice
        if isinstance(key, ast.Slice) or (
            isinstance(key, ast.Tuple) and any(isinstance(e, ast.Slice) for e in key.elts)
        ):
            return self._refuse(node, "augmented assignment of slices is")
        args = [
            self.visit(target.value),
            self.visit(key),
            ast.Constant(IOPERATOR_TO_STR[type(node.op)]),
            self.visit(node.value),
        ]
        statement = ast.Expr(_call("_sandbox_augitem_", args, node))
        copy_locations(statement, node)
        return statement

    def visit_JoinedStr(self, node):
        # f-strings are built by helpers: every field's width and text is checked before it is
        # formatted, and the total before the pieces are joined (`f'{s}{s}'` doubles s).
        node = self.node_contents_visit(node)
        return _call("_sandbox_fstring_", list(node.values), node)

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)  # a nested format spec is an f-string call by now
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        return _call("_sandbox_format_", [node.value, ast.Constant(node.conversion), spec], node)

    def _handler_guard(self, node) -> ast.stmt:
        statement = ast.Expr(_call("_sandbox_handler_", [], node))
        copy_locations(statement, node)
        return statement

    def visit_ExceptHandler(self, node):
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, self._handler_guard(node))
        return node

    def visit_Try(self, node):
        node = self.node_contents_visit(node)
        if node.finalbody:
            node.finalbody.insert(0, self._handler_guard(node.finalbody[0]))
        return node

    def _sized_display(self, node):
        # `[*a, *a]` or `{**d}` copy inside one bytecode: charge the result like other copies.
        node = self.node_contents_visit(node)
        if isinstance(node, ast.Dict):
            unpacks = any(key is None for key in node.keys)
        else:
            unpacks = isinstance(getattr(node, "ctx", None), (ast.Load, type(None))) and any(
                isinstance(element, ast.Starred) for element in node.elts
            )
        return _call("_sandbox_sized_", [node], node) if unpacks else node

    visit_List = visit_Tuple = visit_Set = visit_Dict = _sized_display


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> tuple[CodeType | None, tuple[str, ...]]:
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    # User source may trigger SyntaxWarning/DeprecationWarning; they are no concern of the host.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(source, _FILENAME, mode)
        except SyntaxError as exc:
            return None, (f"syntax error: {exc.msg} (line {exc.lineno})",)
        except (RecursionError, MemoryError):
            return None, ("the source is nested too deeply",)
        transformer = _SandboxTransformer()
        try:
            transformer.visit(tree)
        except RecursionError:
            return None, ("the source is nested too deeply",)
        if transformer.errors:
            return None, tuple(dict.fromkeys(transformer.errors))
        return compile(ast.fix_missing_locations(tree), _FILENAME, mode), ()


def _normalised(source: str, mode: str) -> str:
    # Built-in eval() ignores surrounding whitespace (XML text has plenty); ast.parse does not.
    return source.strip() if mode == "eval" else source


def check_source(source: str, mode: str) -> list[str]:
    """Static check used at deploy time: [] when acceptable, else one message per problem."""
    return list(_compile(_normalised(source, mode), mode)[1])


def _compiled(source: str, mode: str) -> CodeType:
    code, problems = _compile(_normalised(source, mode), mode)
    if problems:
        raise SandboxViolation("; ".join(problems), "refused_source")
    return code


def _shorten_messages(error: BaseException) -> None:
    """Error text is shown and logged outside the sandbox: keep huge values out of it."""
    for _ in range(5):
        if error is None:
            return
        if any(_estimated_size(arg, _MAX_MESSAGE) > _MAX_MESSAGE for arg in error.args):
            error.args = tuple(
                arg[:_MAX_MESSAGE] + "…" if isinstance(arg, str) else "<value too large to show>"
                for arg in error.args
            )
        notes = getattr(error, "__notes__", None)
        if notes is not None and _estimated_size(notes, _MAX_MESSAGE) > _MAX_MESSAGE:
            error.__notes__ = ["<notes too large to show>"]
        error = error.__cause__ or error.__context__


# --- the environment --------------------------------------------------------------------------


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Runs BPMN/DMN expressions and scripts with RestrictedPython, under time and size budgets."""

    def __init__(
        self,
        environment_globals: dict | None = None,
        *,
        time_budget_s: float = 0.5,
        size_budget: int = 1_000_000,
    ):
        super().__init__(environment_globals)
        self.time_budget_s = time_budget_s
        self.size_budget = size_budget

    def function_names(self) -> frozenset[str]:
        """Every name a script can call: the product's functions and the sandbox's builtins (task data,
        being JSON, holds no functions)."""
        return frozenset(self.globals) | frozenset(SANDBOX_BUILTINS)

    def evaluate(self, expression, context, external_context=None):
        """The value of `expression`, with the task data as its globals (they win over injected names)."""
        code = _compiled(expression, "eval")
        namespace = {**self.globals, **(external_context or {}), **context, **_HELPERS}
        result = self._run(code, namespace)
        if not isinstance(result, (bool, int, float, type(None))):
            self._check_data_size(result, "the expression's value")
        return result

    def execute(self, script, context, external_context=None) -> bool:
        """Run `script` on a copy of the task data; on success its top-level names become the task data."""
        external_context = external_context or {}
        self._check_for_overwrite(context, external_context)
        code = _compiled(script, "exec")
        data = copy.deepcopy(context)
        namespace = {**data, **self.globals, **external_context, **_HELPERS}
        self._run(code, namespace)
        result = self._task_data(namespace, data, external_context)
        self._check_data_size(result, "the task data")
        context.clear()
        context.update(result)
        return True

    def _run(self, code: CodeType, namespace: dict):
        run = _Run(self.time_budget_s, self.size_budget)
        try:
            return self._traced(run, code, namespace)
        except SandboxViolation:
            raise
        except Exception as exc:
            if run.expired:
                raise run.timeout() from exc
            _shorten_messages(exc)
            raise

    @staticmethod
    def _traced(run: _Run, code: CodeType, namespace: dict):
        outer_run, outer_trace = getattr(_local, "run", None), sys.gettrace()
        _local.run = run
        gc.callbacks.append(run.on_gc)
        sys.settrace(run.on_call)
        try:
            return eval(code, namespace)  # noqa: S307 - compiled by _compile under the sandbox policy
        finally:
            sys.settrace(outer_trace)  # coverage tools and debuggers get theirs back
            gc.callbacks.remove(run.on_gc)
            _local.run = outer_run

    def _task_data(self, namespace: dict, data: dict, external_context: dict) -> dict:
        result = {
            name: value
            for name, value in namespace.items()
            if name not in _HELPERS
            and name not in self.globals
            and name not in external_context
            and not callable(value)
            and not isinstance(value, ModuleType)
        }
        for name in _HELPERS.keys() & data.keys():  # task data the helpers hid (scripts cannot touch it)
            result[name] = data[name]
        return result

    def _check_data_size(self, value, what: str) -> None:
        size = _estimated_size(value, self.size_budget)
        if size > self.size_budget:
            raise BudgetExceeded(
                f"{what} would be more than {self.size_budget:,} characters as JSON "
                f"(or nested more than {_MAX_NESTING} levels deep)",
                "size_budget",
            )

    def _check_for_overwrite(self, context: dict, external_context: dict) -> None:
        # As Spiff's TaskDataEnvironment: task data named like an injected function breaks it.
        clashes = (set(self.globals) | set(external_context)) & set(context)
        if clashes:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {clashes}"
            )

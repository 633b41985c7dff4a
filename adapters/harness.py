"""Which exceptions are the harness's, not the library's.

A conformance verdict is about the library only when the library produced it. An exception
raised while a case runs is the library's behaviour (``raises``, recorded with its type and
message) unless it arose in the harness: the adapter's expression naming something that does
not exist, an import failing, a program the library runs (a C compiler) missing or failing, or
a compiler of the framework missing. Those get a *cause*, a sentence naming the part that
failed, and become the outcome ``harness-error``: never a match, never a library finding.

The phases of ``Adapter.evaluate`` settle most of it (an exception while importing the library,
compiling the expression or making the operands is the harness's whatever it is); this module
reads the exception of the call itself, its chain (``__cause__``, ``__context__``) and its
traceback's frames.
"""

from __future__ import annotations

import subprocess
import types
from collections.abc import Iterator

#: the pseudo file name the expressions are compiled under, so a frame of one is recognised
EXPRESSION_FILE = "<binding {api}>"


def expression_file(api: str) -> str:
    return EXPRESSION_FILE.format(api=api)


def cause_of(exc: BaseException, api: str, toolchain_errors: tuple[str, ...] = ()) -> str | None:
    """The harness's part in ``exc``, raised by the call of binding ``api``, as a sentence; or
    None when it is the library's behaviour.

    ``toolchain_errors``: qualified names of exception types by which a framework says that a
    tool it runs is missing (Inductor's ``InvalidCxxCompiler``: no C++ compiler on the machine).
    """
    for link in _chain(exc):
        if isinstance(link, NameError) and _raised_by_expression(link, api):
            return f"the binding's expression names {link.name!r}, which is not defined " \
                   "(not an operand, and not among the adapter's modules)"
        if isinstance(link, AttributeError) and _raised_by_expression(link, api):
            owner = link.obj
            where = owner.__name__ if isinstance(owner, types.ModuleType) else type(owner).__name__
            return f"the binding's expression names {where}.{link.name}, which does not exist"
        if isinstance(link, ImportError):
            return f"an import failed inside the call: {one_line(link)}"
        if isinstance(link, FileNotFoundError) and _through_subprocess(link):
            return f"a program the library runs is missing on this machine: {link.filename}"
        if isinstance(link, subprocess.CalledProcessError):
            output = one_line(link.stderr or link.output or b"")
            return (f"a program the library runs failed: {_program(link.cmd)} exited with "
                    f"status {link.returncode}" + (f": {output}" if output else ""))
        if isinstance(link, OSError) and _through_subprocess(link):
            return f"a program the library runs could not be started: {one_line(link)}"
        if qualified_name(type(link)) in toolchain_errors:
            return f"a tool the framework needs is missing or broken: {one_line(link)}"
    return None


def qualified_name(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during, each once."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        link = pending.pop(0)
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        pending += [link.__cause__, link.__context__]


def _frames(exc: BaseException) -> Iterator[types.FrameType]:
    tb = exc.__traceback__
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _raised_by_expression(exc: BaseException, api: str) -> bool:
    """The expression's own frame raised ``exc``: it is the innermost Python frame (a function
    written in C has none, so its exceptions look raised by its caller; NameError and
    AttributeError from C are rare), or only a module's ``__getattr__`` (numpy's, Keras's lazy
    modules) lies beyond it."""
    frames = list(_frames(exc))
    files = [frame.f_code.co_filename for frame in frames]
    if expression_file(api) not in files:
        return False
    last = len(files) - 1 - files[::-1].index(expression_file(api))
    return all(frame.f_code.co_name == "__getattr__" for frame in frames[last + 1:])


def _through_subprocess(exc: BaseException) -> bool:
    """The exception came out of the standard library's ``subprocess``: the library ran a
    program (tinygrad runs clang on every new kernel, Inductor runs the C++ compiler)."""
    return any(frame.f_code.co_filename == subprocess.__file__ for frame in _frames(exc))


def _program(cmd) -> str:
    return str(cmd[0] if isinstance(cmd, (list, tuple)) and cmd else cmd)


def one_line(value, limit: int = 300) -> str:
    """An exception as "Type: message", or output, on one line: its last non-empty one."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, BaseException):
        value = f"{qualified_name(type(value))}: {value}"
    lines = [line.strip() for line in str(value).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else ""
    return text if len(text) <= limit else text[:limit] + "..."

"""Run an adapter's calls in a worker process, so a hang, a crash or a leak costs one
observation.

The worker imports the library once and serves calls over a pipe. A call that does not answer
within the timeout is an observation with error ``("Timeout", ...)``; a worker that dies (a
segfault or an abort inside the library) gives ``("Crash", "... signal SIGSEGV")``; a worker
whose resident memory passes the limit while it computes is stopped, and so is one whose call
raised MemoryError (its heap is then no use to the next call): ``("Crash", "out of memory:
...")``. Either way the worker is replaced and the next call proceeds. The reproducer of such a
case is rendered by a fresh worker that builds the inputs but never makes the call.

What fails on the harness's side (the worker cannot load the adapter, or a request fails in
our own code) is an observation with ``harness`` set (``adapters.harness``), never a crash or a
timeout of the library.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback

from adapters import load_adapter
from adapters.binding import DERIVATIVE_CHECKS, Case, Observation
from adapters.harness import one_line

DEFAULT_TIMEOUT = 60.0
#: for a compiled call (``Binding.compiled``): its first call in a worker imports and warms
#: the compiler and compiles, which took 10 s for Inductor on a quiet 2-core machine and over
#: 60 s under load
COMPILE_TIMEOUT = 300.0
#: how long a new worker may take to load the adapter's declarations (not the library, which
#: it imports on its first call)
STARTUP_TIMEOUT = 120.0
#: how often the memory of a computing worker is read
WATCH_INTERVAL = 0.1


def timeout_for(binding) -> float | None:
    """The call timeout a binding needs beyond the adapter's: a compiler's first call."""
    return COMPILE_TIMEOUT if binding.compiled else None


def default_memory_limit() -> int | None:
    """The resident memory a worker may use, in bytes: 40% of the machine's memory, at most
    8 GiB (two workers of a 2-core run then leave the machine a fifth of its memory); None
    where the machine does not say."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return min(8 * 2**30, int(0.4 * total))


def resident_bytes(pid: int) -> int | None:
    """The resident memory of process ``pid`` (Linux's /proc), or None where unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class HarnessFailure(Exception):
    """The worker could not serve a request, for a reason of ours: ``cause`` says which."""

    def __init__(self, cause: str, detail: str = ""):
        super().__init__(cause)
        self.cause, self.detail = cause, detail


def _serve(connection, adapter_path: str) -> None:
    try:
        adapter = load_adapter(adapter_path)
    except Exception:
        connection.send(("failed", traceback.format_exc()))
        return
    connection.send(("ready", None))
    while True:
        request = connection.recv()
        if request is None:
            return
        verb, api, case, check, wrt = request
        try:
            binding = adapter.binding(api)
            if verb == "evaluate":
                answer = adapter.evaluate(binding, case, check, wrt)
            else:
                answer = adapter.describe(binding, case, check, wrt)
            connection.send(answer)
        except Exception:  # a bug of ours, not the library's: report it, keep serving
            connection.send(("failed", traceback.format_exc()))


class IsolatedAdapter:
    """An adapter whose calls run in a replaceable worker process (see the module docstring).

    ``timeout``: seconds a call may take (a call may be given its own, ``evaluate``);
    ``memory_limit``: bytes of resident memory the worker may use while it computes (None: no
    limit; only where /proc tells a process's memory, as on Linux).
    """

    def __init__(self, adapter_path: str, timeout: float = DEFAULT_TIMEOUT,
                 memory_limit: int | None = None):
        self.adapter_path = adapter_path
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._context = multiprocessing.get_context("spawn")  # no forked library threads
        self._process = None
        self._connection = None
        self._library = None

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=_serve, args=(child, self.adapter_path), daemon=True
        )
        self._process.start()
        child.close()
        self._connection = parent
        if not parent.poll(STARTUP_TIMEOUT):
            self._stop(kill=True)
            raise HarnessFailure(f"the worker process did not load the adapter "
                                 f"{self.adapter_path} within {STARTUP_TIMEOUT:g} s")
        try:
            status, detail = parent.recv()
        except (EOFError, ConnectionError):
            how = self._death()
            raise HarnessFailure(f"the worker process died while loading the adapter "
                                 f"{self.adapter_path} ({how})") from None
        if status != "ready":
            self._stop(kill=True)
            raise HarnessFailure(f"the worker process could not load the adapter "
                                 f"{self.adapter_path}: {one_line(detail)}", detail)

    def _request(self, request, timeout: float):
        """The worker's answer: an Observation, or ("Timeout" | "Crash", message). Raises
        HarnessFailure when the worker fails for a reason of ours."""
        if self._process is None or not self._process.is_alive():
            self._start()
        self._connection.send(request)
        deadline = time.monotonic() + timeout
        while not self._connection.poll(min(WATCH_INTERVAL, max(0.0, deadline -
                                                                 time.monotonic()))):
            if time.monotonic() >= deadline:
                self._stop(kill=True)
                return ("Timeout", f"no answer within {timeout:g} s")
            used = resident_bytes(self._process.pid)
            if self.memory_limit is not None and used is not None and used > self.memory_limit:
                self._stop(kill=True)
                return ("Crash", f"out of memory: the worker process held {used / 2**20:.0f} "
                                 f"MiB, over the limit of {self.memory_limit / 2**20:.0f} MiB "
                                 "(XENT_MEMORY_LIMIT); it was stopped and replaced")
        try:
            answer = self._connection.recv()
        except (EOFError, ConnectionError):
            return ("Crash", f"the worker process died ({self._death()})")
        if isinstance(answer, tuple) and answer[:1] == ("failed",):
            raise HarnessFailure(f"the worker failed: {one_line(answer[1])}", answer[1])
        return answer

    def _death(self) -> str:
        """How the worker died (it is gone afterwards): a signal or an exit code."""
        self._process.join(5)
        code = self._process.exitcode
        self._stop(kill=True)
        return (f"signal {signal.Signals(-code).name}" if code is not None and code < 0
                else f"exit code {code}")

    def evaluate(self, api: str, case: Case, check: str = "value", wrt: str = "input",
                 timeout: float | None = None) -> Observation:
        """The observation of one call; ``timeout`` (seconds) overrides the adapter's."""
        try:
            answer = self._request(("evaluate", api, case, check, wrt), timeout or self.timeout)
        except HarnessFailure as failure:
            return self._bare(api, case, check, wrt, ("HarnessFailure", failure.detail
                                                      or failure.cause), failure.cause)
        if isinstance(answer, Observation):
            if answer.error is not None and answer.error[0] == "MemoryError" \
                    and answer.harness is None:
                # the heap of a worker that ran out is no use to the next call
                self._stop(kill=True)
                answer.error = ("Crash", f"out of memory: the call raised MemoryError "
                                         f"({answer.error[1]}); the worker was replaced")
            return answer
        # Timeout or crash: a fresh worker renders what was fed and the reproducer.
        try:
            observation = self._request(("describe", api, case, check, wrt), self.timeout)
        except HarnessFailure:
            observation = None
        if not isinstance(observation, Observation):
            observation = self._bare(api, case, check, wrt, answer, None)
        observation.error = answer
        return observation

    def describe(self, api: str, case: Case, check: str = "value",
                 wrt: str = "input") -> Observation:
        """What ``evaluate`` would feed, and its reproducer, without calling the library (no
        compile for a new shape): for naming one element of a batch already observed."""
        try:
            answer = self._request(("describe", api, case, check, wrt), self.timeout)
        except HarnessFailure as failure:
            return self._bare(api, case, check, wrt, ("HarnessFailure", failure.detail
                                                      or failure.cause), failure.cause)
        if isinstance(answer, Observation):
            return answer
        return self._bare(api, case, check, wrt, answer, "the adapter could not describe the "
                                                         "call")

    def _bare(self, api: str, case: Case, check: str, wrt: str, error: tuple,
              cause: str | None) -> Observation:
        """An observation of a call that no worker could make or describe."""
        if self._library is None:
            self._library = load_adapter(self.adapter_path).library
        return Observation(api, self._library, "unknown", case.dtype, dict(case.inputs),
                           wrt=wrt if check in DERIVATIVE_CHECKS else None, error=error,
                           derivative=check if check in DERIVATIVE_CHECKS else None,
                           harness=cause)

    def _stop(self, kill: bool = False) -> None:
        if self._process is None:
            return
        if kill:
            self._process.kill()
        else:
            try:
                self._connection.send(None)
            except (BrokenPipeError, OSError):
                pass
        self._process.join(10)
        self._connection.close()
        self._process = self._connection = None

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> IsolatedAdapter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""Run an adapter's calls in a worker process, so a hang or a crash costs one observation.

The worker imports the library once and serves calls over a pipe. A call that does not answer
within the timeout is an observation with error ``("Timeout", ...)``; a worker that dies (a
segfault or an abort inside the library) gives ``("Crash", "... signal SIGSEGV")``. Either way
the worker is replaced and the next call proceeds. The reproducer of such a case is rendered
by a fresh worker that builds the inputs but never makes the call.
"""

from __future__ import annotations

import multiprocessing
import signal
import traceback

from adapters.core import Case, Observation

DEFAULT_TIMEOUT = 60.0
#: for a compiled call (``Binding.compiled``): its first call in a worker imports and warms
#: the compiler and compiles, which took 10 s for Inductor on a quiet 2-core machine and over
#: 60 s under load
COMPILE_TIMEOUT = 300.0


def timeout_for(binding) -> float | None:
    """The call timeout a binding needs beyond the adapter's: a compiler's first call."""
    return COMPILE_TIMEOUT if binding.compiled else None


def _serve(connection, adapter_path: str) -> None:
    from adapters import load_adapter

    adapter = load_adapter(adapter_path)
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
        except Exception:  # a bug of ours, not the library's: report it, keep serving
            answer = RuntimeError(traceback.format_exc())
        connection.send(answer)


class IsolatedAdapter:
    """An adapter whose calls run in a replaceable worker process (see the module docstring)."""

    def __init__(self, adapter_path: str, timeout: float = DEFAULT_TIMEOUT):
        self.adapter_path = adapter_path
        self.timeout = timeout
        self._context = multiprocessing.get_context("spawn")  # no forked library threads
        self._process = None
        self._connection = None

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=_serve, args=(child, self.adapter_path), daemon=True
        )
        self._process.start()
        child.close()
        self._connection = parent

    def _request(self, request, timeout: float):
        if self._process is None or not self._process.is_alive():
            self._start()
        self._connection.send(request)
        if not self._connection.poll(timeout):
            self._stop(kill=True)
            return ("Timeout", f"no answer within {timeout:g} s")
        try:
            answer = self._connection.recv()
        except (EOFError, ConnectionError):
            self._process.join(5)
            code = self._process.exitcode
            self._stop(kill=True)
            how = (f"signal {signal.Signals(-code).name}" if code is not None and code < 0
                   else f"exit code {code}")
            return ("Crash", f"the worker process died ({how})")
        if isinstance(answer, Exception):
            raise answer
        return answer

    def evaluate(self, api: str, case: Case, check: str = "value", wrt: str = "input",
                 timeout: float | None = None) -> Observation:
        """The observation of one call; ``timeout`` (seconds) overrides the adapter's."""
        answer = self._request(("evaluate", api, case, check, wrt), timeout or self.timeout)
        if isinstance(answer, Observation):
            return answer
        # Timeout or crash: a fresh worker renders what was fed and the reproducer.
        observation = self._request(("describe", api, case, check, wrt), self.timeout)
        if not isinstance(observation, Observation):  # pragma: no cover - describe itself failed
            raise RuntimeError(f"{api}: could not describe the case after {answer[0]}")
        observation.error = answer
        return observation

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

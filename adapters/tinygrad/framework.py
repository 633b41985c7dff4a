"""tinygrad as the adapters compute with it: the CPU device, kernels compiled in the calling
process (no worker pool), by the ziglang package's zig cc where it is installed (``Tinygrad``);
gradients by ``Tensor.gradient``, Hessian-vector products by ``Tensor.gradient`` of that gradient
(tinygrad has no forward mode: no jvp).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import MappingProxyType

import numpy as np

from adapters.framework import Framework


class Tinygrad(Framework):
    """tinygrad on its CPU device, which compiles every kernel it runs (a new shape or dtype is
    a new kernel), and its own queue programs, by running the C compiler that ``CC`` names,
    ``clang`` unless set (tinygrad/runtime/support/compiler_cpu.py). ``DEV=CPU`` pins the
    device that would otherwise be the first one found; ``PARALLEL=0`` compiles in the calling
    process rather than in a pool of worker processes per test process. A float64 array is
    made a float64 tensor and cast: tinygrad casts float64 to float16 and bfloat16 through
    float32 (a double rounding: 1 + 2**-11 + 2**-40 becomes float16 1, not 1 + 2**-10), and
    ``fed`` records what it made. Results are lazy: reading one back runs its kernels, so a
    failure of the computation raises there.

    The compiler (``configure``, before tinygrad's first compile): a ``CC`` the user set; else
    the ``ziglang`` package's ``zig cc`` (the tinygrad dependency group installs it), so that
    every machine compiles with the same clang whatever it has; else ``clang`` on PATH; else
    tinygrad is unavailable. ``toolchain_versions`` says which. zig's clang (22 in ziglang
    0.17.1) takes ``__bf16``, so bfloat16 kernels compile, where Debian's clang 14 rejects
    them; the arithmetic is float32, rounded to bfloat16 after each operation by tinygrad's
    own code (tinygrad/renderer/cstyle.py, ``create_non_native_float_pats``)."""

    name = "tinygrad"
    modules = MappingProxyType({"tinygrad": "tinygrad"})
    source_spelling = ("tinygrad.Tensor", "tinygrad.Tensor.empty", "tinygrad.dtypes.{dtype}")
    list_spelling = "{name}.cast(tinygrad.dtypes.float64).tolist()"
    # not CC: a reproducer runs with its reader's own clang, not this machine's zig wrapper
    environment = MappingProxyType({"DEV": "CPU", "PARALLEL": "0"})
    # no forward mode in tinygrad (its autograd, tinygrad/gradient.py, is reverse only); its
    # gradients are tensors of the same lazy graph, so a gradient differentiates again
    derivatives = MappingProxyType({
        "hvp": "Tensor.gradient, then Tensor.gradient(gradient=direction) of that gradient"})

    #: the zig cc wrapper ``configure`` writes: tinygrad runs $CC as one program (no
    #: arguments of its own) with clang's flags, two of which zig needs changed
    _ZIG_CC = """\
#!{python} -IS
# clang for tinygrad's CPU device from the ziglang package, run by tinygrad as $CC; written
# by xent-conformance (adapters/tinygrad/framework.py, Tinygrad).
import os
import sys

ZIG = {zig!r}
args = []
for arg in sys.argv[1:]:
    if arg.startswith("--target="):
        # zig rejects clang's <arch>-none-unknown-elf: its name for it is <arch>-freestanding-none
        args += ["-target", arg.partition("=")[2].split("-")[0] + "-freestanding-none"]
    else:
        args.append(arg)
# -g0: zig cc emits DWARF by default, whose R_X86_64_32 relocations tinygrad's ELF loader
# refuses ("unknown relocation type 10")
os.execv(ZIG, [ZIG, "cc", "-g0", *args])
"""

    def __init__(self):
        #: (kind, what): ("CC", the user's program), ("ziglang", its version) or
        #: ("clang", its path), once chosen
        self._compiler: tuple[str, str] | None = None

    def configure(self, tinygrad):
        if tinygrad.Device.DEFAULT != "CPU":
            raise RuntimeError(f"DEV=CPU did not take effect: device {tinygrad.Device.DEFAULT}")
        self._choose_compiler()

    def version(self):
        # the package sets no __version__
        return importlib.metadata.version("tinygrad")

    def toolchain_versions(self):
        try:
            kind, what = self._choose_compiler()
        except RuntimeError:
            return {}
        if kind == "ziglang":
            return {"ziglang": what}
        line = self._version_line(what)
        if kind == "clang":
            found = re.search(r"version (\S+)", line)
            return {"clang": found.group(1) if found else line}
        return {"CC": f"{what}: {line}" if line else what}

    def _choose_compiler(self) -> tuple[str, str]:
        # CC must be set before tinygrad's first compile: its getenv caches what it read
        if self._compiler is not None:
            return self._compiler
        zig = self._ziglang_zig()
        user_cc = os.environ.get("CC")
        if user_cc and zig is not None and Path(user_cc).name == self._wrapper_name(zig):
            # our own wrapper, inherited from the process that wrote it
            self._compiler = ("ziglang", importlib.metadata.version("ziglang"))
        elif user_cc:
            if shutil.which(user_cc) is None:
                raise RuntimeError(f"CC={user_cc!r} is not a program on this machine (tinygrad's "
                                   "CPU device runs it to compile its kernels)")
            self._compiler = ("CC", user_cc)
        elif zig is not None:
            os.environ["CC"] = self._write_wrapper(zig)
            self._compiler = ("ziglang", importlib.metadata.version("ziglang"))
        elif (clang := shutil.which("clang")) is not None:
            self._compiler = ("clang", clang)
        else:
            raise RuntimeError("tinygrad's CPU device compiles its kernels with a C compiler: "
                               "no clang on PATH and the ziglang package is not installed "
                               "(pip install ziglang)")
        return self._compiler

    @staticmethod
    def _version_line(program: str) -> str:
        """The first line ``program --version`` prints ("" if it cannot say)."""
        try:
            done = subprocess.run([program, "--version"], capture_output=True, text=True,
                                  timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            return ""
        return (done.stdout.strip().splitlines() or [""])[0]

    @staticmethod
    def _ziglang_zig() -> Path | None:
        """The zig executable of the ziglang package, if installed (found, not imported:
        ``python -m ziglang`` is the package's interface)."""
        spec = importlib.util.find_spec("ziglang")
        if spec is None or spec.origin is None:
            return None
        zig = Path(spec.origin).parent / ("zig.exe" if os.name == "nt" else "zig")
        return zig if zig.is_file() else None

    @staticmethod
    def _wrapper_name(zig: Path) -> str:
        # one wrapper per Python and zig: each tox env has its own of both
        digest = hashlib.sha256(f"{sys.executable}\0{zig}".encode()).hexdigest()[:12]
        return f"zig-cc-{importlib.metadata.version('ziglang')}-{digest}"

    def _write_wrapper(self, zig: Path) -> str:
        """The path of the wrapper for ``zig`` (``_ZIG_CC``) under the per-user cache, written
        unless it is there already; in a fresh private temporary folder if the cache cannot be
        written."""
        text = self._ZIG_CC.format(python=sys.executable, zig=str(zig))
        name = self._wrapper_name(zig)
        try:
            cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            return self._write_executable(cache / "xent-conformance", name, text)
        except (OSError, RuntimeError):  # RuntimeError: no home folder
            folder = Path(tempfile.mkdtemp(prefix="xent-conformance-"))
            return self._write_executable(folder, name, text)

    @staticmethod
    def _write_executable(folder: Path, name: str, text: str) -> str:
        # to a temporary file renamed into place: a process running it (the suite's workers
        # write it at once) never sees it half written
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if path.is_file() and os.access(path, os.X_OK) and path.read_text() == text:
            return str(path)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=name + ".")
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.chmod(temporary, 0o755)
        os.replace(temporary, path)
        return str(path)

    def tensor(self, array, dtype, *, index=False):
        tinygrad = self.imported()
        if index:
            return tinygrad.Tensor(np.asarray(array, dtype=np.int64), dtype=tinygrad.dtypes.int64)
        made = tinygrad.Tensor(np.asarray(array, dtype=np.float64), dtype=tinygrad.dtypes.float64)
        # realized: a buffer of the dtype, as a user's tensor is (and as the reproducer's
        # literal makes it), not a cast the loss's kernel would fuse
        return made.cast(getattr(tinygrad.dtypes, dtype)).realize()

    def to_numpy(self, value):
        tinygrad = self.imported()
        if not isinstance(value, tinygrad.Tensor):
            value = tinygrad.Tensor(value)
        if tinygrad.dtypes.is_float(value.dtype):
            # every float widens to float64 exactly
            return value.cast(tinygrad.dtypes.float64).numpy()
        return value.numpy().astype(np.int64)

    def value_with_gradient(self, call, operands, wrt):
        value = call(operands)
        (gradient,) = value.sum().gradient(operands[wrt])
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"(gradient,) = ({call_source}).sum().gradient({wrt})",
                f"result = {to_list('gradient')}"]

    def value_with_hvp(self, call, operands, wrt, direction):
        value = call(operands)
        (gradient,) = value.sum().gradient(operands[wrt])
        # the vjp of the gradient with direction as its cotangent: H v (H is symmetric)
        (hvp,) = gradient.gradient(operands[wrt], gradient=direction)
        return value, hvp

    def derivative_source(self, check, call_source, wrt, to_list):
        return [f"loss = {call_source}",
                f"(gradient,) = loss.sum().gradient({wrt})",
                f"(hvp,) = gradient.gradient({wrt}, gradient=direction)",
                f"result = {to_list('hvp')}"]


TINYGRAD = Tinygrad()

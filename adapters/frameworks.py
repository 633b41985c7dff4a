"""The array frameworks the adapters compute with: torch, JAX, TensorFlow, NumPy, MLX,
PaddlePaddle and tinygrad.

Each framework is set up here once, for every adapter computing with it: its own adapter
(``pytorch``, ``jax_optax``, ``tf_nn``) and Keras with it as backend. A framework says

- the environment variables read at its import (set before the first import, and by every
  reproducer) and the settings applied after it (``configure``);
- its version;
- how a float64 NumPy array becomes one of its tensors of a dtype, and back to float64 NumPy
  exactly (bfloat16 included), and how a reproducer spells both;
- how it takes the gradient of the sum of a call's result, and how a reproducer spells that.

The settings are those that make numbers exact and repeatable on the CPU:

- torch: deterministic algorithms; no TF32 in matmuls and convolutions;
- JAX: the CPU platform; 64-bit types (without them a float64 request silently gives float32);
  the highest matmul precision;
- TensorFlow: deterministic ops; no TF32; C++ logs below warnings silenced;
- PaddlePaddle: the CPU device; one CPU thread per kernel (its default, set explicitly), so a
  reduction adds in one order; C++ logs below warnings silenced;
- NumPy: none;
- MLX: the CPU device (the mlx-cpu build has no other).
- tinygrad: the CPU device; kernels compiled in the calling process (no worker pool), by the
  ziglang package's zig cc where it is installed (``Tinygrad``).

Importing this module imports none of them: ``Adapter.namespace`` sets ``environment``, imports
the framework with the adapter's other modules and then calls ``configure``. The methods that
use the library must only be called after that.
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
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import ClassVar

import numpy as np

from adapters.base import array_source

#: writes the source of a float64 Python list of the named tensor
ToListSource = Callable[[str], str]


class Framework:
    """One array framework (see the module docstring). One instance of each subclass is shared
    by every adapter computing with it."""

    #: the import path, which is also the name versions are reported under: "torch", "jax", ...
    name: ClassVar[str]
    #: the names the calls and reproducers use -> import paths (``import {path} as {name}``)
    modules: ClassVar[Mapping[str, str]]
    #: environment variables read at import
    environment: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: whether ``value_and_gradient`` takes gradients
    autograd: ClassVar[bool] = True
    #: qualified names of the exceptions by which the framework says that a tool it runs is
    #: missing or broken (a compiler): the machine's fault, never the library's behaviour
    #: (``adapters.harness``; a tool run as a program is recognised without this)
    toolchain_errors: ClassVar[tuple[str, ...]] = ()

    def imported(self) -> ModuleType:
        """The framework's module (imported by ``Adapter.namespace``, environment set)."""
        return importlib.import_module(self.name)

    def configure(self, module: ModuleType) -> None:
        """Settings after import; applying them twice changes nothing."""

    def version(self) -> str:
        return str(getattr(self.imported(), "__version__", "unknown"))

    def toolchain_versions(self) -> dict[str, str]:
        """The programs the framework runs to compute (a C compiler), name -> version, for the
        run's record of library versions; {} when it runs none."""
        return {}

    def tensor(self, array: np.ndarray, dtype: str, *, index: bool = False):
        """A tensor of ``dtype`` holding ``array`` rounded to it (int64 class indices when
        ``index``)."""
        raise NotImplementedError

    def to_numpy(self, value) -> np.ndarray:
        """``value`` as a float64 NumPy array (int64 for integers), exactly."""
        raise NotImplementedError

    def tensor_source(self, array: np.ndarray, dtype: str) -> str:
        """Source code building the tensor of ``dtype`` that holds ``array``, from literals."""
        raise NotImplementedError

    def to_list_source(self, name: str) -> str:
        """Source code of the tensor called ``name`` as a float64 Python list."""
        raise NotImplementedError

    def value_and_gradient(self, call: Callable[[dict], object], operands: dict,
                           wrt: str | None):
        """``call(operands)`` and, with ``wrt``, the gradient of the sum of its elements with
        respect to ``operands[wrt]``: d(sum_i loss_i)/d wrt (None without ``wrt``)."""
        raise NotImplementedError

    def gradient_source(self, call_source: str, wrt: str, to_list: ToListSource) -> list[str]:
        """Reproducer lines setting ``result`` to that gradient, listed by ``to_list``."""
        raise NotImplementedError


def _numpy_to_float64(array: np.ndarray) -> np.ndarray:
    # float16, bfloat16 (ml_dtypes, dtype kind "V") and float32 all widen to float64 exactly
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    return array.astype(np.float64)


class Torch(Framework):
    name = "torch"
    modules = MappingProxyType({"torch": "torch"})
    # Inductor (torch.compile) looks for a C++ compiler before it runs one
    toolchain_errors = ("torch._inductor.exc.InvalidCxxCompiler",)

    def configure(self, torch):
        torch.use_deterministic_algorithms(True)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def tensor(self, array, dtype, *, index=False):
        torch = self.imported()
        if index:
            return torch.tensor(array, dtype=torch.int64)
        return torch.tensor(np.asarray(array, dtype=np.float64)).to(getattr(torch, dtype))

    def to_numpy(self, value):
        torch = self.imported()
        value = torch.as_tensor(value).detach()
        if value.dtype.is_floating_point:
            return value.to(torch.float64).numpy()
        return value.numpy()

    def tensor_source(self, array, dtype):
        return array_source(array, "torch.tensor", "torch.empty", f"torch.{dtype}")

    def to_list_source(self, name):
        return f"{name}.to(torch.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        torch = self.imported()
        if wrt is None:
            with torch.no_grad():
                return call(operands), None
        operand = operands[wrt].requires_grad_(True)
        value = call(operands)
        # allow_unused: a result that does not depend on the operand has no gradient (None)
        # rather than raising an error of ours
        (gradient,) = torch.autograd.grad(value.sum(), [operand], allow_unused=True)
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"{wrt}.requires_grad_(True)",
                f"loss = {call_source}",
                "loss.sum().backward()",
                f"result = {to_list(wrt + '.grad')}"]


class Jax(Framework):
    name = "jax"
    modules = MappingProxyType({"jax": "jax", "jnp": "jax.numpy"})
    # read by jax at import; configure() sets the same in case jax was imported before
    environment = MappingProxyType({"JAX_PLATFORMS": "cpu", "JAX_ENABLE_X64": "1",
                                    "JAX_DEFAULT_MATMUL_PRECISION": "highest"})

    def configure(self, jax):
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_default_matmul_precision", "highest")
        jax.config.update("jax_platforms", "cpu")
        # without x64, jax silently makes float32 of a float64 request
        if jax.numpy.asarray(0.0, dtype=jax.numpy.float64).dtype != jax.numpy.float64:
            raise RuntimeError("jax_enable_x64 did not take effect: no float64 arrays")

    def tensor(self, array, dtype, *, index=False):
        jnp = self.imported().numpy
        if index:
            return jnp.asarray(np.asarray(array), dtype=jnp.int64)
        return jnp.asarray(np.asarray(array, dtype=np.float64), dtype=getattr(jnp, dtype))

    def to_numpy(self, value):
        return _numpy_to_float64(np.asarray(value))

    def tensor_source(self, array, dtype):
        return array_source(array, "jnp.asarray", "jnp.zeros", f"jnp.{dtype}")

    def to_list_source(self, name):
        return f"{name}.astype(jnp.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        if wrt is None:
            return call(operands), None
        jax = self.imported()

        def total(x):
            value = call({**operands, wrt: x})
            return jax.numpy.sum(value), value

        # one evaluation gives both: the value rides along as auxiliary output
        (_, value), gradient = jax.value_and_grad(total, has_aux=True)(operands[wrt])
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"gradient = jax.grad(lambda {wrt}: jnp.sum({call_source}))({wrt})",
                f"result = {to_list('gradient')}"]


class TensorFlow(Framework):
    name = "tensorflow"
    modules = MappingProxyType({"tf": "tensorflow"})
    # TF_DETERMINISTIC_OPS: deterministic kernels from the first op on; TF_CPP_MIN_LOG_LEVEL:
    # no C++ info logs in the suite's output
    environment = MappingProxyType({"TF_CPP_MIN_LOG_LEVEL": "2", "TF_DETERMINISTIC_OPS": "1"})

    def configure(self, tf):
        tf.config.experimental.enable_op_determinism()
        tf.config.experimental.enable_tensor_float_32_execution(False)

    def tensor(self, array, dtype, *, index=False):
        tf = self.imported()
        if index:
            return tf.constant(np.asarray(array), dtype=tf.int64)
        return tf.cast(tf.constant(np.asarray(array, dtype=np.float64)), getattr(tf, dtype))

    def to_numpy(self, value):
        tf = self.imported()
        value = tf.convert_to_tensor(value)
        # cast in TensorFlow: a 0-d bfloat16 tensor cannot become a NumPy array (its
        # __array__ returns a scalar)
        if value.dtype.is_floating:
            return tf.cast(value, tf.float64).numpy()
        return value.numpy()

    def tensor_source(self, array, dtype):
        return array_source(array, "tf.constant", "tf.zeros", f"tf.{dtype}")

    def to_list_source(self, name):
        return f"tf.cast({name}, tf.float64).numpy().tolist()"

    def value_and_gradient(self, call, operands, wrt):
        if wrt is None:
            return call(operands), None
        tf = self.imported()
        operand = operands[wrt]
        with tf.GradientTape() as tape:
            tape.watch(operand)
            value = call(operands)
            total = tf.reduce_sum(value)
        return value, tape.gradient(total, operand)

    def gradient_source(self, call_source, wrt, to_list):
        return ["with tf.GradientTape() as tape:",
                f"    tape.watch({wrt})",
                f"    loss = {call_source}",
                "    total = tf.reduce_sum(loss)",
                f"gradient = tape.gradient(total, {wrt})",
                f"result = {to_list('gradient')}"]


class Paddle(Framework):
    name = "paddle"
    modules = MappingProxyType({"paddle": "paddle"})
    # FLAGS_paddle_num_threads: the CPU kernels' thread count, read at import (1 is the
    # default; stated so a machine-wide setting cannot change the order of a sum);
    # GLOG_minloglevel: no C++ info logs in the suite's output
    environment = MappingProxyType({"FLAGS_paddle_num_threads": "1", "GLOG_minloglevel": "2"})

    def configure(self, paddle):
        paddle.set_device("cpu")
        paddle.set_flags({"FLAGS_paddle_num_threads": 1})

    def tensor(self, array, dtype, *, index=False):
        paddle = self.imported()
        if index:
            return paddle.to_tensor(np.asarray(array), dtype=paddle.int64)
        return paddle.to_tensor(np.asarray(array, dtype=np.float64)).astype(dtype)

    def to_numpy(self, value):
        paddle = self.imported()
        # a tensor as it is (to_tensor of a tensor copies it, with a warning)
        value = (value if isinstance(value, paddle.Tensor) else paddle.to_tensor(value)).detach()
        if paddle.is_floating_point(value):
            return value.astype(paddle.float64).numpy()
        return value.numpy()

    def tensor_source(self, array, dtype):
        return array_source(array, "paddle.to_tensor", "paddle.empty", f"paddle.{dtype}")

    def to_list_source(self, name):
        return f"{name}.astype(paddle.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        paddle = self.imported()
        if wrt is None:
            with paddle.no_grad():
                return call(operands), None
        operand = operands[wrt]
        operand.stop_gradient = False
        value = call(operands)
        # allow_unused: a result that does not depend on the operand has no gradient (None)
        # rather than raising an error of ours
        (gradient,) = paddle.grad([value.sum()], [operand], allow_unused=True)
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"{wrt}.stop_gradient = False",
                f"loss = {call_source}",
                "loss.sum().backward()",
                f"result = {to_list(wrt + '.grad')}"]


class NumPy(Framework):
    name = "numpy"
    modules = MappingProxyType({"np": "numpy"})
    autograd = False
    _no_autograd = "numpy has no automatic differentiation"

    def tensor(self, array, dtype, *, index=False):
        if index:
            return np.asarray(array, dtype=np.int64)
        return np.asarray(array, dtype=np.float64).astype(dtype)

    def to_numpy(self, value):
        return _numpy_to_float64(np.asarray(value))

    def tensor_source(self, array, dtype):
        return array_source(array, "np.array", "np.empty", f"np.{dtype}")

    def to_list_source(self, name):
        return f"np.asarray({name}, dtype=np.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        if wrt is not None:
            raise NotImplementedError(self._no_autograd)
        return call(operands), None

    def gradient_source(self, call_source, wrt, to_list):
        return [f"loss = {call_source}", f"raise NotImplementedError({self._no_autograd!r})"]


class Mlx(Framework):
    """MLX on the CPU (the ``mlx-cpu`` build: no Metal, no CUDA). ``mx.array`` of a float64
    NumPy array makes float32 unless told the dtype, so tensors are made as float64 and cast;
    MLX casts float64 to float16 and bfloat16 through float32 (a double rounding: 1 + 2**-8 +
    2**-30 becomes bfloat16 1, not 1 + 2**-7), and ``fed`` records what it made."""

    name = "mlx"
    modules = MappingProxyType({"mx": "mlx.core"})

    def imported(self):
        # mlx is a namespace package: the arrays, the version and the devices are mlx.core's
        return importlib.import_module("mlx.core")

    def configure(self, mx):
        mx.set_default_device(mx.cpu)

    def tensor(self, array, dtype, *, index=False):
        mx = self.imported()
        if index:
            return mx.array(np.asarray(array, dtype=np.int64), dtype=mx.int64)
        return mx.array(np.asarray(array, dtype=np.float64), dtype=mx.float64).astype(
            getattr(mx, dtype))

    def to_numpy(self, value):
        mx = self.imported()
        value = mx.array(value)
        # evaluate first: an error of the lazy computation then raises, where NumPy's buffer
        # read of an unevaluated array swallows it and returns uninitialised memory
        mx.eval(value)
        if mx.issubdtype(value.dtype, mx.floating):
            # (NumPy cannot read a bfloat16 buffer; every float widens to float64 exactly)
            return np.array(value.astype(mx.float64))
        return np.array(value).astype(np.int64)

    def tensor_source(self, array, dtype):
        return array_source(array, "mx.array", "mx.zeros", f"mx.{dtype}")

    def to_list_source(self, name):
        return f"{name}.astype(mx.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        if wrt is None:
            return call(operands), None
        mx = self.imported()

        def total(x):
            value = call({**operands, wrt: x})
            return mx.sum(value), value

        # the first output is differentiated, the value rides along
        (_, value), gradient = mx.value_and_grad(total)(operands[wrt])
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"gradient = mx.grad(lambda {wrt}: mx.sum({call_source}))({wrt})",
                f"result = {to_list('gradient')}"]


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
    # not CC: a reproducer runs with its reader's own clang, not this machine's zig wrapper
    environment = MappingProxyType({"DEV": "CPU", "PARALLEL": "0"})

    #: the zig cc wrapper ``configure`` writes: tinygrad runs $CC as one program (no
    #: arguments of its own) with clang's flags, two of which zig needs changed
    _ZIG_CC = """\
#!{python} -IS
# clang for tinygrad's CPU device from the ziglang package, run by tinygrad as $CC; written
# by xent-conformance (adapters/frameworks.py, Tinygrad).
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

    def tensor_source(self, array, dtype):
        return array_source(array, "tinygrad.Tensor", "tinygrad.Tensor.empty",
                            f"tinygrad.dtypes.{dtype}")

    def to_list_source(self, name):
        return f"{name}.cast(tinygrad.dtypes.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        value = call(operands)
        if wrt is None:
            return value, None
        (gradient,) = value.sum().gradient(operands[wrt])
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"(gradient,) = ({call_source}).sum().gradient({wrt})",
                f"result = {to_list('gradient')}"]


TORCH, JAX, TENSORFLOW, NUMPY = Torch(), Jax(), TensorFlow(), NumPy()
MLX, PADDLE, TINYGRAD = Mlx(), Paddle(), Tinygrad()
FRAMEWORKS = MappingProxyType({f.name: f for f in (TORCH, JAX, TENSORFLOW, NUMPY, MLX, PADDLE,
                                                   TINYGRAD)})

__all__ = ["FRAMEWORKS", "JAX", "MLX", "NUMPY", "PADDLE", "TENSORFLOW", "TINYGRAD", "TORCH",
           "Framework", "ToListSource"]

"""Keras: the cross-entropy losses of Keras 3 on each backend, and of legacy tf_keras.

One adapter class, parameterised by the backend: "tensorflow", "jax", "torch", "numpy" (Keras 3
with ``KERAS_BACKEND`` set) or "tf_keras" (TF-Keras 2 as ``tf.keras`` with
``TF_USE_LEGACY_KERAS=1``). Left out, it is read from those two environment variables; the
reproducers set the same variables (and, for JAX, ``JAX_ENABLE_X64=1``: without it a float64
array is silently a float32 one).

What is declared and what is not:

- ``from_logits`` picks the oracle loss, so each value is its own binding:
  ``keras.losses.BinaryCrossentropy`` computes ``binary_cross_entropy`` (probabilities) and
  ``keras.losses.BinaryCrossentropy(from_logits=True)`` computes
  ``binary_cross_entropy_with_logits``; likewise ``categorical_cross_entropy`` /
  ``cross_entropy`` for the categorical and sparse losses. Each loss has its class form
  (``cls(...)(y_true, y_pred, sample_weight=...)``) and its function form (per-sample losses).
- Binary cross-entropy averages over the last axis: ``average_last_axis=True``, fixed.
- Keras's clipping of probabilities to ``[epsilon, 1 - epsilon]``, tf_keras's ``+ epsilon``
  inside the logs and the renormalisation of probabilities over the class axis are not declared:
  they are departures from the exact loss, for the conformance suite to find and register (each
  binding's ``notes`` say which apply). The renormalisation changes the gradient with respect to
  the probabilities everywhere, so the categorical losses on probabilities declare none.
- Keras 3 loss objects compute in their ``dtype`` argument (default ``floatx()``, float32) and
  cast ``y_true``, ``y_pred`` and ``sample_weight`` to it (``Loss.__call__`` in
  ``keras/src/losses/loss.py``), so a float64 tensor given to ``BinaryCrossentropy()`` is
  computed in float32. The calls here pass ``dtype=`` the case's dtype, as a user computing in
  that dtype writes. The functions and tf_keras compute in the dtype of ``y_pred``.
- ``fed`` holds what the call was given. Inside, off TensorFlow, Keras's type promotion maps
  float64 to float32 (``BIT64_TO_BIT32_DTYPE`` in ``keras/src/backend/common/dtypes.py``):
  ``ops.mean`` (binary cross-entropy's per-sample mean), the mean reductions' ``divide_no_nan``
  and, on the numpy backend, ``convert_to_tensor`` without a dtype (every loss function's first
  step) compute float64 cases in float32. The class indices of
  ``SparseCategoricalCrossentropy`` are cast to the loss's float dtype (``Loss.__call__``), so
  in float16 / bfloat16 indices above 2048 / 256 can be rounded.
"""

from __future__ import annotations

import importlib
import os
import re

import numpy as np

from adapters.base import Adapter, literal
from adapters.core import Binding
from adapters.tf_nn import ENVIRONMENT as TF_ENVIRONMENT
from adapters.tf_nn import (
    configure_tensorflow,
    tape_gradient_source,
    tape_value_and_gradient,
    tensorflow_source,
    tensorflow_to_numpy,
)

KERAS3_BACKENDS = ("tensorflow", "jax", "torch", "numpy")
BACKENDS = (*KERAS3_BACKENDS, "tf_keras")


def backend_from_environment() -> str:
    """The backend the environment selects: tf_keras when ``TF_USE_LEGACY_KERAS`` is set,
    otherwise ``KERAS_BACKEND`` (Keras's own default: tensorflow)."""
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        return "tf_keras"
    return os.environ.get("KERAS_BACKEND", "tensorflow")


# --- the declarations -------------------------------------------------------------------------

_SMOOTHING = {"label_smoothing": "label_smoothing={}"}
_AXIS = {"axis": "axis={}"}
_SAMPLE_WEIGHT = {"sample_weight": "sample_weight=sample_weight"}
_IGNORE_CLASS = {"ignore_index": "ignore_class={}"}
_KERAS3_REDUCTIONS = {"none": "None", "sum": "'sum'",
                      "sum_over_batch_size": "'sum_over_batch_size'", "mean": "'mean'"}
# tf_keras has no "mean"; its "auto" is "sum_over_batch_size" outside tf.distribute.
_TF_KERAS_REDUCTIONS = {"none": "'none'", "sum": "'sum'",
                        "sum_over_batch_size": "'sum_over_batch_size'"}
_FUNCTION_REDUCTIONS = {"none": ""}  # the functions return per-sample losses
_BCE = {"average_last_axis": True}
_LOSS_NAMES = {  # oracle-facing name -> (class, function)
    "binary": ("BinaryCrossentropy", "binary_crossentropy"),
    "categorical": ("CategoricalCrossentropy", "categorical_crossentropy"),
    "sparse": ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"),
}

_CLIP = "clipped to [1e-7, 1 - 1e-7] (backend.epsilon()) before the log"
#: what each backend computes, as read in its source (keras/src/backend/<backend>/nn.py,
#: tf_keras/src/backend.py)
_NOTES = {
    "binary": {
        "tensorflow": f"p {_CLIP}; mean over the last axis.",
        "jax": f"p {_CLIP}; mean over the last axis.",
        "numpy": f"p {_CLIP}; mean over the last axis.",
        "torch": f"p {_CLIP}, then torch's binary_cross_entropy (log clamped at -100); mean "
                 "over the last axis.",
        "tf_keras": f"p {_CLIP}, and 1e-7 added inside both logs; mean over the last axis.",
    },
    "binary logits": {
        "tensorflow": "tf.nn.sigmoid_cross_entropy_with_logits; mean over the last axis.",
        "tf_keras": "tf.nn.sigmoid_cross_entropy_with_logits; mean over the last axis.",
        "jax": "-y log_sigmoid(x) - (1 - y) log_sigmoid(-x); mean over the last axis.",
        "torch": "torch's binary_cross_entropy_with_logits; mean over the last axis.",
        "numpy": f"sigmoid(x), {_CLIP.replace('before the log', 'then the probability formula')}"
                 "; mean over the last axis.",
    },
    "categorical": (f"p divided by its sum over the class axis, then {_CLIP}; the gradient with "
                    "respect to p is that of the renormalised loss, so it is not declared."),
    "sparse": {
        "tensorflow": f"p {_CLIP}, then tf.nn.sparse_softmax_cross_entropy_with_logits of "
                      "log p: renormalised after clipping; no declared gradient (renormalised).",
        "tf_keras": f"p {_CLIP}, then tf.nn.sparse_softmax_cross_entropy_with_logits of log p: "
                    "renormalised after clipping; no declared gradient (renormalised).",
        "other": f"p divided by its sum over the class axis, then {_CLIP}; no declared "
                 "gradient (renormalised).",
    },
    "sparse logits": ("ignore_class: ignored samples cost 0 and leave the mean's divisor. The "
                      "class's oracle 'mean' is Keras's 'mean_with_sample_weight' (sum of the "
                      "weighted losses over the sum of the kept samples' weights); Keras's "
                      "'mean' is its 'sum_over_batch_size'."),
}


def _note(key: str, backend: str) -> str:
    note = _NOTES[key]
    if isinstance(note, str):
        return note
    return note.get(backend, note.get("other", ""))


def bindings_for(backend: str) -> tuple[Binding, ...]:
    """The six losses in their class and function forms, as ``backend`` offers them."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown Keras backend {backend!r}; expected one of {BACKENDS}")
    legacy = backend == "tf_keras"
    prefix = "tf.keras" if legacy else "keras"
    library = "tf_keras" if legacy else "keras"
    autograd = backend != "numpy"
    both = ("input", "target") if autograd else ()
    # A 0-d binary loss (one element, averaged over its "last axis") works on the torch
    # backend only; the others reject a rank-0 input.
    binary_ranks = (0, 1, 2, 3, 4) if backend == "torch" else (1, 2, 3, 4)
    # Keras renormalises probabilities over the class axis (p / sum(p)) before the log: the
    # value is the oracle's wherever p sums to 1, but the gradient with respect to p is the
    # renormalised loss's (it differs by sum(q) / sum(p) in every element).
    target_only = ("target",) if autograd else ()
    input_only = ("input",) if autograd else ()
    reductions = _TF_KERAS_REDUCTIONS if legacy else _KERAS3_REDUCTIONS
    # Class indices with logits are the oracle's cross_entropy, whose "mean" is the
    # sample-weighted mean: Keras 3's "mean_with_sample_weight".
    weighted_mean = reductions if legacy else {**reductions, "mean": "'mean_with_sample_weight'"}
    # Keras 3 loss objects compute in their dtype argument: it is the case's dtype.
    dtype_kw = "" if legacy else ", dtype={dtype}"

    def declare(kind: str, loss: str, options: dict, *, logits: bool, note: str,
                class_reductions=reductions, **declared) -> list[Binding]:
        cls, function = _LOSS_NAMES[kind]
        suffix = "(from_logits=True)" if logits else ""
        flag = "from_logits=True, " if logits else ""
        return [
            Binding(api=f"{prefix}.losses.{cls}{suffix}", library=library, loss=loss,
                    expression=(f"{prefix}.losses.{cls}({flag}reduction={{reduction}}"
                                f"{{options}}{dtype_kw})(target, input{{call_options}})"),
                    options={**options, **_SAMPLE_WEIGHT}, call_options=("sample_weight",),
                    reductions=class_reductions, notes=note, **declared),
            Binding(api=f"{prefix}.losses.{function}{suffix}", library=library, loss=loss,
                    expression=(f"{prefix}.losses.{function}(target, input"
                                f"{', from_logits=True' if logits else ''}{{options}})"),
                    options=options, reductions=_FUNCTION_REDUCTIONS, notes=note, **declared),
        ]

    return tuple([
        *declare("binary", "binary_cross_entropy", _SMOOTHING, logits=False,
                 fixed_options=_BCE, ranks=binary_ranks, gradients=both,
                 note=_note("binary", backend)),
        *declare("binary", "binary_cross_entropy_with_logits", _SMOOTHING, logits=True,
                 fixed_options=_BCE, ranks=binary_ranks, gradients=both,
                 note=_note("binary logits", backend)),
        # The categorical forms have their classes on the last axis, the oracle's
        # cross_entropy on axis 1: they agree for (C,) and (N, C) inputs. (Keras also takes
        # (N, d1, ..., C), which the categorical_cross_entropy forms could state with axis=-1,
        # but only where the probabilities sum to 1 on that axis.)
        *declare("categorical", "categorical_cross_entropy", {**_SMOOTHING, **_AXIS},
                 logits=False, targets=("probabilities",), ranks=(1, 2), gradients=target_only,
                 note=_note("categorical", backend)),
        *declare("categorical", "cross_entropy", _SMOOTHING, logits=True,
                 targets=("probabilities",), ranks=(1, 2), gradients=both, note=""),
        # The sparse forms offer no axis (TensorFlow accepts only the last one, tf_keras's class
        # has no axis argument). ignore_class is offered with logits only: the oracle's loss on
        # probabilities, categorical_cross_entropy, has no ignore_index.
        *declare("sparse", "categorical_cross_entropy", {}, logits=False,
                 targets=("indices",), ranks=(1, 2), gradients=(),
                 note=_note("sparse", backend)),
        *declare("sparse", "cross_entropy", _IGNORE_CLASS, logits=True, targets=("indices",),
                 ranks=(1, 2), gradients=input_only, class_reductions=weighted_mean,
                 note=_note("sparse logits", backend)),
    ])


# --- the adapter ------------------------------------------------------------------------------


class KerasAdapter(Adapter):
    """Keras losses on one backend (see the module docstring)."""

    def __init__(self, backend: str | None = None):
        super().__init__()
        self.backend = backend or backend_from_environment()
        self.bindings = bindings_for(self.backend)
        if self.backend == "tf_keras":
            self.library = "tf_keras"
            self.version_module = "tf_keras"
            self.modules = {"tf": "tensorflow", "tf_keras": "tf_keras"}
            self.environment = {**TF_ENVIRONMENT, "TF_USE_LEGACY_KERAS": "1"}
            return
        self.library = "keras"
        self.version_module = "keras"
        self.modules = {"keras": "keras"}
        self.environment = {"KERAS_BACKEND": self.backend}
        if self.backend == "tensorflow":
            self.modules["tf"] = "tensorflow"
            self.environment = {**TF_ENVIRONMENT, **self.environment}
        elif self.backend == "jax":
            self.modules["jax"] = "jax"
            self.environment["JAX_ENABLE_X64"] = "1"  # else float64 arrays become float32
        elif self.backend == "torch":
            self.modules["torch"] = "torch"

    def configure(self, namespace):
        if self.backend == "tf_keras":
            configure_tensorflow(namespace["tf"])
            module = namespace["tf"].keras.losses.BinaryCrossentropy.__module__
            if not module.startswith("tf_keras"):
                raise RuntimeError(f"tf.keras is {module.split('.')[0]}, not tf_keras: "
                                   "Keras was imported before TF_USE_LEGACY_KERAS=1 was set")
            return
        actual = namespace["keras"].backend.backend()
        if actual != self.backend:
            raise RuntimeError(f"Keras runs on the {actual} backend, not {self.backend}: it was "
                               f"imported before KERAS_BACKEND={self.backend} was set")
        if self.backend == "tensorflow":
            configure_tensorflow(namespace["tf"])
        elif self.backend == "jax":
            namespace["jax"].config.update("jax_enable_x64", True)
        elif self.backend == "torch":
            torch = namespace["torch"]
            torch.use_deterministic_algorithms(True)
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def version(self) -> str:
        """The Keras version and the backend library doing the arithmetic."""
        version = super().version()
        module = {"tf_keras": "tensorflow"}.get(self.backend, self.backend)
        backend = importlib.import_module(module)
        return f"{version} ({module} {getattr(backend, '__version__', 'unknown')})"

    # --- tensors ------------------------------------------------------------------------------

    def tensor(self, array, dtype, *, index=False):
        ns = self.namespace()
        if self.backend == "tf_keras":
            tf = ns["tf"]
            if index:
                return tf.constant(np.asarray(array), dtype=tf.int64)
            return tf.cast(tf.constant(np.asarray(array, dtype=np.float64)), getattr(tf, dtype))
        ops = ns["keras"].ops
        if index:
            return ops.convert_to_tensor(np.asarray(array, dtype=np.int64), dtype="int64")
        return ops.cast(ops.convert_to_tensor(np.asarray(array, dtype=np.float64),
                                              dtype="float64"), dtype)

    def to_numpy(self, value):
        if self.backend == "tf_keras":
            return tensorflow_to_numpy(self.namespace()["tf"], value)
        keras = self.namespace()["keras"]
        # (not convert_to_tensor(value): off TensorFlow, Keras makes float32 of float64 there)
        if "float" in keras.backend.standardize_dtype(value.dtype):
            # Cast in the backend: a 0-d bfloat16 TensorFlow tensor cannot become a NumPy
            # array (its __array__ returns a scalar), and float64 holds every float exactly.
            value = keras.ops.cast(value, "float64")
        return np.asarray(keras.ops.convert_to_numpy(value))

    def tensor_source(self, array, dtype, *, index=False, differentiable=False):
        dtype = "int64" if index else dtype
        if self.backend == "tf_keras":
            return tensorflow_source(array, dtype)
        if np.size(array) == 0:
            return f"keras.ops.zeros({np.shape(array)}, dtype={dtype!r})"
        return f"keras.ops.convert_to_tensor({literal(array)}, dtype={dtype!r})"

    # --- calls --------------------------------------------------------------------------------

    def value_and_gradient(self, call, operands, wrt):
        ns = self.namespace()
        if self.backend in ("tensorflow", "tf_keras"):
            return tape_value_and_gradient(ns["tf"], call, operands, wrt)
        if wrt is None:
            return call(operands), None
        if self.backend == "jax":
            jax = ns["jax"]

            def total(x):
                value = call({**operands, wrt: x})
                return jax.numpy.sum(value), value

            (_, value), gradient = jax.value_and_grad(total, has_aux=True)(operands[wrt])
            return value, gradient
        if self.backend == "torch":
            torch = ns["torch"]
            operand = operands[wrt].requires_grad_(True)
            value = call(operands)
            (gradient,) = torch.autograd.grad(value.sum(), [operand], allow_unused=True)
            return value, gradient
        raise NotImplementedError(f"Keras on {self.backend} has no automatic differentiation")

    def _to_list(self, name: str) -> str:
        if self.backend == "tf_keras":
            return f"tf.cast({name}, tf.float64).numpy().tolist()"
        return f"keras.ops.convert_to_numpy(keras.ops.cast({name}, 'float64')).tolist()"

    def value_source(self, call_source):
        return [f"loss = {call_source}", f"result = {self._to_list('loss')}"]

    def gradient_source(self, call_source, wrt):
        if self.backend in ("tensorflow", "tf_keras"):
            return tape_gradient_source(call_source, wrt, self._to_list("gradient"))
        if self.backend == "jax":
            return [f"def total({wrt}):",
                    f"    return jax.numpy.sum({call_source})",
                    f"gradient = jax.grad(total)({wrt})",
                    f"result = {self._to_list('gradient')}"]
        if self.backend == "torch":
            return [f"{wrt}.requires_grad_(True)",
                    f"loss = {call_source}",
                    "loss.sum().backward()",
                    f"result = {self._to_list(wrt + '.grad')}"]
        return [f"loss = {call_source}",
                f"# Keras on the {self.backend} backend has no automatic differentiation",
                "result = None"]

    def reproducer(self, binding, case, observation, source):
        """The base reproducer less the imports it does not use (the backend module is only
        needed for gradients, ``tf_keras`` only to be imported as ``tf.keras``)."""
        lines = super().reproducer(binding, case, observation, source).splitlines()
        body = "\n".join(line for line in lines if not line.startswith("import "))
        kept = []
        for line in lines:
            match = re.fullmatch(r"import (\S+)(?: as (\S+))?", line)
            name = match and (match.group(2) or match.group(1).split(".")[0])
            if name and not re.search(rf"\b{re.escape(name)}\.", body):
                continue
            kept.append(line)
        return "\n".join(kept) + "\n"

"""Keras: the cross-entropy losses of Keras 3 on each backend, and of legacy tf_keras.

One adapter class, parameterised by the backend: "tensorflow", "jax", "torch", "numpy" (Keras 3
with ``KERAS_BACKEND`` set) or "tf_keras" (TF-Keras 2 as ``tf.keras`` with
``TF_USE_LEGACY_KERAS=1``). Left out, it is read from those two environment variables; the
reproducers set the same variables. Everything that varies by backend is one ``KerasBackend``
record, looked up once: the array framework doing the arithmetic (the backend folder's
``framework.py``, set up as for its own adapter: for JAX the CPU platform, 64-bit types,
without which a float64 array is silently a float32 one, and the highest matmul precision), how
tensors are made, the API spellings, reductions, ranks and notes of the declarations.

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

import functools
import importlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from adapters import compiled
from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.framework import Framework
from adapters.jax.framework import JAX
from adapters.numpy.framework import NUMPY
from adapters.source import array_source
from adapters.tensorflow.framework import TENSORFLOW
from adapters.torch.framework import TORCH


def backend_from_environment() -> str:
    """The backend the environment selects: tf_keras when ``TF_USE_LEGACY_KERAS`` is set,
    otherwise ``KERAS_BACKEND`` (Keras's own default: tensorflow)."""
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        return "tf_keras"
    return os.environ.get("KERAS_BACKEND", "tensorflow")


# --- what varies by backend -------------------------------------------------------------------

# Keras 3's "mean_with_sample_weight" divides by the summed sample weights: the oracle's
# "weighted_mean".
_KERAS3_REDUCTIONS = {"none": "None", "sum": "'sum'",
                      "sum_over_batch_size": "'sum_over_batch_size'", "mean": "'mean'",
                      "weighted_mean": "'mean_with_sample_weight'"}
# tf_keras has no "mean"; its "auto" is "sum_over_batch_size" outside tf.distribute.
_TF_KERAS_REDUCTIONS = {"none": "'none'", "sum": "'sum'",
                        "sum_over_batch_size": "'sum_over_batch_size'"}

_CLIP = "clipped to [1e-7, 1 - 1e-7] (backend.epsilon()) before the log"
# What each backend computes, as read in its source (keras/src/backend/<backend>/nn.py,
# tf_keras/src/backend.py); the notes every backend shares are with the declarations.
_CLIPPED_BINARY = f"p {_CLIP}; mean over the last axis."
_TF_SIGMOID = "tf.nn.sigmoid_cross_entropy_with_logits; mean over the last axis."
_TF_SPARSE = (f"p {_CLIP}, then tf.nn.sparse_softmax_cross_entropy_with_logits of log p: "
              "renormalised after clipping; no declared gradient (renormalised).")
_RENORMALISED_SPARSE = (f"p divided by its sum over the class axis, then {_CLIP}; no declared "
                        "gradient (renormalised).")


class KerasOps:
    """Tensors made and listed as a Keras 3 user does, with ``keras.ops`` on any backend."""

    def tensor(self, array, dtype, *, index=False):
        ops = importlib.import_module("keras").ops
        if index:
            return ops.convert_to_tensor(np.asarray(array, dtype=np.int64), dtype="int64")
        return ops.cast(ops.convert_to_tensor(np.asarray(array, dtype=np.float64),
                                              dtype="float64"), dtype)

    def tensor_source(self, array, dtype):
        return array_source(array, "keras.ops.convert_to_tensor", "keras.ops.zeros", repr(dtype))

    def to_list_source(self, name):
        return f"keras.ops.convert_to_numpy(keras.ops.cast({name}, 'float64')).tolist()"


KERAS_OPS = KerasOps()


@dataclass(frozen=True)
class KerasBackend:
    """Keras on one backend: what the adapter and the declarations vary by."""

    name: str
    #: the array framework doing the arithmetic: set-up, reading results back, gradients
    framework: Framework
    #: the library as results name it, and the prefix of its API names
    library: str
    prefix: str
    #: the modules the calls and reproducers use (the framework's included)
    modules: Mapping[str, str]
    #: set before import and by the reproducers (the framework's included)
    environment: Mapping[str, str]
    #: makes the tensors and writes them and their lists as source (``tensor``,
    #: ``tensor_source``, ``to_list_source``): ``KERAS_OPS``, or TensorFlow for tf_keras
    arrays: KerasOps | Framework
    #: raises when the import did not give this backend (Keras imported before the
    #: environment selected it)
    confirm: Callable[[dict], None]
    #: the loss classes' reductions; those of the class taking class indices with logits,
    #: whose oracle "mean" is the sample-weighted mean
    reductions: Mapping[str, str]
    weighted_reductions: Mapping[str, str]
    #: appended to the loss class's arguments: Keras 3 loss objects compute in their dtype
    #: argument, which is the case's dtype
    dtype_keyword: str
    #: the input ranks of the binary losses
    binary_ranks: tuple[int, ...]
    #: the notes of the losses where the backend's source differs: "binary", "binary logits",
    #: "sparse"
    notes: Mapping[str, str]
    #: SparseCategoricalCrossentropy takes an axis (tf_keras's class has none)
    sparse_class_axis: bool = True

    @property
    def autograd(self) -> bool:
        return self.framework.autograd


def _confirm_keras3(backend: str, namespace: dict) -> None:
    actual = namespace["keras"].backend.backend()
    if actual != backend:
        raise RuntimeError(f"Keras runs on the {actual} backend, not {backend}: it was "
                           f"imported before KERAS_BACKEND={backend} was set")


def _confirm_tf_keras(namespace: dict) -> None:
    module = namespace["tf"].keras.losses.BinaryCrossentropy.__module__
    if not module.startswith("tf_keras"):
        raise RuntimeError(f"tf.keras is {module.split('.')[0]}, not tf_keras: "
                           "Keras was imported before TF_USE_LEGACY_KERAS=1 was set")


def _keras3(name: str, framework: Framework, *, binary, binary_logits, sparse,
            binary_ranks=(1, 2, 3, 4)) -> KerasBackend:
    return KerasBackend(
        name=name, framework=framework, library="keras", prefix="keras",
        modules={"keras": "keras", **framework.modules},
        environment={**framework.environment, "KERAS_BACKEND": name},
        arrays=KERAS_OPS, confirm=functools.partial(_confirm_keras3, name),
        reductions=_KERAS3_REDUCTIONS,
        weighted_reductions={**_KERAS3_REDUCTIONS, "mean": "'mean_with_sample_weight'"},
        dtype_keyword=", dtype={dtype}", binary_ranks=binary_ranks,
        notes={"binary": binary, "binary logits": binary_logits, "sparse": sparse})


KERAS_BACKENDS = {
    "tensorflow": _keras3("tensorflow", TENSORFLOW, binary=_CLIPPED_BINARY,
                          binary_logits=_TF_SIGMOID, sparse=_TF_SPARSE),
    "jax": _keras3("jax", JAX, binary=_CLIPPED_BINARY,
                   binary_logits="-y log_sigmoid(x) - (1 - y) log_sigmoid(-x); mean over the "
                                 "last axis.",
                   sparse=_RENORMALISED_SPARSE),
    # A 0-d binary loss (one element, averaged over its "last axis") works on the torch
    # backend only; the others reject a rank-0 input.
    "torch": _keras3("torch", TORCH, binary_ranks=(0, 1, 2, 3, 4),
                     binary=f"p {_CLIP}, then torch's binary_cross_entropy (log clamped at "
                            "-100); mean over the last axis.",
                     binary_logits="torch's binary_cross_entropy_with_logits; mean over the "
                                   "last axis.",
                     sparse=_RENORMALISED_SPARSE),
    "numpy": _keras3("numpy", NUMPY, binary=_CLIPPED_BINARY,
                     binary_logits="sigmoid(x), clipped to [1e-7, 1 - 1e-7] (backend.epsilon()) "
                                   "then the probability formula; mean over the last axis.",
                     sparse=_RENORMALISED_SPARSE),
    "tf_keras": KerasBackend(
        name="tf_keras", framework=TENSORFLOW, library="tf_keras", prefix="tf.keras",
        # tf_keras is imported only to be reached as tf.keras
        modules={**TENSORFLOW.modules, "tf_keras": "tf_keras"},
        environment={**TENSORFLOW.environment, "TF_USE_LEGACY_KERAS": "1"},
        arrays=TENSORFLOW, confirm=_confirm_tf_keras,
        # tf_keras has no "mean", so no sample-weighted one either; its loss classes compute
        # in the dtype of y_pred (no dtype argument)
        reductions=_TF_KERAS_REDUCTIONS, weighted_reductions=_TF_KERAS_REDUCTIONS,
        dtype_keyword="", binary_ranks=(1, 2, 3, 4), sparse_class_axis=False,
        notes={"binary": f"p {_CLIP}, and 1e-7 added inside both logs; mean over the last axis.",
               "binary logits": _TF_SIGMOID, "sparse": _TF_SPARSE}),
}
BACKENDS = tuple(KERAS_BACKENDS)


def keras_backend(name: str) -> KerasBackend:
    """The record of the backend called ``name``."""
    if name not in KERAS_BACKENDS:
        raise ValueError(f"unknown Keras backend {name!r}; expected one of {BACKENDS}")
    return KERAS_BACKENDS[name]


# --- the declarations -------------------------------------------------------------------------

_SMOOTHING = {"label_smoothing": "label_smoothing={}"}
_AXIS = {"axis": "axis={}"}
_SAMPLE_WEIGHT = {"sample_weight": "sample_weight=sample_weight"}
_IGNORE_CLASS = {"ignore_index": "ignore_class={}"}
_FUNCTION_REDUCTIONS = {"none": ""}  # the functions return per-sample losses
_NAME = {"name": "the loss object's name, for logs and metrics: no effect on what it computes"}
_BINARY_AXIS = {"axis": "the axis of the per-sample mean; the oracle's average_last_axis is "
                        "the default, the last axis"}
_LOGITS_AXIS = {"axis": "the oracle's cross_entropy has its classes on axis 1, which is the "
                        "last axis of every rank declared here, Keras's default; other axes "
                        "are exercised on the probability path (from_logits=False)"}
_IGNORE_NOTE = "ignore_class: ignored samples cost 0 and leave the mean's divisor."
_BCE = {"average_last_axis": True}
_LOSS_NAMES = {  # oracle-facing name -> (class, function)
    "binary": ("BinaryCrossentropy", "binary_crossentropy"),
    "categorical": ("CategoricalCrossentropy", "categorical_crossentropy"),
    "sparse": ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"),
}
_CATEGORICAL_NOTE = (f"p divided by its sum over the class axis, then {_CLIP}; the gradient "
                     "with respect to p is that of the renormalised loss, so it is not declared.")
_SPARSE_LOGITS_NOTE = (
    "ignore_class: ignored samples cost 0 and leave the mean's divisor. The class's oracle "
    "'mean' is Keras's 'mean_with_sample_weight' (sum of the weighted losses over the sum of the "
    "kept samples' weights); Keras's 'mean' is its 'sum_over_batch_size'.")


def bindings_for(backend: str) -> tuple[Binding, ...]:
    """The six losses in their class and function forms, as ``backend`` offers them."""
    keras = keras_backend(backend)
    both = ("input", "target") if keras.autograd else ()
    # Keras renormalises probabilities over the class axis (p / sum(p)) before the log: the
    # value is the oracle's wherever p sums to 1, but the gradient with respect to p is the
    # renormalised loss's (it differs by sum(q) / sum(p) in every element).
    target_only = ("target",) if keras.autograd else ()
    input_only = ("input",) if keras.autograd else ()

    def declare(kind: str, loss: str, options: dict, *, logits: bool, note: str,
                class_reductions=keras.reductions, out_of_scope=None,
                class_options=None, **declared) -> list[Binding]:
        cls, function = _LOSS_NAMES[kind]
        suffix = "(from_logits=True)" if logits else ""
        # from_logits is written out either way: each value is a binding of its own
        flag = f"from_logits={logits}"
        cls_path, function_path = (f"{keras.prefix}.losses.{n}" for n in (cls, function))
        class_options = options if class_options is None else class_options

        def scoped(surface: tuple[str, ...], reasons: Mapping[str, str]) -> dict[str, str]:
            """The reasons that concern ``surface`` (a "callable:parameter" key names one)."""
            return {k: v for k, v in reasons.items()
                    if ":" not in k or k.partition(":")[0] in surface}

        return [
            Binding(api=f"{cls_path}{suffix}", library=keras.library, loss=loss,
                    expression=(f"{cls_path}({flag}, reduction={{reduction}}"
                                f"{{options}}{keras.dtype_keyword})"
                                "(target, input{call_options})"),
                    options={**class_options, **_SAMPLE_WEIGHT}, call_options=("sample_weight",),
                    reductions=class_reductions, notes=note,
                    surface=(cls_path, f"{cls_path}()"),
                    out_of_scope={**_NAME, **scoped((cls_path,), out_of_scope or {})},
                    **declared),
            Binding(api=f"{function_path}{suffix}", library=keras.library, loss=loss,
                    expression=f"{function_path}(target, input, {flag}{{options}})",
                    options=options, reductions=_FUNCTION_REDUCTIONS, notes=note,
                    surface=(function_path,),
                    out_of_scope=scoped((function_path,), out_of_scope or {}), **declared),
        ]

    return tuple([
        *declare("binary", "binary_cross_entropy", _SMOOTHING, logits=False,
                 fixed_options=_BCE, ranks=keras.binary_ranks, gradients=both,
                 note=keras.notes["binary"], out_of_scope=_BINARY_AXIS),
        *declare("binary", "binary_cross_entropy_with_logits", _SMOOTHING, logits=True,
                 fixed_options=_BCE, ranks=keras.binary_ranks, gradients=both,
                 note=keras.notes["binary logits"], out_of_scope=_BINARY_AXIS),
        # The categorical forms have their classes on the last axis, the oracle's
        # cross_entropy on axis 1: they agree for (C,) and (N, C) inputs. (Keras also takes
        # (N, d1, ..., C), which the categorical_cross_entropy forms could state with axis=-1,
        # but only where the probabilities sum to 1 on that axis.)
        *declare("categorical", "categorical_cross_entropy", {**_SMOOTHING, **_AXIS},
                 logits=False, targets=("probabilities",), ranks=(1, 2), gradients=target_only,
                 note=_CATEGORICAL_NOTE),
        *declare("categorical", "cross_entropy", _SMOOTHING, logits=True,
                 targets=("probabilities",), ranks=(1, 2), gradients=both, note="",
                 out_of_scope=_LOGITS_AXIS),
        # The sparse forms offer no axis (TensorFlow accepts only the last one, tf_keras's class
        # has no axis argument). ignore_class is offered with logits only: the oracle's loss on
        # probabilities, categorical_cross_entropy, has no ignore_index.
        *declare("sparse", "categorical_cross_entropy", {**_AXIS, **_IGNORE_CLASS},
                 logits=False,
                 class_options={**_IGNORE_CLASS, **(_AXIS if keras.sparse_class_axis else {})},
                 targets=("indices",), ranks=(1, 2), gradients=(),
                 note=keras.notes["sparse"] + " " + _IGNORE_NOTE),
        *declare("sparse", "cross_entropy", _IGNORE_CLASS, logits=True, targets=("indices",),
                 ranks=(1, 2), gradients=input_only,
                 class_reductions=keras.weighted_reductions, note=_SPARSE_LOGITS_NOTE,
                 out_of_scope=_LOGITS_AXIS if keras.sparse_class_axis
                 else {f"{keras.prefix}.losses.sparse_categorical_crossentropy:axis":
                       _LOGITS_AXIS["axis"]}),
    ])


# --- the adapter ------------------------------------------------------------------------------


class KerasAdapter(Adapter):
    """Keras losses on one backend (see the module docstring)."""

    def __init__(self, backend: str | None = None):
        super().__init__()
        self.keras = keras_backend(backend or backend_from_environment())
        self.backend = self.keras.name
        self.bindings = bindings_for(self.backend)
        if self.backend == "tensorflow":  # the function forms compiled too (adapters.compiled)
            self.compiler = compiled.TF_XLA
            self.bindings += self.compiler.twins(self.bindings)
        self.library = self.version_module = self.keras.library
        self.modules = dict(self.keras.modules)
        self.environment = dict(self.keras.environment)
        self.framework = self.keras.framework

    def configure(self, namespace):
        self.keras.confirm(namespace)

    def version(self) -> str:
        """The Keras version and the backend library doing the arithmetic."""
        return f"{super().version()} ({self.framework.name} {self.framework.version()})"

    def tensor(self, array, dtype, *, index=False):
        return self.keras.arrays.tensor(array, dtype, index=index)

    def tensor_source(self, array, dtype, *, index=False):
        return self.keras.arrays.tensor_source(array, "int64" if index else dtype)

    def to_list_source(self, name):
        return self.keras.arrays.to_list_source(name)

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

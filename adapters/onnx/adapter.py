"""ONNX: the loss operators ``SoftmaxCrossEntropyLoss`` and ``NegativeLogLikelihoodLoss``, each
run as a one-node model by two runtimes, reported as two libraries:

- ``onnxruntime``: ``onnxruntime.InferenceSession`` on the CPU execution provider;
- ``onnx-reference``: ``onnx.reference.ReferenceEvaluator``, the NumPy implementation of the
  operator specifications that ships with ``onnx``.

An operator is not a Python function, so the call a user makes is a model built with
``onnx.helper`` and run. ``RUNNER`` is that code, once per runtime: a function named after each
operator, taking the operator's inputs and attributes (``SoftmaxCrossEntropyLoss(scores,
labels, weights=None, *, reduction='mean', ignore_index=None)``), builds the one-node model
(``opset OPSET``) and runs it. The same source is executed into the namespace the bindings'
expressions are evaluated in and printed at the top of every reproducer, so the suite and the
reproducer run the same graph. Models are built once per (operator, attributes, dtypes, ranks)
(``functools.cache``): the suite runs thousands of cases through a handful of graphs.

Layout is the oracle's: classes on axis 1 of (N, C, d1, ...), class indices int64. Neither
runtime differentiates (ONNX Runtime's training build is another package), so no binding
declares gradients.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.numpy.framework import NUMPY
from adapters.source import array_source

#: the opset of the models: NegativeLogLikelihoodLoss last changed in 22 (bfloat16 joined its
#: type constraint), SoftmaxCrossEntropyLoss in 13
OPSET = 22

# ONNX Runtime: one intra-op thread, so a reduction's summation order does not depend on the
# machine's core count (the numbers repeat), as the frameworks' deterministic settings do.
_ORT_SESSION = ("onnxruntime.InferenceSession(model.SerializeToString(), options, "
                "providers=['CPUExecutionProvider'])")
_ORT_OPTIONS = ("options = onnxruntime.SessionOptions()\n"
                "    options.intra_op_num_threads = 1\n    ")
_REFERENCE_SESSION = "onnx.reference.ReferenceEvaluator(model)"

_RUNNER_TEMPLATE = '''\
@functools.cache
def one_node_model(op, inputs, attributes):
    """A model of one node, op(inputs) -> loss; inputs are (name, element type, rank)."""
    node = onnx.helper.make_node(op, [name for name, _, _ in inputs], ['loss'],
                                 **dict(attributes))
    graph = onnx.helper.make_graph(
        [node], op,
        [onnx.helper.make_tensor_value_info(name, kind, [None] * rank)
         for name, kind, rank in inputs],
        [onnx.helper.make_tensor_value_info('loss', inputs[0][1], None)])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid('', {opset})])
    {options}return {session}


def run(op, attributes, **arrays):
    """The operator's first output on the arrays given (None: an optional input left out)."""
    arrays = {{name: array for name, array in arrays.items() if array is not None}}
    inputs = tuple((name, onnx.helper.np_dtype_to_tensor_dtype(array.dtype), array.ndim)
                   for name, array in arrays.items())
    attributes = tuple((k, v) for k, v in attributes.items() if v is not None)
    return one_node_model(op, inputs, attributes).run(None, arrays)[0]


def SoftmaxCrossEntropyLoss(scores, labels, weights=None, *, reduction='mean',
                            ignore_index=None):
    return run('SoftmaxCrossEntropyLoss', {{'reduction': reduction, 'ignore_index': ignore_index}},
               scores=scores, labels=labels, weights=weights)


def NegativeLogLikelihoodLoss(input, target, weight=None, *, reduction='mean',
                              ignore_index=None):
    return run('NegativeLogLikelihoodLoss', {{'reduction': reduction,
                                              'ignore_index': ignore_index}},
               input=input, target=target, weight=weight)
'''

#: the runner source of each runtime (see the module docstring)
RUNNER = {
    "onnxruntime": _RUNNER_TEMPLATE.format(opset=OPSET, options=_ORT_OPTIONS,
                                           session=_ORT_SESSION),
    "onnx-reference": _RUNNER_TEMPLATE.format(opset=OPSET, options="",
                                              session=_REFERENCE_SESSION),
}

_REDUCTIONS = {"none": "'none'", "sum": "'sum'", "mean": "'mean'"}
_RANKS = (2, 3, 4)  # (N, C), (N, C, d1), (N, C, d1, d2): the operators need N and C
_NO_GRADIENT = "runs inference only: no gradients"

# The operators' documented inputs (optional ones default to None) and attributes.
_SIGNATURES = {
    "SoftmaxCrossEntropyLoss":
        "(scores, labels, weights=None, *, reduction='mean', ignore_index=None)",
    "NegativeLogLikelihoodLoss":
        "(input, target, weight=None, *, reduction='mean', ignore_index=None)",
}


def _bindings(library: str, prefix: str, dtypes: tuple[str, ...], notes: str):
    """The two operators through one runtime."""
    return (
        Binding(api=f"{prefix}.SoftmaxCrossEntropyLoss", library=library, loss="cross_entropy",
                expression="SoftmaxCrossEntropyLoss(input, target{options}, "
                           "reduction={reduction})",
                options={"weight": "weights=weight", "ignore_index": "ignore_index={}"},
                reductions=_REDUCTIONS, dtypes=dtypes, targets=("indices",), ranks=_RANKS,
                gradients=(), surface=("SoftmaxCrossEntropyLoss",),
                documented_signatures={"SoftmaxCrossEntropyLoss":
                                       _SIGNATURES["SoftmaxCrossEntropyLoss"]},
                notes="Softmax over axis 1, then NegativeLogLikelihoodLoss; the optional "
                      "second output log_prob (the log-softmax) is not requested: the loss "
                      "is the same node's first output. " + notes),
        Binding(api=f"{prefix}.NegativeLogLikelihoodLoss", library=library, loss="nll_loss",
                expression="NegativeLogLikelihoodLoss(input, target{options}, "
                           "reduction={reduction})",
                options={"weight": "weight=weight", "ignore_index": "ignore_index={}"},
                reductions=_REDUCTIONS, dtypes=dtypes, targets=("indices",), ranks=_RANKS,
                gradients=(), surface=("NegativeLogLikelihoodLoss",),
                documented_signatures={"NegativeLogLikelihoodLoss":
                                       _SIGNATURES["NegativeLogLikelihoodLoss"]},
                notes=notes),
    )


class _OnnxAdapter(Adapter):
    """One runtime running the one-node models on NumPy arrays (see the module docstring)."""

    framework = NUMPY
    # ml_dtypes: the bfloat16 NumPy dtype ONNX's Python API uses (a dependency of onnx)
    modules: ClassVar[dict[str, str]] = {"functools": "functools", "np": "numpy",
                                         "ml_dtypes": "ml_dtypes", "onnx": "onnx"}

    def configure(self, namespace):
        exec(RUNNER[self.library], namespace)  # defines the operator functions

    def tensor_source(self, array, dtype, *, index=False):
        if dtype == "bfloat16" and not index:
            return array_source(array, "np.array", "np.empty", "ml_dtypes.bfloat16")
        return super().tensor_source(array, dtype, index=index)

    def value_and_gradient(self, call, operands, wrt):
        if wrt is not None:
            raise NotImplementedError(f"{self.library} {_NO_GRADIENT}")
        return super().value_and_gradient(call, operands, wrt)  # NumPy's, warnings ignored

    def value_source(self, call_source):
        return [*RUNNER[self.library].splitlines(), "", *super().value_source(call_source)]

    def gradient_source(self, call_source, wrt):
        return [*RUNNER[self.library].splitlines(), "", f"loss = {call_source}",
                f"raise NotImplementedError({self.library + ' ' + _NO_GRADIENT!r})"]


class OnnxRuntimeAdapter(_OnnxAdapter):
    library = "onnxruntime"
    modules: ClassVar[dict[str, str]] = {**_OnnxAdapter.modules, "onnxruntime": "onnxruntime"}
    version_module = "onnxruntime"
    # bfloat16 is in both operators' type constraints, but the CPU provider has no bfloat16
    # kernel for the ops of their function bodies (ReduceMax, Neg): creating the session
    # raises NotImplemented, so it is not offered
    bindings = _bindings(
        "onnxruntime", "onnxruntime", ("float16", "float32", "float64"),
        "CPUExecutionProvider, one intra-op thread. float32 and float64 run the provider's "
        "own kernels; float16 has none, so the operator's function body (ops of the ONNX "
        "standard) is inlined and run in float16.")

    def version(self):
        """ONNX Runtime's version, and the onnx that built the model."""
        onnx = importlib.import_module("onnx")
        return f"{super().version()} (onnx {onnx.__version__})"


class OnnxReferenceAdapter(_OnnxAdapter):
    library = "onnx-reference"
    modules: ClassVar[dict[str, str]] = {**_OnnxAdapter.modules,
                                         "onnx.reference": "onnx.reference"}
    version_module = "onnx"
    bindings = _bindings(
        "onnx-reference", "onnx.reference", ("float16", "bfloat16", "float32", "float64"),
        "onnx.reference.ReferenceEvaluator: the specification's NumPy implementation, "
        "computed in the inputs' dtype.")


ADAPTERS = (OnnxRuntimeAdapter, OnnxReferenceAdapter)

__all__ = ["ADAPTERS", "OPSET", "RUNNER", "OnnxReferenceAdapter", "OnnxRuntimeAdapter"]

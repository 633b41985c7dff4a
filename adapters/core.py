"""The adapter protocol: cases, API declarations, observations.

A ``Case`` says what to compute in the oracle's terms (which loss, which arrays, which oracle
keywords, which dtype). A ``Binding`` declares one public API of one library: how a user calls
it (an expression template), which oracle loss it computes and which of the oracle's options,
reductions, dtypes, target kinds and gradients it offers. An ``Adapter`` turns (binding, case)
into the library call and returns an ``Observation``: what the library returned or raised, and
exactly what it was fed, so the oracle can be evaluated on the same numbers.

The expression template is the single source of the call: it is both evaluated and printed in
the reproducer, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

DTYPES = ("float16", "bfloat16", "float32", "float64")
CHECKS = ("value", "gradient")
#: array-valued oracle options; everything else in ``Case.options`` is a scalar keyword
ARRAY_OPTIONS = ("weight", "pos_weight", "sample_weight")


@dataclass(frozen=True)
class Case:
    """One evaluation, in the oracle's terms.

    ``inputs`` holds float64 (or integer, for class indices) arrays: ``input``, ``target`` and
    any array option (``weight``, ``pos_weight``, ``sample_weight``). ``options`` holds the
    oracle's scalar keywords (``reduction``, ``label_smoothing``, ``ignore_index``, ...). The
    arrays are in the oracle's layout: class axis 1 for ``cross_entropy`` and ``nll_loss``.
    """

    loss: str
    inputs: Mapping[str, np.ndarray]
    options: Mapping[str, object] = field(default_factory=dict)
    dtype: str = "float64"

    @property
    def target_kind(self) -> str:
        """"indices" for integer targets (class indices), "probabilities" otherwise."""
        return "indices" if np.asarray(self.inputs["target"]).dtype.kind in "iu" else "probabilities"

    def with_inputs(self, **arrays) -> Case:
        return dataclasses.replace(self, inputs={**self.inputs, **arrays})


@dataclass(frozen=True)
class Binding:
    """One public API of one library, as a user calls it.

    ``expression`` is Python source with placeholders: ``{options}`` expands to the rendered
    keyword arguments (each starting with ", "); array operands are referred to by name
    (``input``, ``target``, ``weight``...). ``options`` maps each oracle keyword the API offers
    to its rendering, a format string over the option's value (``"ignore_index={}"``); array
    options render their name (``"weight=weight"``). ``reductions`` maps an oracle reduction to
    the library's literal; a reduction missing from it is not offered.
    """

    api: str
    library: str
    loss: str
    expression: str
    options: Mapping[str, str] = field(default_factory=dict)
    reductions: Mapping[str, str] = field(default_factory=dict)
    dtypes: tuple[str, ...] = DTYPES
    targets: tuple[str, ...] = ("probabilities",)  # "indices" and/or "probabilities"
    ranks: tuple[int, ...] = (1, 2)  # accepted ranks of ``input``
    gradients: tuple[str, ...] = ("input",)  # arguments autograd differentiates
    #: oracle keywords that define what the API computes whatever the call, e.g. Keras's
    #: binary cross-entropy averages over the last axis: {"average_last_axis": True}. Numeric
    #: departures from exact math (clipping, epsilons) are not declared here: they are
    #: findings, explained by the conformance suite's deviation registry.
    fixed_options: Mapping[str, object] = field(default_factory=dict)
    notes: str = ""

    def supports(self, case: Case, check: str = "value", wrt: str = "input") -> str | None:
        """None if the API can express ``case``; otherwise the reason it cannot."""
        if case.loss != self.loss:
            return f"computes {self.loss}, not {case.loss}"
        if case.dtype not in self.dtypes:
            return f"dtype {case.dtype} not offered"
        if case.loss in ("cross_entropy", "categorical_cross_entropy", "nll_loss"):
            if case.target_kind not in self.targets:
                return f"{case.target_kind} targets not offered"
        if np.ndim(case.inputs["input"]) not in self.ranks:
            return f"input rank {np.ndim(case.inputs['input'])} not offered"
        reduction = case.options.get("reduction", "mean")
        if reduction not in self.reductions:
            return f"reduction={reduction!r} not offered"
        for name in (*case.options, *case.inputs):
            if name in ("input", "target", "reduction"):
                continue
            if name not in self.options and not _is_default(name, case):
                return f"option {name} not offered"
        if check == "gradient" and wrt not in self.gradients:
            return f"no gradient with respect to {wrt}"
        return None

    def call_source(self, case: Case) -> str:
        """The library call for ``case`` as Python source (operands referred to by name)."""
        rendered = []
        for name, template in self.options.items():
            if name in ARRAY_OPTIONS:
                if name in case.inputs:
                    rendered.append(template)
            elif name in case.options and not _is_default(name, case):
                rendered.append(template.format(repr(case.options[name])))
        reduction = case.options.get("reduction", "mean")
        if "{reduction}" in self.expression:
            return self.expression.format(
                options="".join(", " + r for r in rendered), reduction=self.reductions[reduction]
            )
        return self.expression.format(options="".join(", " + r for r in rendered))


_DEFAULTS = {"label_smoothing": 0.0, "ignore_index": None}


def _is_default(name: str, case: Case) -> bool:
    """An option left at the oracle's default needs no library keyword."""
    return name in _DEFAULTS and case.options.get(name, _DEFAULTS[name]) == _DEFAULTS[name]


@dataclass
class Observation:
    """What one library call did.

    ``fed`` holds float64 (or integer) copies of exactly the arrays the library received, after
    rounding to the case's dtype. ``value`` and ``gradient`` are float64 arrays; ``error`` is the
    (type, message) of an exception, a timeout or a crash, in which case both are None.
    """

    api: str
    library: str
    version: str
    dtype: str
    fed: dict[str, np.ndarray]
    value: np.ndarray | None = None
    gradient: np.ndarray | None = None
    wrt: str | None = None
    error: tuple[str, str] | None = None
    reproducer: str = ""

    @property
    def raised(self) -> bool:
        return self.error is not None

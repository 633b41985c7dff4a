"""The error model's bounds, pinned bit for bit on a representative set of cases.

``conformance.tolerance`` reads the terms it needs (smoothed targets, clipped probabilities,
weights per element, the softmax) from the oracle's package; this pins what it computes, so a
change of where a term comes from cannot move a bound by one bit unnoticed. The cases are every
named case of every loss that the oracle accepts (reductions, edges, the stability sweeps but
the 32 000 classes) and option combinations on seeded random inputs: label smoothing; class,
element, positive and sample weights; ignore_index; the clip (eps and a pair), the log offset
and clamp; renormalisation before and after the clip; the probability clip; the class axis;
the last-axis mean; ranks 0 to 3; inputs outside the domain (``validate=False``). The numbers,
as ``float.hex``, are in ``tolerance_bounds.json`` beside this module.

They were computed by the error model before its terms moved to the oracle's package. A change
that is meant to move a bound rewrites them (``python -m tests.test_tolerance_bounds`` in the
repository root) and says so in its commit message; any other change leaves them alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import reference
from conformance import tolerance
from conformance.cases import edge_cases, reduction_cases, stability_cases
from reference.specs import LOSS_SPECS, REDUCTIONS, loss_spec

PINNED = Path(__file__).with_name("tolerance_bounds.json")
#: the dtype the bounds are pinned in: another's unit roundoff scales every bound by a power
#: of 2, exactly
DTYPES = ("float32",)


def _option_cases():
    """(name, loss, kwargs): option combinations on seeded random regular inputs."""
    rng = np.random.default_rng(20261207)

    def probs(shape):
        return rng.uniform(0.02, 0.98, shape)

    def logits(shape, scale=4.0):
        return rng.normal(0.0, scale, shape)

    def rows(shape, axis):
        e = np.exp(logits(shape))
        return e / e.sum(axis=axis, keepdims=True)

    def weights(shape):
        return rng.uniform(0.25, 4.0, shape)

    bce, bcel = "binary_cross_entropy", "binary_cross_entropy_with_logits"
    ce, nll, cce = "cross_entropy", "nll_loss", "categorical_cross_entropy"
    for r in REDUCTIONS:
        x, y = probs((3, 4)), rng.uniform(0, 1, (3, 4))
        yield f"bce-{r}-smoothed-weighted", bce, {
            "input": x, "target": y, "reduction": r, "label_smoothing": 0.1,
            "weight": weights((4,)), "sample_weight": weights((3, 1))}
        yield f"bce-{r}-clip-offset-clamp", bce, {
            "input": np.where(x > 0.9, 1.0, np.where(x < 0.1, 0.0, x)), "target": y,
            "reduction": r, "clip_epsilon": 1e-7, "log_offset": 1e-9, "log_clamp": -100.0}
        yield f"bce-{r}-clip-pair-last-axis", bce, {
            "input": x, "target": y, "reduction": r, "clip_epsilon": (1e-7, 0.9999999),
            "average_last_axis": True, "sample_weight": weights((3,)),
            "label_smoothing": 0.3}
        z = logits((3, 4), 8.0)
        yield f"bcel-{r}-pos-weight-smoothed", bcel, {
            "input": z, "target": y, "reduction": r, "pos_weight": weights((4,)),
            "weight": weights((3, 4)), "label_smoothing": 0.05}
        yield f"bcel-{r}-probability-clip", bcel, {
            "input": z * 3, "target": y, "reduction": r, "probability_clip": 1e-7}
        yield f"bcel-{r}-probability-clip-pair-last-axis", bcel, {
            "input": z, "target": y, "reduction": r,
            "probability_clip": (1.0000000116860974e-07, 0.9999998807907104),
            "average_last_axis": True, "sample_weight": weights((3,))}
        t = rng.integers(0, 5, (4, 3))
        yield f"ce-{r}-indices-rank-3", ce, {
            "input": logits((4, 5, 3), 10.0), "target": t, "reduction": r,
            "weight": weights((5,)), "ignore_index": int(t[0, 0]), "label_smoothing": 0.1,
            "sample_weight": weights((4, 3))}
        yield f"ce-{r}-soft", ce, {
            "input": logits((3, 4)), "target": rows((3, 4), 1), "reduction": r,
            "weight": weights((4,)), "label_smoothing": 0.3, "sample_weight": weights((3,))}
        yield f"ce-{r}-one-row", ce, {
            "input": logits((6,)), "target": np.array(4), "reduction": r}
        yield f"nll-{r}-rank-3", nll, {
            "input": np.log(rows((4, 5, 2), 1)), "target": rng.integers(0, 5, (4, 2)),
            "reduction": r, "weight": weights((5,)), "ignore_index": 2,
            "sample_weight": weights((4, 2))}
        for axis in (0, 1, -1):
            yield f"cce-{r}-axis-{axis}-soft", cce, {
                "input": rows((3, 4, 2), axis), "target": rows((3, 4, 2), axis),
                "reduction": r, "axis": axis, "label_smoothing": 0.1,
                "clip_epsilon": 1e-7, "log_offset": 1e-9}
        yield f"cce-{r}-indices-ignored", cce, {
            "input": rows((4, 3), 1), "target": np.array([0, 2, 1, 2]), "reduction": r,
            "ignore_index": 1, "sample_weight": weights((4,)), "label_smoothing": 0.05}
        for renormalize in (True, "after_clip"):
            p = rows((3, 4), 1) * rng.uniform(0.5, 2.0, (3, 1))
            yield f"cce-{r}-renormalize-{renormalize}", cce, {
                "input": p, "target": rows((3, 4), 1), "reduction": r,
                "renormalize": renormalize, "clip_epsilon": (1e-7, 0.9999999),
                "sample_weight": weights((3,)), "label_smoothing": 0.3}
        yield f"cce-{r}-renormalize-indices-axis-0", cce, {
            "input": rows((4, 2), 0) * 0.5, "target": np.array([3, 1]), "reduction": r,
            "renormalize": True, "axis": 0}
    # outside the domain, as the registries' claims evaluate it (validate=False)
    yield "bce-outside", bce, {
        "input": np.array([[1.5, -0.1, 0.3], [0.999, 1e-9, 0.5]]),
        "target": np.array([[1.5, 0.0, -0.5], [1.0, 2.0, 0.25]]), "clip_epsilon": 1e-7,
        "label_smoothing": -0.1, "weight": np.array([-1.0, 1.0, 2.0]), "validate": False}
    yield "ce-outside", ce, {
        "input": logits((2, 3)), "target": np.array([[1.5, -0.5, 0.0], [0.5, 0.25, 0.25]]),
        "label_smoothing": 1.5, "weight": np.array([1.0, -2.0, 0.5]), "validate": False,
        "reduction": "sum"}
    yield "cce-outside", cce, {
        "input": rows((2, 3), 1) * 1.7, "target": np.array([[0.5, 0.3, 0.6], [0.1, 0.1, 0.1]]),
        "clip_epsilon": 1e-7, "log_offset": 1e-7, "validate": False, "reduction": "none"}
    yield "bcel-outside", bcel, {
        "input": logits((2, 3)), "target": np.array([[1.5, 0.0, -0.5], [1.0, 2.0, 0.25]]),
        "label_smoothing": 1.2, "pos_weight": np.array([-1.0, 1.0, 2.0]), "validate": False}
    yield "nll-outside", nll, {
        "input": np.array([[0.5, -1.0, -2.0], [-0.1, 0.3, -0.7]]), "target": np.array([0, 1]),
        "weight": np.array([1.0, -2.0, 0.5]), "validate": False, "reduction": "none"}
    yield "bce-scalar", bce, {"input": np.array(0.3), "target": np.array(1.0),
                              "reduction": "none", "label_smoothing": 0.1}
    yield "bcel-scalar", bcel, {"input": np.array(-40.0), "target": np.array(0.25)}
    yield "bce-rank-3", bce, {"input": probs((2, 3, 2)), "target": rng.uniform(0, 1, (2, 3, 2)),
                              "reduction": "sum", "weight": weights((2,))}


def _named_cases():
    """(name, loss, kwargs): every named case of every loss (in float64 arrays)."""
    for loss in LOSS_SPECS:
        named = [*reduction_cases(loss), *edge_cases(loss),
                 *(n for n in stability_cases(loss, "float32")
                   if not n.name.startswith("classes-"))]
        for n in named:
            yield f"{loss}:{n.name}", loss, {**n.case.inputs, **n.case.options}


def _bounds(loss: str, kwargs: dict) -> dict[str, list[str]] | None:
    """Every bound of the case, as hex strings: the value's, and each float argument's
    gradient's, in each pinned dtype; None when the oracle rejects the case or the loss has
    no such option (an edge case of another loss's option)."""
    spec = loss_spec(loss)
    try:
        expected = np.asarray(spec.oracle(**kwargs), dtype=np.float64)
    except (reference.OracleInputError, TypeError):  # rejected, or an option it lacks
        return None
    wrts = ["input"] + (["target"] if np.asarray(kwargs["target"]).dtype.kind == "f"
                        and loss != "nll_loss" else [])
    found = {}
    for dtype in DTYPES:
        found[f"value:{dtype}"] = tolerance.value_bound(loss, kwargs, expected, dtype)
        for wrt in wrts:
            found[f"gradient:{wrt}:{dtype}"] = tolerance.gradient_bound(loss, kwargs, wrt, dtype)
    return {key: [float(v).hex() for v in np.ravel(np.asarray(bound, dtype=np.float64))]
            for key, bound in found.items()}


def _cases():
    return [*_named_cases(), *_option_cases()]


def _computed() -> dict:
    computed = {}
    for name, loss, kwargs in _cases():
        assert name not in computed, name
        bounds = _bounds(loss, kwargs)
        if bounds is not None:
            computed[name] = bounds
    return computed


def test_every_bound_is_the_pinned_one():
    pinned = json.loads(PINNED.read_text())
    computed = _computed()
    assert sorted(computed) == sorted(pinned), "the cases changed: rewrite the pins on purpose"
    moved = [f"{name} {key}: {pinned[name][key]} became {bounds[key]}"
             for name, bounds in computed.items() for key in bounds
             if bounds[key] != pinned[name].get(key)]
    assert not moved, "\n".join(moved[:20])


def test_the_pins_cover_every_option_of_every_loss():
    """Each oracle option that changes a bound meets the pins in some case of its loss."""
    covered = {(loss, key) for _, loss, kwargs in _cases() for key in kwargs}
    for loss, spec in LOSS_SPECS.items():
        for option in spec.parameters:
            if option in ("empty_mean", "gradient_floor"):
                continue  # no bound reads them
            assert (loss, option) in covered, (loss, option)


def _write(computed: dict) -> None:
    """The pins as JSON, one case's bound per line (a moved bound is a one-line diff)."""
    lines = [f"{json.dumps(name)}: {{" + ", ".join(
        f"{json.dumps(key)}: {json.dumps(values)}" for key, values in sorted(bounds.items())) + "}"
        for name, bounds in sorted(computed.items())]
    PINNED.write_text("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":  # rewrite the pins: only for a change meant to move a bound
    _write(_computed())


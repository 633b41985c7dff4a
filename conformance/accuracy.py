"""How accurate a binding is, element by element: the rows of a results file's ``accuracy``.

The suite's verdicts say pass or fail against the error model; maintainers quote and compare
the worst error itself. A row here is one binding x dtype x check (value, gradient) x target:
the largest error over a batch of inputs, in ulps of each input's exact result, with the input
that attains it, the elements whose exact result is non-zero that came back 0 or with the
wrong sign (``conformance.componentwise``), and a reproducer of that one input. It is a
measurement, never a verdict: the pass/fail bound stays the error model's.

Where the rows come from:

- ``conformance.exhaustive``: every input of a half-precision dtype, so the worst error is the
  true maximum (``method`` "exhaustive"; in the ci profile a fixed sample of them, "sampled");
- ``conformance.worst_case``: a deterministic search where exhaustion is out of reach, so the
  worst error is a lower bound ("searched").

A batch is one call of the library: many inputs side by side, reduction "none", so an element
(or a row of a softmax loss) is one input, and the gradient of the summed result is each
input's own derivative.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from adapters.binding import Binding, Case, Observation
from conformance import judge
from conformance.componentwise import element_errors

#: bands of the exhaustive sweeps' error profiles (the report's plot of error against input)
PROFILE_BANDS = 128
#: how long a reason or an exception message a row keeps
_MESSAGE = 300


@dataclass(frozen=True)
class Batch:
    """One call's worth of inputs: the case the library gets, and per input (an element, or a
    row for a softmax loss) the label of its target ("0", "0.5", "indices")."""

    case: Case
    labels: np.ndarray
    #: softmax losses: an input is a row of logits (or probabilities), not one element
    rows: bool = False

    @property
    def size(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Measured:
    """One check of one batch, per input: the worst error of its elements in ulps, and how many
    of its elements came back 0 or with the wrong sign, or disagree on being finite."""

    ulps: np.ndarray
    zero: np.ndarray
    sign: np.ndarray
    nonfinite: np.ndarray
    expected: np.ndarray
    observed: np.ndarray


#: a value of each option an API requires that leaves the loss as it is without it: a
#: pos_weight of 1, an ignore_index no class has
_NEUTRAL = {"pos_weight": lambda case: {"inputs": {"pos_weight": np.ones(
                np.shape(case.inputs["input"])[-1:])}},
            "ignore_index": lambda case: {"options": {"ignore_index": -100}}}


def with_required_options(binding: Binding, case: Case) -> Case:
    """``case`` with a neutral value of every option the API cannot be called without
    (``tf.nn.weighted_cross_entropy_with_logits`` takes a pos_weight; optax's ``where`` form a
    class to ignore), so the tables measure the loss itself."""
    for name in binding.required:
        if name in _NEUTRAL:
            extra = _NEUTRAL[name](case)
            case = dataclasses.replace(case, inputs={**case.inputs, **extra.get("inputs", {})},
                                       options={**case.options, **extra.get("options", {})})
    return case


def checks_of(binding: Binding) -> tuple[str, ...]:
    """The checks a batch measures: the value, and the gradient where the library gives one."""
    return ("value", "gradient") if "input" in binding.gradients else ("value",)


def observed(observation: Observation, check: str):
    return observation.value if check == "value" else observation.gradient


def measure(binding: Binding, batch: Batch, observation: Observation, check: str
            ) -> Measured | str:
    """Each input's errors in ``check``, or a sentence saying why there are none to measure
    (the oracle rejects the batch, or the library's result has another shape: both mistakes
    of ours, since the batches are built in the loss's domain and shape)."""
    wrt = "input" if check == "gradient" else None
    exact, _ = judge.expected(binding, batch.case, observation.fed, check, wrt)
    if isinstance(exact, str):
        return "the oracle rejects the batch: its inputs are outside the loss's domain"
    got = np.asarray(observed(observation, check), dtype=np.float64)
    if got.shape != exact.shape:
        return (f"the library returned shape {got.shape} where the oracle's {check} has "
                f"{exact.shape}")
    per_input = (batch.size, -1)
    errors = element_errors(exact, got, batch.case.dtype)
    # the worst error is over the finite answers: a non-finite disagreement (log(0) clamped to
    # -100, an overflow) is counted and shown apart, not an "inf" that hides every other error
    finite_ulps = np.where(errors.nonfinite, 0.0, errors.ulps)
    return Measured(*(_per_input(a, per_input) for a in (
        finite_ulps, errors.zero, errors.sign, errors.nonfinite)),
        exact.reshape(per_input), got.reshape(per_input))


def _per_input(values: np.ndarray, shape: tuple) -> np.ndarray:
    values = values.reshape(shape)
    return values.max(axis=1) if values.dtype != bool else values.sum(axis=1)


def row(binding: Binding, batch: Batch, check: str, target: str, *, method: str,
        domain: str, measured: Measured | None = None, fed: dict | None = None,
        outcome: str = "measured", reason: str = "", profile: bool = False,
        **extra) -> dict:
    """The results row of ``check`` over the inputs of ``batch`` labelled ``target``."""
    chosen = batch.labels == target
    record = {"api": binding.api, "backend": binding.library, "loss": binding.loss,
              "mode": binding.mode, "dtype": batch.case.dtype, "check": check,
              "target": target, "method": method, "outcome": outcome,
              "inputs": int(chosen.sum()), "domain": domain, **extra}
    if outcome != "measured" or measured is None:
        return {**record, "reason": reason[:_MESSAGE] or outcome}
    ulps = np.where(chosen, measured.ulps, -1.0)
    worst = int(np.argmax(ulps))
    record.update(worst_ulp=float(ulps[worst]),
                  worst=example(batch, measured, fed, worst),
                  zero_count=int(measured.zero[chosen].sum()),
                  sign_count=int(measured.sign[chosen].sum()),
                  nonfinite_count=int(measured.nonfinite[chosen].sum()))
    for name in ("zero", "sign", "nonfinite"):
        flagged = chosen & (getattr(measured, name) > 0)
        record[name] = (example(batch, measured, fed, _largest_exact(measured, flagged))
                        if flagged.any() else None)
    if profile:
        record["profile"] = error_profile(fed["input"], ulps, chosen)
    return record


def _largest_exact(measured: Measured, flagged: np.ndarray) -> int:
    """Of the flagged inputs, the one whose exact result is largest: the plainest example."""
    size = np.where(flagged, np.nanmax(np.abs(measured.expected), axis=1, initial=0.0), -1.0)
    return int(np.argmax(size))


def example(batch: Batch, measured: Measured, fed: dict, index: int) -> dict:
    """One input of a batch as a row shows it: its input and target as fed, the exact result,
    what came back, and the error in ulps."""
    def one(values):
        values = np.asarray(values)
        picked = values.reshape(batch.size, -1)[index] if values.ndim else values
        return picked.tolist() if batch.rows or picked.size > 1 else picked.item()

    return {"input": one(fed["input"]), "target": one(fed["target"]),
            "expected": one(measured.expected), "observed": one(measured.observed),
            "ulp": float(measured.ulps[index]), "index": index}


def error_profile(inputs, ulps: np.ndarray, chosen: np.ndarray) -> list:
    """The worst error per band of the chosen inputs in order of value (NaN inputs left out):
    [[lowest input, highest input, worst ulps], ...], at most ``PROFILE_BANDS`` bands."""
    x = np.asarray(inputs, dtype=np.float64).reshape(len(ulps), -1)[:, 0]
    keep = chosen & ~np.isnan(x)
    order = np.flatnonzero(keep)[np.argsort(x[keep], kind="stable")]
    return [[float(x[band[0]]), float(x[band[-1]]), float(ulps[band].max())]
            for band in np.array_split(order, min(PROFILE_BANDS, len(order))) if band.size]


def one_input(batch: Batch, fed: dict, index: int) -> Case:
    """The case of one input of a batch, as the library was fed it (for its reproducer)."""
    def pick(name):  # an operand with one entry per input (not a per-class pos_weight)
        values = np.asarray(fed.get(name, batch.case.inputs[name]))
        return values[index:index + 1] if values.shape[:1] == (batch.size,) else values

    return batch.case.with_inputs(**{name: pick(name) for name in batch.case.inputs})


def reproducer(guarded, binding: Binding, batch: Batch, fed: dict, check: str,
               worst: dict | None) -> str:
    """Python source that runs the worst input alone, with what the batch returned for it (a
    vectorised kernel may round an element differently from a call on that element alone)."""
    if worst is None:
        return ""
    case = one_input(batch, fed, worst["index"])
    described = guarded.describe(binding.api, case, "gradient" if check == "gradient"
                                 else "value", "input")
    if described.harness is not None:
        return f"# no reproducer: {described.harness}\n"
    return (described.reproducer.rstrip("\n")
            + f"\n# in a batch of {batch.size} inputs the library returned "
              f"{worst['observed']!r} for this one (exact: {worst['expected']!r}, "
              f"{worst['ulp']:.4g} ulp)\n")


def not_measured(observation: Observation) -> tuple[str, str] | None:
    """(outcome, reason) of a call that gave nothing to measure, else None: the harness failed
    (harness-error, never a fact about the library), or the library raised, crashed or hung."""
    if observation.harness is not None:
        return "harness-error", observation.harness
    if observation.error is not None:
        kind, message = observation.error
        outcome = kind.lower() if kind in ("Timeout", "Crash") else "raises"
        return outcome, f"{kind}: {message}"
    return None


def observe(suite, name: str, binding: Binding, batch: Batch
            ) -> tuple[Observation | None, dict[str, Measured] | tuple[str, str]]:
    """Call the library on ``batch`` (value and, where it has one, gradient, from one call)
    and measure each check; or (outcome, reason) where there is nothing to measure: the API
    cannot express the batch (unsupported), the library raised, crashed or hung, or the
    harness failed (harness-error)."""
    checks = checks_of(binding)
    reason = binding.supports(batch.case, checks[-1], "input")
    if reason is not None:
        return None, ("unsupported", reason)
    _, guarded = suite.adapter(name)
    observation = guarded.evaluate(binding.api, batch.case, checks[-1], "input",
                                   suite.timeout(binding))
    stopped = not_measured(observation)
    if stopped is not None:
        return observation, stopped
    measured = {}
    for check in checks:
        result = measure(binding, batch, observation, check)
        if isinstance(result, str):
            return observation, ("harness-error", result)
        measured[check] = result
    return observation, measured


def unmeasured_rows(binding: Binding, batch: Batch, outcome: tuple[str, str], *,
                    method: str, domain: str, **extra) -> list[dict]:
    """The rows of a batch with nothing to measure, each saying why."""
    return [row(binding, batch, check, label, method=method, domain=domain,
                outcome=outcome[0], reason=outcome[1], **extra)
            for check in checks_of(binding) for label in np.unique(batch.labels)]


def record(suite, rows: list[dict]) -> None:
    """Journal the rows; fail the test where the harness failed (no fact about the library:
    the suite's mistake, which must not pass as a measurement)."""
    for r in rows:
        suite.recorder.accuracy(r)
    failed = [r for r in rows if r["outcome"] == "harness-error"]
    if failed:
        from conformance.suite import HarnessError

        raise HarnessError(f"the harness failed on the accuracy batch of {failed[0]['api']} "
                           f"({failed[0]['dtype']}, {failed[0]['method']}): "
                           f"{failed[0]['reason']}")

"""Judge one observation against the oracle: its outcome and its error against the bound."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import reference
from adapters.binding import DERIVATIVE_CHECKS, Binding, Case, Observation
from conformance import componentwise, tolerance
from conformance.componentwise import in_dtype
from reference.specs import loss_spec


@dataclass
class Verdict:
    #: match, deviates, nonfinite, raises, accepts_invalid, crash, timeout; status for a pair of
    #: paths of which one raises (``conformance.status``); harness-error when
    #: the harness failed (the observation says nothing about the library)
    outcome: str
    expected: object  # float64 array, or "invalid" when the oracle rejects the inputs
    observed: object  # float64 array, or {"error": type, "message": text}
    error: dict | None = None  # abs, rel, ulp, bound, bound_ratio, index (finite comparisons)


def oracle_kwargs(binding: Binding, case: Case, fed: dict, extra: dict | None = None) -> dict:
    """The oracle's keywords for ``case`` as the library saw it (its fed, rounded inputs)."""
    arrays = {name: fed.get(name, value) for name, value in case.inputs.items()}
    return {**arrays, **case.options, **binding.fixed_options, **(extra or {})}


def expected(binding: Binding, case: Case, fed: dict, check: str, wrt: str | None,
             extra: dict | None = None):
    kwargs = oracle_kwargs(binding, case, fed, extra)
    try:
        return np.asarray(_oracle(case.loss, kwargs, check, wrt, _direction(case, fed)),
                          dtype=np.float64), kwargs
    except reference.OracleInputError:
        return "invalid", kwargs


def _direction(case: Case, fed: dict):
    """The direction of a jvp or hvp as the library got it (rounded to the dtype)."""
    return fed.get("direction", case.direction)


def _oracle(loss: str, kwargs: dict, check: str, wrt: str | None, direction):
    """What the oracle says ``check`` is on ``kwargs``."""
    if check == "value":
        return loss_spec(loss).oracle(**kwargs)
    if check == "jvp":
        return reference.jvp(loss, wrt=wrt, tangent=direction, **kwargs)
    if check == "hvp":
        return reference.hvp(loss, wrt=wrt, vector=direction, **kwargs)
    return reference.grad(loss, wrt=wrt, **kwargs)


def judge(binding: Binding, case: Case, observation: Observation, check: str = "value",
          extra: dict | None = None) -> Verdict:
    """Compare ``observation`` with the oracle (with ``extra`` oracle keywords, if given)."""
    wrt = observation.wrt
    exp, kwargs = expected(binding, case, observation.fed, check, wrt, extra)
    if observation.harness is not None:
        return harness_error(exp, observation)
    if observation.error is not None:
        kind, message = observation.error
        observed = {"error": kind, "message": message}
        if kind in ("Timeout", "Crash"):
            return Verdict(kind.lower(), exp, observed)
        # the library itself refused the inputs: on invalid inputs that is the right answer
        return Verdict("match" if isinstance(exp, str) else "raises", exp, observed)
    obs = observation.value if check == "value" else observation.gradient
    obs = np.asarray(obs, dtype=np.float64)
    if isinstance(exp, str):
        return Verdict("accepts_invalid", exp, obs)
    if obs.shape != exp.shape:
        err = {"abs": np.inf, "rel": np.inf, "ulp": np.inf, "bound": 0.0,
               "bound_ratio": np.inf, "index": None}
        return Verdict("deviates", exp, obs, err)
    return _compare_numbers(exp, obs, case, kwargs, check, wrt, _direction(case,
                                                                             observation.fed))


def _result(observation: Observation):
    """What a call returned, or the exception it raised as {"error", "message"}."""
    if observation.error is None:
        return observation.value
    return {"error": observation.error[0], "message": observation.error[1]}


def harness_error(expected, observation: Observation) -> Verdict:
    """The verdict on an observation the harness failed to make: none about the library."""
    kind, message = observation.error or ("HarnessFailure", "")
    return Verdict("harness-error", expected,
                   {"error": kind, "message": message, "cause": observation.harness})


def _compare_numbers(exp, obs, case, kwargs, check, wrt, direction) -> Verdict:
    dtype = case.dtype
    target = in_dtype(exp, dtype)
    same_special = (np.isnan(target) & np.isnan(obs)) | (np.isinf(target) & (target == obs))
    finite = np.isfinite(target) & np.isfinite(obs)
    if not np.all(same_special | finite):
        return Verdict("nonfinite", exp, obs, _nonfinite_error(target, obs, same_special | finite))
    bound_abs = tolerance.bound(check, case.loss, kwargs, exp, wrt, dtype, direction)
    bound_abs = np.broadcast_to(np.asarray(bound_abs, dtype=np.float64), exp.shape)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = np.where(finite, np.abs(obs - target), 0.0)
        unit = tolerance.ulp(target, dtype)
        ulps = err / unit
        # one more ulp: the final rounding to the dtype; where the expected value is NaN or
        # infinite (and the library agrees) the bound is moot
        bound_ulps = np.nan_to_num(bound_abs / unit, nan=0.0, posinf=np.inf) + 1.0
        ratio = np.where(finite, ulps / bound_ulps, 0.0)
        rel = np.where(target != 0, err / np.abs(target), np.where(err > 0, np.inf, 0.0))
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape) if ratio.size else ()
    error = {
        "abs": float(np.max(err, initial=0.0)),
        "rel": float(np.max(rel, initial=0.0)),
        "ulp": float(ulps[worst]) if ratio.size else 0.0,
        "bound": float(bound_ulps[worst]) if ratio.size else 1.0,
        "bound_ratio": float(ratio[worst]) if ratio.size else 0.0,
        "index": [int(i) for i in worst] if ratio.size else None,
    }
    if check in DERIVATIVE_CHECKS:
        # beside the normwise verdict, what each element of the derivative got
        error["componentwise"] = componentwise.summary(exp, obs, dtype)
    return Verdict("match" if error["bound_ratio"] <= 1.0 else "deviates", exp, obs, error)


def _nonfinite_error(target, obs, agree) -> dict:
    index = np.unravel_index(int(np.argmin(agree)), agree.shape) if agree.size else ()
    return {"abs": np.inf if not np.isnan(obs[index]) else np.nan, "rel": np.inf,
            "ulp": np.inf, "bound": 1.0, "bound_ratio": np.inf,
            "index": [int(i) for i in index] if agree.size else None}


def ulp_errors(verdict: Verdict, dtype: str) -> np.ndarray:
    """Every compared element's error in ulps (for the histogram); NaN where non-finite."""
    if verdict.error is None or isinstance(verdict.expected, str):
        return np.array([])
    exp, obs = in_dtype(np.asarray(verdict.expected), dtype), np.asarray(verdict.observed)
    if exp.shape != obs.shape:
        return np.array([np.nan])
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.isfinite(exp) & np.isfinite(obs),
                        np.abs(obs - exp) / tolerance.ulp(exp, dtype),
                        np.where((exp == obs) | (np.isnan(exp) & np.isnan(obs)), 0.0, np.nan)
                        ).ravel()


def _own_bound(case: Case, observation: Observation, check: str) -> np.ndarray:
    """One path's allowed error, from its own case on its own fed inputs (0 if invalid)."""
    fed = {k: observation.fed.get(k, v) for k, v in case.inputs.items()}
    kwargs = {**fed, **case.options}
    try:
        if check == "value":
            value = np.asarray(loss_spec(case.loss).oracle(**kwargs), dtype=np.float64)
            return tolerance.value_bound(case.loss, kwargs, value, case.dtype)
        return tolerance.gradient_bound(case.loss, kwargs, "input", case.dtype)
    except reference.OracleInputError:
        return np.zeros(())


def own_bound(case: Case, observation: Observation, check: str = "value") -> np.ndarray:
    """One path's allowed error (what ``agree`` adds up), for callers judging a pair both
    ways, who compute it once per path."""
    return _own_bound(case, observation, check)


def agree(first_case: Case, first: Observation, second_case: Case, second: Observation,
          check: str = "value", bounds: tuple | None = None) -> Verdict:
    """Do two paths that should agree agree? ``second`` judged against ``first``.

    Allowed: the sum of both paths' bounds, each from its own error model on its own inputs
    (the cases carry the options each binding always applies); ``bounds`` gives them
    precomputed (``own_bound`` of the first, then of the second).
    """
    case = second_case
    if first.harness is not None or second.harness is not None:
        # the harness failed on one side: no verdict on either
        return harness_error(_result(first), second) if second.harness is not None \
            else harness_error(_result(second), first)
    if first.error is not None or second.error is not None:
        both_raise = first.error is not None and second.error is not None
        return Verdict("match" if both_raise else "raises" if second.error else "deviates",
                       _result(first), _result(second))
    a = np.asarray(first.value if check == "value" else first.gradient, dtype=np.float64)
    b = np.asarray(second.value if check == "value" else second.gradient, dtype=np.float64)
    if a.shape != b.shape:
        return Verdict("deviates", a, b, {"abs": np.inf, "rel": np.inf, "ulp": np.inf,
                                          "bound": 0.0, "bound_ratio": np.inf, "index": None})
    if bounds is None:
        bounds = (_own_bound(first_case, first, check), _own_bound(second_case, second, check))
    bound = np.broadcast_to(bounds[0], a.shape) + np.broadcast_to(bounds[1], a.shape)
    same = (np.isnan(a) & np.isnan(b)) | (a == b)
    if not np.all(same | (np.isfinite(a) & np.isfinite(b))):
        return Verdict("nonfinite", a, b, _nonfinite_error(a, b, same | np.isfinite(a)))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = np.where(same, 0.0, np.abs(a - b))
        unit = tolerance.ulp(a, case.dtype)
        ulps = err / unit
        bound_ulps = np.broadcast_to(bound, a.shape) / unit + 2.0
        # the same number or NaN on both sides is agreement, whatever the bound (which an
        # infinite input can make NaN)
        ratio = np.where(same, 0.0, ulps / bound_ulps)
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape) if ratio.size else ()
    error = {"abs": float(np.max(err, initial=0.0)), "rel": float("nan"),
             "ulp": float(ulps[worst]) if ratio.size else 0.0,
             "bound": float(bound_ulps[worst]) if ratio.size else 2.0,
             "bound_ratio": float(ratio[worst]) if ratio.size else 0.0,
             "index": [int(i) for i in worst] if ratio.size else None}
    with np.errstate(invalid="ignore", divide="ignore"):
        error["rel"] = float(np.max(np.where(a != 0, err / np.abs(a), 0.0), initial=0.0))
    return Verdict("match" if error["bound_ratio"] <= 1 else "deviates", a, b, error)

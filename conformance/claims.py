"""The claims of the deviation registry: does an observation bear out what an entry's
``actual`` says the library does?

``claim_failure`` judges one claim (the claims, their qualifiers and what each states are
described with the registry's file format, ``conformance.deviations``), in this order: an
``inputs`` restatement puts the arrays the library really computed on in place of those it was
given; ``computed_in`` or ``accurate_to`` restates a case finer than its dtype, and
``round_constants`` rounds the oracle keywords to the dtype computed in; then the claim itself
is judged, by the oracle with its keywords (``conformance.judge``) or on the observed result.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from conformance import tolerance
from conformance.judge import expected, judge
from conformance.tolerance import K_STATED_VALUE, ulp
from reference.specs import dtype_spec

#: what an ``actual`` table can claim (one of these, or ``oracle`` with ``within`` or ``absolute``)
CLAIMS = {"oracle", "value", "raises", "within", "absolute", "nan_or_oracle", "inf_or_oracle"}
#: the claims "special values in some elements, the oracle elsewhere", by their special value
_SPECIAL_OR_ORACLE = {"nan_or_oracle": np.nan, "inf_or_oracle": np.inf}
#: the claims whose value is a dict of oracle keywords (what ``round_constants`` rounds)
KEYWORD_CLAIMS = ("oracle", *_SPECIAL_OR_ORACLE)


def claim_text(actual: dict) -> str:
    """An entry's ``actual`` as its TOML reads: ``oracle = { log_clamp = -100.0 }``."""
    def value(v) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }" if v \
                else "{}"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)
    return ", ".join(f"{key} = {value(v)}" for key, v in actual.items())


def claim_failure(actual: dict, binding, case, observation, verdict,
                  check: str) -> str | None:
    """None when the claim ``actual`` holds of the observation; else how it fails, a phrase."""
    if actual.get("inputs") == "broadcast" and check in ("gradient", "hvp"):
        extra = actual.get("oracle", {})
        if actual.get("round_constants"):
            extra = _constants_rounded({"oracle": extra}, case.dtype)["oracle"]
        if _broadcast_gradient_holds(binding, case, observation, extra, check):
            return None
        return (f"the {check} is not that of the loss of the broadcast arrays summed back to "
                "the differentiated shape")
    if "inputs" in actual:  # the arrays the library really computed on
        case, observation = RESTATED_INPUTS[actual["inputs"]](case, observation)
        actual = {k: v for k, v in actual.items() if k != "inputs"}
        if not actual.keys() & CLAIMS:
            actual["oracle"] = {}
    # a qualifier restates only a case finer than its dtype: float32 and half-precision cases
    # are judged as they are, so one entry serves every dtype
    coarser = {name: actual[name] for name in QUALIFIERS
               if name in actual
               and dtype_spec(actual[name]).unit_roundoff > dtype_spec(case.dtype).unit_roundoff}
    if actual.get("round_constants"):
        actual = _constants_rounded(actual, coarser.get("computed_in", case.dtype))
    for name, restate in QUALIFIERS.items():
        if name not in actual:
            continue
        if name in coarser:
            case, observation = restate(actual[name], case, observation)
        actual = {k: v for k, v in actual.items() if k != name}
        if not actual.keys() & {*_SPECIAL_OR_ORACLE, "raises", "value"}:
            actual.setdefault("oracle", {})  # judged afresh on the restated case
    if "oracle" in actual:  # the convention: alone, it holds within the bound
        verdict = judge(binding, case, observation, check, extra=actual["oracle"])
        if "within" not in actual and "absolute" not in actual:
            return None if verdict.outcome == "match" else _against_the_claim(verdict)
    elif claim := actual.keys() & _SPECIAL_OR_ORACLE.keys():
        (claim,) = claim
        return _special_or_oracle(_SPECIAL_OR_ORACLE[claim], actual[claim], binding, case,
                                  observation, check)
    elif "raises" in actual:
        if observation.error is None:
            return "the library returned a result"
        if observation.error[0] == actual["raises"] \
                or observation.error[0].endswith("." + actual["raises"]):
            return None
        return f"the library raised {observation.error[0]}"
    elif "value" in actual:
        return _is_value(actual["value"], observation, check, case.dtype)
    return _precise_enough(actual, case, observation, verdict)


def _against_the_claim(verdict) -> str:
    """How an observation differs from what a claim computes (its verdict against it)."""
    if verdict.outcome == "deviates":
        error = verdict.error or {}
        return (f"the result is off by {error.get('ulp', math.inf):.3g} ulp, "
                f"{error.get('bound_ratio', math.inf):.3g}x the allowed bound")
    if verdict.outcome == "nonfinite":
        return "the result is non-finite where the claim's is finite, or the reverse"
    if verdict.outcome == "accepts_invalid":
        return "the oracle with these keywords rejects the inputs, which the library took"
    if verdict.outcome == "match":  # pragma: no cover - callers pass differences only
        return "the result agrees"
    observed = verdict.observed if isinstance(verdict.observed, dict) else {}
    return f"the library raised {observed.get('error', verdict.outcome)}"


def _is_value(wanted, observation, check: str, dtype: str) -> str | None:
    """None when every element is ``wanted`` (NaN, +-inf, or a number to within 8
    roundoffs), or the array literal to within 8 roundoffs; else what the result is."""
    if observation.error is not None:
        return f"the library raised {observation.error[0]}"
    observed = np.asarray(observation.value if check == "value" else observation.gradient)
    rtol = K_STATED_VALUE * dtype_spec(dtype).unit_roundoff
    if isinstance(wanted, list):
        literal = np.array(_numbers(wanted), dtype=np.float64)
        holds = literal.shape == observed.shape and bool(np.allclose(
            observed, literal, rtol=rtol, atol=0, equal_nan=True))
    elif wanted == "nan":
        holds = bool(np.all(np.isnan(observed)))
    elif math.isinf(float(wanted)):
        holds = bool(np.all(observed == float(wanted)))
    else:
        holds = bool(np.allclose(observed, float(wanted), rtol=rtol, atol=0))
    if holds:
        return None
    shown = np.array2string(observed, precision=17, threshold=8, separator=", ")
    # one line, whatever the shape, without the padding that aligns columns
    return "the result is " + re.sub(r"\[ +", "[", " ".join(shown.split()))


def _precise_enough(actual: dict, case, observation, verdict) -> str | None:
    """None when the error of a verdict is within ``within`` or ``absolute`` (a match is
    possible here only after ``oracle`` or ``computed_in`` restated the case); else how far."""
    if verdict.outcome not in ("match", "deviates"):
        return _against_the_claim(verdict)
    if "within" in actual:
        ratio = (verdict.error or {}).get("bound_ratio", math.inf)
        if ratio <= float(actual["within"]):
            return None
        return f"the error is {ratio:.3g}x the bound, more than within = {actual['within']}"
    if verdict.outcome == "match" or _absolutely_within(float(actual["absolute"]), case,
                                                        observation, verdict):
        return None
    return (f"the error is more than {actual['absolute']} u (1 + max|x|) "
            f"({(verdict.error or {}).get('ulp', math.inf):.3g} ulp)")


def _computed_in(dtype: str, case, observation):
    """The case and observation as if the library had been given ``dtype``: inputs rounded."""
    case = dataclasses.replace(case, dtype=dtype)
    fed = {name: dtype_spec(dtype).round(value) if np.asarray(value).dtype.kind == "f"
           else value for name, value in observation.fed.items()}
    return case, dataclasses.replace(observation, fed=fed, dtype=dtype)


def _accurate_to(dtype: str, case, observation):
    """The case and observation judged with ``dtype``'s rounding unit, inputs as given."""
    return (dataclasses.replace(case, dtype=dtype),
            dataclasses.replace(observation, dtype=dtype))


def _constants_rounded(actual: dict, dtype: str) -> dict:
    """``actual`` with the numbers of its oracle keywords rounded to ``dtype`` (integers,
    booleans and strings as they are)."""
    spec = dtype_spec(dtype)

    def rounded(value):
        if isinstance(value, list):
            return [rounded(v) for v in value]
        if isinstance(value, float):
            return float(spec.round(value))
        return value

    return {name: ({k: rounded(v) for k, v in claim.items()} if name in KEYWORD_CLAIMS
                   else claim)
            for name, claim in actual.items() if name != "round_constants"}


#: the qualifiers of a claim, each restating the case and observation it is judged on
QUALIFIERS = {"computed_in": _computed_in, "accurate_to": _accurate_to}


def _with_arrays(case, observation, **arrays):
    """``case`` and ``observation`` with these arrays in place of what was given; the direction
    of a jvp or hvp follows its operand into its new shape (reshaped, or broadcast with it:
    both are linear, so the derivative along the moved direction is the one taken)."""
    fed = {**observation.fed, **arrays}
    direction, wrt = fed.get("direction"), observation.wrt
    if direction is not None and wrt in arrays:
        shape = np.shape(arrays[wrt])
        direction = (np.reshape(direction, shape) if np.size(direction) == math.prod(shape)
                     else np.array(np.broadcast_to(direction, shape)))
        fed["direction"] = direction
        case = dataclasses.replace(case, direction=direction)
    return case.with_inputs(**arrays), dataclasses.replace(observation, fed=fed)


def _broadcast(case, observation):
    x, t = (np.asarray(observation.fed[k]) for k in ("input", "target"))
    x, t = (np.array(a) for a in np.broadcast_arrays(x, t))
    return _with_arrays(case, observation, input=x, target=t)


def _broadcast_gradient_holds(binding, case, observation, extra: dict,
                              check: str = "gradient") -> bool:
    """The observed gradient (or hvp) is that of the loss of the broadcast arrays, summed back
    over the broadcast axes to the shape of what was differentiated (the chain rule of a
    broadcast; an hvp's vector is broadcast with its operand), within the summed bounds of its
    elements."""
    wrt = observation.wrt
    if observation.error is not None or observation.gradient is None:
        return False
    restated, seen = _broadcast(case, observation)
    exact, kwargs = expected(binding, restated, seen.fed, check, wrt, extra)
    if isinstance(exact, str):
        return False
    shape = np.shape(observation.fed[wrt])
    bound = np.broadcast_to(tolerance.bound(check, case.loss, kwargs, exact, wrt, case.dtype,
                                            seen.fed.get("direction")), exact.shape)
    exact, bound = _sum_to_shape(exact, shape), _sum_to_shape(np.abs(bound), shape)
    observed = np.asarray(observation.gradient, dtype=np.float64)
    if observed.shape != exact.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all((observed == exact) | (np.abs(observed - exact) <= bound)))


def _sum_to_shape(array: np.ndarray, shape: tuple) -> np.ndarray:
    """``array`` summed over the axes that broadcasting added to or stretched from ``shape``."""
    array = np.sum(array, axis=tuple(range(array.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i] != 1)
    return np.sum(array, axis=stretched, keepdims=True)


def _aligned(case, observation):
    """The rank rule of Keras's squeeze_or_expand_to_same_rank: an input with one more axis,
    of size 1, than its element-wise target loses it (its gradient read in that shape);
    otherwise the target takes the shape the loss expects of it."""
    x, t = (np.asarray(observation.fed[k]) for k in ("input", "target"))
    if case.target_kind != "indices" and x.ndim == t.ndim + 1 and x.shape[-1:] == (1,):
        squeezed = x.reshape(x.shape[:-1])
        if observation.gradient is not None and np.size(observation.gradient) == x.size:
            observation = dataclasses.replace(
                observation, gradient=np.reshape(observation.gradient, squeezed.shape))
        return _with_arrays(case, observation, input=squeezed)
    shape = x.shape
    if case.target_kind == "indices" and x.ndim:
        shape = tuple(n for i, n in enumerate(x.shape) if i != case.class_axis)
    return _with_arrays(case, observation, target=t.reshape(shape))


def _smoothed_on_last_axis(case, observation):
    """Label smoothing applied over the last axis, whatever the class axis: the target
    becomes (1 - e) t + e / C_last, and the case has no smoothing left to apply."""
    e = float(case.options.get("label_smoothing", 0.0))
    t = np.asarray(observation.fed["target"], dtype=np.float64)
    smoothed = (1 - e) * t + e / t.shape[-1]
    case, observation = _with_arrays(case, observation, target=smoothed)
    return dataclasses.replace(case, options={**case.options, "label_smoothing": 0.0}), \
        observation


def _truncated_labels(case, observation):
    labels = np.trunc(np.asarray(observation.fed["target"], dtype=np.float64)).astype(np.int64)
    return _with_arrays(case, observation, target=labels)


#: ``inputs = ...``: the arrays a library computed on, from those it was given
RESTATED_INPUTS = {"broadcast": _broadcast, "aligned": _aligned,
                    "truncated-labels": _truncated_labels,
                    "smoothed-on-last-axis": _smoothed_on_last_axis}


def _numbers(values):
    """A TOML array literal as floats: ``"nan"``, ``"inf"`` and ``"-inf"`` are strings there."""
    if isinstance(values, list):
        return [_numbers(v) for v in values]
    return float(values)


def _special_or_oracle(special: float, extra: dict, binding, case, observation,
                       check: str) -> str | None:
    """None when ``special`` (NaN or +inf) is in some elements the oracle has something else
    for and the oracle everywhere else; else how the observation differs."""
    if observation.error is not None:
        return f"the library raised {observation.error[0]}"
    exp, _ = expected(binding, case, observation.fed, check, observation.wrt, extra)
    observed = np.asarray(observation.value if check == "value" else observation.gradient,
                          dtype=np.float64)
    if isinstance(exp, str):
        return "the oracle with these keywords rejects the inputs, which the library took"
    if exp.shape != observed.shape:
        return f"the result has shape {observed.shape}, the oracle's {exp.shape}"
    is_special = np.isnan if math.isnan(special) else (lambda a: a == special)
    extra_special = is_special(observed) & ~is_special(exp)
    if not extra_special.any():
        return f"no element is {special} where the oracle's is not"
    patched = np.where(extra_special, exp, observed)
    field_name = "value" if check == "value" else "gradient"
    restated = judge(binding, case, dataclasses.replace(observation, **{field_name: patched}),
                     check, extra=extra)
    if restated.outcome == "match":
        return None
    return f"besides the {special} elements, {_against_the_claim(restated)}"


def _absolutely_within(k: float, case, observation, verdict) -> bool:
    x = np.asarray(observation.fed.get("input", case.inputs["input"]), dtype=np.float64)
    finite = np.abs(x[np.isfinite(x)])
    scale = 1.0 + (float(finite.max()) if finite.size else 0.0)
    terms = 1
    if case.options.get("reduction") == "sum" and verdict.expected is not None:
        terms = max(1, int(np.prod(np.shape(case.inputs["target"]))))
    exp = np.asarray(verdict.expected, dtype=np.float64)
    obs = np.asarray(verdict.observed, dtype=np.float64)
    if exp.shape != obs.shape or not np.all(np.isfinite(exp) == np.isfinite(obs)):
        return False
    with np.errstate(invalid="ignore"):
        err = np.where(np.isfinite(exp), np.abs(obs - exp), 0.0)
        final_rounding = np.where(np.isfinite(exp), ulp(exp, case.dtype), 0.0)
    allowed = k * dtype_spec(case.dtype).unit_roundoff * scale * terms + final_rounding
    return bool(np.all(err <= allowed))

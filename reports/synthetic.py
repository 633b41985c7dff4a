"""Synthetic results documents, valid per ``conformance/results.schema.json``, for the report's
tests and benchmark (the conformance suite writes the real ones), and for a look at the report
without running the suite: ``python -m reports.synthetic DIR [N]`` writes them to DIR.

They are made to exercise every part of the report, not to be true about any library:

- several envs (numpy with scipy and scikit-learn, torch, tensorflow with keras, jax, keras on
  jax/torch/numpy, tf-keras), each with its library versions, platform, seed and profile;
- findings of every category, check, dtype and outcome, registered (every deviation kind, each
  entry with a reason and a link) and unregistered;
- a stale registry entry, an unavailable adapter, an incomplete run (``finished`` is null);
- cases the harness failed on (outcome ``harness-error``, with its cause; a whole cell of jax,
  one dtype of a tensorflow cell), registry entries whose claim failed on findings their match
  selected (one that explained others, one that explained none), and run warnings;
- exception messages and registry reasons holding HTML (``<script>alert(1)</script>``, ``&``);
- stability sweeps that record every point (matches included) with its ``magnitude``, named as
  the suite names them: ``logit-magnitude-1e+04`` (1 to a quarter of the dtype's largest
  number), ``probability-near-0-1e-16`` (magnitude k for p = 10**-k, down to the dtype's
  smallest subnormal), and ``classes-32000``, whose 2 x 32 000 logits are kept in full where
  they differ (torch; keras-jax raises) and left out where they match, as the recorder does;
- named cases shared by every library of a loss, some of which only one library gets wrong.

``documents(findings=N)`` pads the random draws so that the envs hold about N findings in all.
Everything is derived from ``seed``: the same arguments give the same documents.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from conformance.results import Finding, encode

CATEGORIES = ("values", "gradients", "derivatives", "reductions", "stability", "edge_cases",
              "equivalence")
ALL_DTYPES = ("float16", "bfloat16", "float32", "float64")
NO_BF16 = ("float16", "float32", "float64")
EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
HISTOGRAM_BINS = ("0", "<=0.5", "<=1", "<=2", *(f"<=2^{k}" for k in range(2, 21)), ">2^20",
                  "nonfinite")
XSS = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Api:
    name: str
    backend: str
    loss: str
    gradients: bool = True
    dtypes: tuple[str, ...] = ALL_DTYPES
    logits: bool = False  # takes logits (stable forms) rather than probabilities


def _torch_apis() -> list[Api]:
    forms = [("binary_cross_entropy", "BCELoss", "binary_cross_entropy", False),
             ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss",
              "binary_cross_entropy_with_logits", True),
             ("cross_entropy", "CrossEntropyLoss", "cross_entropy", True),
             ("nll_loss", "NLLLoss", "nll_loss", True)]
    apis = []
    for function, module, loss, logits in forms:
        apis.append(Api(f"torch.nn.functional.{function}", "torch", loss, logits=logits))
        apis.append(Api(f"torch.nn.{module}", "torch", loss, logits=logits))
    return apis


def _keras_apis(prefix: str, backend: str, gradients: bool = True) -> list[Api]:
    apis = []
    for name, loss_p, loss_z in [
        ("BinaryCrossentropy", "binary_cross_entropy", "binary_cross_entropy_with_logits"),
        ("CategoricalCrossentropy", "categorical_cross_entropy", "cross_entropy"),
        ("SparseCategoricalCrossentropy", "categorical_cross_entropy", "cross_entropy"),
    ]:
        apis.append(Api(f"{prefix}.losses.{name}", backend, loss_p, gradients=gradients))
        apis.append(Api(f"{prefix}.losses.{name}(from_logits=True)", backend, loss_z,
                        gradients=gradients, logits=True))
    return apis


#: env -> (libraries and versions, backends -> APIs, unavailable adapters)
ENVS: dict[str, dict] = {
    "numpy": {
        "libraries": {"numpy": "2.4.6", "scipy": "1.17.1"},
        "apis": [
            Api("textbook.binary_cross_entropy_loss", "numpy", "binary_cross_entropy",
                gradients=False, dtypes=NO_BF16),
            Api("textbook.categorical_cross_entropy_loss", "numpy", "categorical_cross_entropy",
                gradients=False, dtypes=NO_BF16),
            Api("scipy.special.log_softmax[indices]", "scipy", "cross_entropy", gradients=False,
                dtypes=NO_BF16, logits=True),
            Api("scipy.special.log_expit", "scipy", "binary_cross_entropy_with_logits",
                gradients=False, dtypes=NO_BF16, logits=True),
            Api("scipy.special.xlogy[binary]", "scipy", "binary_cross_entropy", gradients=False,
                dtypes=NO_BF16),
        ],
        "unavailable": {"scikit-learn": "unavailable: ModuleNotFoundError: No module named "
                                        "'sklearn' (install the dependency group numpy)"},
    },
    "torch": {"libraries": {"torch": "2.13.0", "numpy": "2.4.6"}, "apis": _torch_apis()},
    "tensorflow": {
        "libraries": {"tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"},
        "apis": [
            Api("tf.nn.sigmoid_cross_entropy_with_logits", "tensorflow",
                "binary_cross_entropy_with_logits", logits=True),
            Api("tf.nn.softmax_cross_entropy_with_logits", "tensorflow", "cross_entropy",
                logits=True),
            Api("tf.nn.sparse_softmax_cross_entropy_with_logits", "tensorflow", "cross_entropy",
                logits=True),
            *_keras_apis("keras", "keras"),
        ],
    },
    "jax": {
        "libraries": {"jax": "0.10.2", "jaxlib": "0.10.2", "optax": "0.2.8"},
        "apis": [
            Api("optax.sigmoid_binary_cross_entropy", "optax",
                "binary_cross_entropy_with_logits", logits=True),
            Api("optax.softmax_cross_entropy", "optax", "cross_entropy", logits=True),
            Api("optax.softmax_cross_entropy_with_integer_labels", "optax", "cross_entropy",
                logits=True),
            Api("optax.safe_softmax_cross_entropy", "optax", "cross_entropy", logits=True),
        ],
    },
    "keras-jax": {"libraries": {"keras": "3.15.1", "jax": "0.10.2"},
                  "apis": _keras_apis("keras", "keras")},
    "keras-torch": {"libraries": {"keras": "3.15.1", "torch": "2.13.0"},
                    "apis": _keras_apis("keras", "keras")},
    "keras-numpy": {"libraries": {"keras": "3.15.1", "numpy": "2.4.6"},
                    "apis": _keras_apis("keras", "keras", gradients=False)},
    "tf-keras": {"libraries": {"tf_keras": "2.21.0", "tensorflow": "2.21.0"},
                 "apis": _keras_apis("tf.keras", "tf_keras")},
}

#: where the bugs stand upstream (one not reported, one reported), as the registry says
UPSTREAM = {
    "optax-integer-labels-out-of-range": {"status": "none found", "checked": "2026-12-07"},
    "torch-ce-bf16-label-smoothing": {
        "status": "reported", "links": ["https://github.com/pytorch/pytorch/issues/00000"],
        "checked": "2026-12-07"},
}

#: registry entries per backend: id -> (kind, reason, link, actual)
REGISTRY: dict[str, dict[str, tuple]] = {
    "torch": {
        "torch-bce-log-clamp": (
            "documented-semantics",
            "BCELoss clamps its log function outputs to be >= -100, so a certain-wrong "
            "prediction costs 100 per element, not inf.",
            "https://pytorch.org/docs/stable/generated/torch.nn.BCELoss.html",
            {"log_clamp": -100}),
        "torch-half-mean-accumulation": (
            "precision",
            "float16 mean reductions accumulate in float16 on CPU & round each partial sum.",
            "https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/Loss.cpp", None),
        "torch-ce-bf16-label-smoothing": (
            "bug", "bfloat16 label smoothing of 0.1 rounds the smoothed targets to 0.1015625.",
            "https://github.com/pytorch/pytorch/issues/00000", None),
        "torch-nll-empty-batch": (
            "documented-semantics", "mean over an empty batch is nan (0/0).",
            "https://pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html", "nan"),
    },
    "keras": {
        "keras-clip-epsilon": (
            "documented-semantics",
            "Probabilities are clipped to [epsilon, 1 - epsilon] with epsilon = 1e-7 before the "
            "log, so <b>log(0)</b> is never reached & the loss is capped at 16.1.",
            "https://keras.io/api/losses/probabilistic_losses/", {"clip_epsilon": 1e-7}),
        "keras-renormalize": (
            "documented-semantics",
            "CategoricalCrossentropy divides the probabilities by their sum over the class axis.",
            "https://github.com/keras-team/keras/blob/master/keras/src/backend/numpy/nn.py",
            {"renormalize": True}),
        "keras-accepts-probability-above-one": (
            "out-of-contract", "Probabilities above 1 are clipped, not rejected.",
            "https://keras.io/api/losses/", None),
        "keras-numpy-no-gradients": (
            "unsupported", "The numpy backend of Keras has no autodiff.",
            "https://keras.io/getting_started/", "NotImplementedError"),
    },
    "tf_keras": {
        "tf-keras-log-offset": (
            "documented-semantics", "tf_keras adds epsilon inside the logs.",
            "https://github.com/keras-team/tf-keras/blob/master/tf_keras/backend.py",
            {"log_offset": 1e-7}),
    },
    "tensorflow": {
        "tf-sparse-index-out-of-range-nan": (
            "documented-semantics",
            "On CPU an out-of-range label raises; on GPU the loss row is NaN (documented).",
            "https://www.tensorflow.org/api_docs/python/tf/nn/"
            "sparse_softmax_cross_entropy_with_logits", "InvalidArgumentError"),
        "tf-sigmoid-inf-logit-nan": (
            "documented-semantics", "An infinite logit gives nan (inf - inf in the stable form).",
            "https://www.tensorflow.org/api_docs/python/tf/nn/sigmoid_cross_entropy_with_logits",
            "nan"),
    },
    "optax": {
        "optax-integer-labels-out-of-range": (
            "bug", "Out-of-range integer labels are silently accepted (JAX clamps the gather).",
            "https://github.com/google-deepmind/optax/issues/0000", None),
        "optax-bf16-softmax-overflow": (
            "precision", "bfloat16 logits of magnitude 1e4 lose every bit of the loss.",
            "optax/losses/_classification.py, line 212 (no URL)", None),
    },
    "numpy": {
        "textbook-log-offset": (
            "documented-semantics", "The textbook formula adds 1e-9 inside the log.",
            "https://github.com/example/blog/textbook-cross-entropy", {"log_offset": 1e-9}),
        "textbook-half-exp-overflow": (
            "precision", "exp overflows in float16 above 11.", "https://numpy.org/doc/", None),
    },
    "scipy": {},
}

#: cases the harness failed on (not verdicts about the library): env -> (api, category) ->
#: (dtypes, exception type, message, cause)
HARNESS_FAILURES: dict[str, dict[tuple[str, str], tuple]] = {
    "jax": {("optax.softmax_cross_entropy_with_integer_labels", "gradients"): (
        ALL_DTYPES, "AttributeError",
        "module 'optax' has no attribute 'softmax_cross_entropy_with_integer_label'",
        "the binding's expression names optax.softmax_cross_entropy_with_integer_label, which "
        "does not exist")},
    "tensorflow": {("tf.nn.sigmoid_cross_entropy_with_logits", "edge_cases"): (
        ("float16",), "WorkerDied", "the worker exited with signal 9 while serving the call",
        "the worker process died while serving the call <oom> & was replaced")},
}
#: registry entries whose match selects a case but whose claim fails on it:
#: (backend, case) -> (entry id, why)
FAILED_CLAIMS = {
    ("torch", "edge_cases/nan_input"): (
        "torch-bce-log-clamp", "claims log_clamp=-100 (a value); the library raised ValueError"),
    ("tensorflow", "edge_cases/inf_logit"): (
        "tf-sigmoid-inf-logit-nan", "claims nan; the library returned inf"),
}
#: what a reader of a run must know: env -> warnings
WARNINGS = {
    "numpy": ["the registry adapters/numpy/numpy.toml was written for numpy 2.3.5; numpy 2.4.6 "
              "is installed, so its entries may no longer hold"],
    "jax": ["jaxlib has no registry file (adapters/jax/jaxlib.toml): none of its findings can "
            "be explained <unregistered>"],
}

# named edge cases: (case, outcome per backend; a backend missing from the map matches)
EDGE_CASES = {
    "binary_cross_entropy": [
        ("edge_cases/log0_certain_wrong", {"torch": ("deviates", "torch-bce-log-clamp"),
                                           "keras": ("deviates", "keras-clip-epsilon"),
                                           "tf_keras": ("deviates", "tf-keras-log-offset"),
                                           "numpy": ("deviates", "textbook-log-offset")}),
        ("edge_cases/probability_above_one", {"keras": ("accepts_invalid",
                                                        "keras-accepts-probability-above-one"),
                                              "scipy": ("accepts_invalid", None)}),
        ("edge_cases/nan_input", {"torch": ("raises", None)}),
    ],
    "binary_cross_entropy_with_logits": [
        ("edge_cases/inf_logit", {"tensorflow": ("nonfinite", None)}),
        ("edge_cases/nan_logit", {}),
    ],
    "cross_entropy": [
        ("edge_cases/index_out_of_range", {"optax": ("accepts_invalid",
                                                     "optax-integer-labels-out-of-range"),
                                           "tensorflow": ("raises",
                                                          "tf-sparse-index-out-of-range-nan")}),
        ("edge_cases/label_smoothing_above_one", {"torch": ("raises", None)}),
        ("edge_cases/shape_mismatch", {"keras": ("raises", None)}),
        ("edge_cases/all_logits_inf", {"torch": ("crash", None)}),
    ],
    "categorical_cross_entropy": [
        ("edge_cases/probabilities_not_summing_to_one", {"keras": ("deviates",
                                                                   "keras-renormalize")}),
        ("edge_cases/huge_class_count", {"numpy": ("timeout", None)}),
    ],
    "nll_loss": [("edge_cases/empty_batch", {"torch": ("nonfinite", "torch-nll-empty-batch")})],
}
REDUCTION_CASES = ("reductions/none", "reductions/sum", "reductions/mean",
                   "reductions/weighted_mean", "reductions/empty_batch")
EQUIVALENCE_CASES = ("equivalence/functional_vs_module", "equivalence/logits_vs_probabilities",
                     "equivalence/indices_vs_one_hot")
#: the logit sweep, then a quarter of the dtype's largest number (the suite's sweep)
LOGIT_MAGNITUDES = (1.0, 10.0, 1e2, 1e3, 1e4, 1e6)
#: the probability sweep: p = 10**-k, while p is above the dtype's smallest subnormal
PROBABILITY_EXPONENTS = (1, 4, 8, 16, 30, 60, 150, 300)
LARGEST = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
           "float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}
SMALLEST_SUBNORMAL = {"float16": 2.0**-24, "bfloat16": 2.0**-133, "float32": 2.0**-149,
                      "float64": 5e-324}
#: the classes-32000 case: logits of 2 samples over 32 000 classes, kept where they differ
CLASSES = 32000
STARTED = "2026-11-22T09:00:00+00:00"


def finding_id(api: str, case: str, check: str, dtype: str, wrt: str | None) -> str:
    text = f"{api}|{case}|{check}|{wrt}|{dtype}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _round(x: float, dtype: str) -> float:
    if not math.isfinite(x):
        return x
    if dtype == "bfloat16":  # round to 8 significant bits
        m, e = math.frexp(x)
        return math.ldexp(round(m * 256) / 256, e)
    return float(np.asarray(x, dtype={"float16": np.float16, "float32": np.float32,
                                      "float64": np.float64}[dtype]))


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _softmax(row: list[float], dtype: str) -> list[float]:
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    return [_round(e / sum(exps), dtype) for e in exps]


def _reproducer(api: Api, inputs: dict, dtype: str, check: str, env: str) -> str:
    module = api.name.split(".")[0]
    lines = []
    if api.backend in ("keras", "tf_keras"):
        lines += ["import os", f"os.environ['KERAS_BACKEND'] = {env.removeprefix('keras-')!r}"]
    lines.append(f"import {module}")
    for name, value in inputs.items():
        lines.append(f"{name} = {module}.asarray({json.dumps(encode(value))}, dtype={dtype!r})")
    call = f"{api.name}(input, target)"
    if check == "gradient":
        lines += [f"result = {module}.grad(lambda input: {call}.sum())(input)"]
    elif check in ("jvp", "hvp"):
        lines += [f"direction = {module}.ones_like(input)",
                  f"result = {module}.{check}(lambda input: {call}.sum(), input, direction)"]
    else:
        lines += [f"result = {call}"]
    lines.append("print(result)")
    return "\n".join(lines) + "\n"


class _Builder:
    """The findings and summary rows of one env, as the suite would record them."""

    def __init__(self, env: str, spec: dict, rng: random.Random, draws: int):
        self.env, self.spec, self.rng, self.draws = env, spec, rng, draws
        self.findings: list[Finding] = []
        self.summary: list[dict] = []
        self.matched: dict[str, int] = {}
        self.failed: dict[str, tuple[int, str]] = {}  # entry -> (findings, why)

    def error(self, ulp: float, dtype: str, bound: float = 2.0, expected: float = 1.0) -> dict:
        if not math.isfinite(ulp):
            return {"abs": "inf", "rel": "inf", "ulp": "inf", "bound": bound, "bound_ratio": "inf",
                    "index": [0]}
        abs_ = ulp * EPS[dtype] * abs(expected)
        return {"abs": abs_, "rel": abs_ / abs(expected), "ulp": ulp, "bound": bound,
                "bound_ratio": ulp / bound, "index": [self.rng.randrange(4)]}

    def finding(self, api: Api, category: str, dtype: str, case: str, outcome: str,
                deviation: str | None, *, check: str = "value", magnitude: float | None = None,
                ulp: float | None = None, inputs: dict | None = None) -> Finding:
        rng = self.rng
        wrt = None if check == "value" else "input"
        n = rng.choice((1, 2, 3, 4))
        scale = 3.0 if magnitude is None else min(magnitude, 1e3)  # the values are for show
        if inputs is not None:  # given (the classes-32000 case)
            n = len(inputs.get("input", [()]))
        elif api.loss.startswith("binary"):
            x = [_round(rng.uniform(-scale, scale), dtype) for _ in range(n)]
            if not api.logits:
                x = [_round(_sigmoid(v), dtype) for v in x]
            inputs = {"input": x, "target": [float(rng.randrange(2)) for _ in range(n)]}
        else:
            c = rng.choice((2, 3, 5))
            x = [[_round(rng.gauss(0, scale / 3), dtype) for _ in range(c)] for _ in range(n)]
            if api.loss == "categorical_cross_entropy":
                x = [_softmax(row, dtype) for row in x]
            inputs = {"input": x, "target": [rng.randrange(c) for _ in range(n)]}
            if "weight" in case:
                inputs["weight"] = [_round(rng.uniform(0.1, 2), dtype) for _ in range(c)]
        expected = round(rng.uniform(0.05, 5.0), 12)
        if case.endswith("nan_input") or case.endswith("nan_logit"):
            inputs["input"][0] = math.nan
        observed: object
        err = None
        if outcome == "match":
            u = ulp if ulp is not None else rng.choice((0.0, 0.25, 0.5, 1.0))
            observed, err = expected * (1 + u * EPS[dtype]), self.error(u, dtype, 2.0, expected)
        elif outcome == "deviates":
            u = ulp if ulp is not None else 2.0 ** rng.uniform(1.5, 18)
            observed, err = expected * (1 + u * EPS[dtype]), self.error(u, dtype, 2.0, expected)
        elif outcome == "nonfinite":
            observed, err = rng.choice((math.nan, math.inf)), self.error(math.inf, dtype)
        elif outcome == "accepts_invalid":
            expected, observed = "invalid", round(rng.uniform(0, 3), 6)
        elif outcome == "raises":
            observed = {"error": "ValueError",
                        "message": f"Target size ({n}) must be the same as input size ({n + 1})"
                                   f" & got {XSS}"}
        elif outcome == "unsupported":
            observed = {"error": "NotImplementedError",
                        "message": "gradients are not supported by the numpy backend"}
        elif outcome == "crash":
            observed = {"error": "Crash", "message": "the worker died with SIGSEGV (signal 11)"}
        elif outcome == "harness-error":  # the call was never made: no reproducer
            _, kind, message, cause = HARNESS_FAILURES[self.env][(api.name, category)]
            observed = {"error": kind, "message": message, "cause": cause}
        else:  # timeout
            observed = {"error": "Timeout", "message": "no answer within 60 s"}
        if check in ("gradient", "hvp") and isinstance(observed, float):
            shape = np.shape(inputs["input"])  # the gradient has the input's shape
            observed = np.full(shape, observed / n).tolist()
            if isinstance(expected, float):
                expected = np.full(shape, expected / n).tolist()
        if err is not None and check != "value":  # a derivative's error element by element
            cw = componentwise(case, dtype, api.name)
            err["componentwise"] = {"ulp": cw["ulp"] if err["ulp"] != "inf" else "inf",
                                    "index": err["index"], "zero": cw["zero"],
                                    "sign": cw["sign"]}
        if deviation:
            self.matched[deviation] = self.matched.get(deviation, 0) + 1
        failed_claims = None
        if (api.backend, case) in FAILED_CLAIMS and outcome != "harness-error":
            ident, why = FAILED_CLAIMS[(api.backend, case)]
            failed_claims = [{"id": ident, "why": why}]
            self.failed[ident] = (self.failed.get(ident, (0, why))[0] + 1, why)
        reduction = "mean"
        if "(from_logits=True)" not in api.name and "reduction" in case:
            reduction = case.rsplit("/", 1)[1]
        record = Finding(
            id=finding_id(api.name, case, check, dtype, wrt), case=case, backend=api.backend,
            backend_version=self.version(api.backend), api=api.name, loss=api.loss,
            category=category, check=check, wrt=wrt, dtype=dtype,
            options={"reduction": reduction}, inputs=inputs, expected=expected,
            observed=observed, outcome=outcome, error=err, deviation=deviation,
            reproducer="" if outcome == "harness-error" else
            _reproducer(api, inputs, dtype, check, self.env), magnitude=magnitude,
            paths=_paths(api, observed, expected) if category == "equivalence" else None,
            failed_claims=failed_claims)
        self.findings.append(record)
        return record

    def version(self, backend: str) -> str:
        libraries = self.spec["libraries"]
        return libraries.get(backend, libraries.get(backend.replace("optax", "optax"), "0.0"))

    def cell(self, api: Api, category: str, dtype: str) -> None:
        """The findings and the summary row of one (api, category, dtype)."""
        rng, start = self.rng, len(self.findings)
        cases = rng.randrange(20, 200)
        unsupported = 0
        if harness_fails(self.env, api, category, dtype):
            self.harness_failed(api, category, dtype)
            return
        if category == "gradients" and not api.gradients:
            if api.backend != "keras":
                return  # the API offers no gradients: no row (the matrix greys the cell)
            unsupported = cases
            self.finding(api, category, dtype, "gradients/wrt=input", "unsupported",
                         "keras-numpy-no-gradients", check="gradient")
        elif category == "edge_cases":
            for case, outcomes in EDGE_CASES.get(api.loss, []):
                outcome, deviation = outcomes.get(api.backend, ("match", None))
                # named cases are recorded whatever their outcome, matches included (in float32,
                # to keep the documents small), so that agreement is on the record
                if outcome != "match" or dtype == "float32":
                    self.finding(api, category, dtype, case, outcome, deviation)
        elif category == "derivatives":
            if not api.gradients:
                return
            for check in ("jvp", "hvp"):
                # the forward mode of a "safe" softmax returns NaN at a -inf logit, where the
                # reverse gradient is right: the finding the category was made for
                nan_at_inf = check == "jvp" and api.backend == "optax" and dtype == "float32"
                if nan_at_inf or dtype == "float32":
                    self.finding(api, category, dtype, "logit-magnitude-10",
                                 "nonfinite" if nan_at_inf else "match", None, check=check)
        elif category == "stability":
            self.stability(api, dtype)
        elif category == "reductions":
            for case in REDUCTION_CASES:
                if dtype == "float16" and case.endswith("mean") and api.backend == "torch":
                    self.finding(api, category, dtype, case, "deviates",
                                 "torch-half-mean-accumulation")
        elif category == "equivalence":
            for case in EQUIVALENCE_CASES:
                if api.backend == "tf_keras" and case.endswith("logits_vs_probabilities"):
                    self.finding(api, category, dtype, case, "deviates", "tf-keras-log-offset")
                elif api.backend == "keras" and api.logits \
                        and case.endswith("logits_vs_probabilities"):
                    # the probability path clips p: large logits disagree with the logits path
                    self.finding(api, category, dtype, case, "deviates", "keras-clip-epsilon")
        else:  # values, gradients: random draws, a few of which differ
            check = "gradient" if category == "gradients" else "value"
            share = {"float16": 0.3, "bfloat16": 0.4, "float32": 0.05, "float64": 0.01}[dtype]
            for k in range(self.draws):
                if rng.random() < share or self.draws > 3:
                    deviation = self.registered_precision(api) if rng.random() < 0.7 else None
                    # a hypothesis draw is its own case: named by its api, not shared
                    draw = hashlib.sha1(f"{api.name}/{k}".encode()).hexdigest()[:8]
                    self.finding(api, category, dtype, f"{category}/draw-{draw}", "deviates",
                                 deviation, check=check)
        made = self.findings[start:]
        differing = [f for f in made if f.outcome not in ("match", "unsupported")]
        # as the suite counts them: the cases judged; the unsupported ones apart
        cases = max(cases, len(made)) - unsupported
        ulps = [f.error["ulp"] for f in made if f.error]
        finite = [u for u in ulps if isinstance(u, float)]
        worst = "inf" if any(u == "inf" for u in ulps) else max(finite, default=0.5)
        elements = cases * 4
        histogram = {"0": elements // 2, "<=0.5": elements // 3, "<=1": elements // 8}
        histogram["<=2"] = elements - sum(histogram.values())
        for u in ulps:
            histogram[_bin(u)] = histogram.get(_bin(u), 0) + 1
        row = {
            "api": api.name, "category": category, "dtype": dtype, "cases": cases,
            "matches": cases - len(differing), "findings": len(differing),
            "registered": sum(1 for f in differing if f.deviation),
            "unsupported": unsupported, "worst_ulp": worst,
            "worst_bound_ratio": worst if worst == "inf" else worst / 2.0,
            "ulp_histogram": histogram,
        }
        derivatives = [f for f in made if f.error and "componentwise" in f.error]
        if category in ("gradients", "derivatives") and cases - unsupported > 0:
            # the worst element of the row's derivatives, in the finding that holds it
            held = max(derivatives, key=lambda f: float(f.error["componentwise"]["ulp"]),
                       default=None)
            cw = held.error["componentwise"] if held else componentwise(category, dtype,
                                                                        api.name)
            row["componentwise"] = {
                "worst_ulp": cw["ulp"], "case": held.id if held else None,
                "zero": sum(f.error["componentwise"]["zero"] for f in derivatives) or cw["zero"],
                "sign": sum(f.error["componentwise"]["sign"] for f in derivatives)}
        self.summary.append(row)

    def harness_failed(self, api: Api, category: str, dtype: str) -> None:
        """Two cases the harness failed on (named edge cases, or draws), and their summary row:
        nothing judged."""
        check = "gradient" if category == "gradients" else "value"
        names = [case for case, _ in EDGE_CASES.get(api.loss, [])] or [
            f"{category}/draw-harness-{k}" for k in range(2)]
        for case in names[:2]:
            self.finding(api, category, dtype, case, "harness-error", None, check=check)
        self.summary.append({
            "api": api.name, "category": category, "dtype": dtype, "cases": 0, "matches": 0,
            "findings": 0, "registered": 0, "unsupported": 0, "harness_errors": len(names[:2]),
            "worst_ulp": 0.0, "worst_bound_ratio": 0.0, "ulp_histogram": {},
        })

    def stability(self, api: Api, dtype: str) -> None:
        """The sweep of the API's input kind: the error grows with the magnitude where the API
        takes probabilities; half precision overflows at the far end."""
        rng = self.rng
        if api.logits:
            sweep = [(f"logit-magnitude-{m:.3g}", m, 1.0) for m in
                     (*LOGIT_MAGNITUDES, LARGEST[dtype] / 4)]
        else:
            name = ("probability-near-0-and-1-1e-" if api.loss.startswith("binary")
                    else "probability-near-0-1e-")
            sweep = [(f"{name}{k}", float(k), float(k)) for k in PROBABILITY_EXPONENTS
                     if 10.0**-k >= SMALLEST_SUBNORMAL[dtype]]
        for case, m, growth in sweep:
            ulp = min(0.4 * growth * rng.uniform(0.5, 2.0), 2.0**22)
            if dtype in ("float16", "bfloat16") and m >= (8 if not api.logits else 1e4):
                outcome, deviation = "nonfinite", None
                if api.backend == "optax" and dtype == "bfloat16":
                    deviation = "optax-bf16-softmax-overflow"
                elif api.backend == "numpy":
                    deviation = "textbook-half-exp-overflow"
            else:
                outcome = "match" if ulp <= 2.0 else "deviates"
                deviation = None if outcome == "match" else (
                    self.registered_precision(api) if rng.random() < 0.8 else None)
            self.finding(api, "stability", dtype, case, outcome, deviation, magnitude=m,
                         ulp=ulp)
        if api.logits and api.loss == "cross_entropy" and dtype == "float32":
            self.classes(api, dtype)

    def classes(self, api: Api, dtype: str) -> None:
        """classes-32000: torch's functional form differs (value and gradient, the inputs kept
        in full), Keras on JAX raises, every other API matches (inputs left out)."""
        case = f"classes-{CLASSES}"
        if api.name == "torch.nn.functional.cross_entropy" or (
                self.env == "keras-jax" and "Sparse" in api.name):
            logits = np.random.default_rng(7).standard_normal((2, CLASSES)) * 3
            inputs = {"input": np.round(logits, 3).tolist(), "target": [5, CLASSES - 1]}
            if api.backend == "torch":
                for check in ("value", "gradient"):
                    self.finding(api, "stability", dtype, case, "deviates",
                                 "torch-half-mean-accumulation", check=check,
                                 magnitude=float(CLASSES), ulp=6.0, inputs=inputs)
            else:
                self.finding(api, "stability", dtype, case, "raises", None,
                             magnitude=float(CLASSES), inputs=inputs)
        else:
            self.finding(api, "stability", dtype, case, "match", None,
                         magnitude=float(CLASSES), ulp=0.5, inputs={})

    def registered_precision(self, api: Api) -> str | None:
        return {"torch": "torch-half-mean-accumulation",
                "optax": "optax-bf16-softmax-overflow",
                "numpy": "textbook-half-exp-overflow"}.get(api.backend)


def harness_fails(env: str, api: Api, category: str, dtype: str) -> bool:
    failure = HARNESS_FAILURES.get(env, {}).get((api.name, category))
    return failure is not None and dtype in failure[0]


def _bin(ulp) -> str:
    if ulp == "inf" or ulp == "nan":
        return "nonfinite"
    if ulp == 0:
        return "0"
    for label, edge in (("<=0.5", 0.5), ("<=1", 1.0), ("<=2", 2.0)):
        if ulp <= edge:
            return label
    k = max(2, math.ceil(math.log2(ulp)))
    return f"<=2^{k}" if k <= 20 else ">2^20"


#: accuracy measurements (the ``accuracy`` section): the envs that have them (the others are
#: results files written before the suite measured accuracy), and the losses measured
ACCURACY_ENVS = ("numpy", "torch", "tensorflow", "jax", "keras-jax")
ACCURACY_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
                   "categorical_cross_entropy")
#: element-wise targets measured (the suite adds 0.1 and 0.9); row losses: their target kinds
ELEMENT_TARGETS = ("0", "1", "0.5")
#: bands of an exhaustive measurement's profile
PROFILE_BANDS = 128
#: what the synthetic libraries get wrong, by (backend, loss, check, target): the worst ulp
#: grows to ``scale`` at the far end of the inputs; (zero, sign, nonfinite) counts
ACCURACY_FLAWS = {
    ("torch", "binary_cross_entropy_with_logits", "gradient", "1"): (3.0, (1184, 0, 0)),
    ("keras", "binary_cross_entropy", "value", "1"): (2.0e6, (0, 0, 0)),
    ("keras", "binary_cross_entropy", "gradient", "0.5"): (40.0, (0, 3, 0)),
    ("optax", "binary_cross_entropy_with_logits", "value", "0"): (math.inf, (0, 0, 12)),
    ("numpy", "binary_cross_entropy", "value", "0"): (5.0e3, (0, 0, 0)),
}
#: records that could not be measured: (env, api prefix, dtype or None, check or None) ->
#: (outcome, reason)
ACCURACY_FAILURES = {
    ("numpy", "textbook.", "bfloat16", None): (
        "unsupported", "NumPy has no bfloat16 dtype, so the textbook formula cannot run in it"),
    ("numpy", "", None, "gradient"): (
        "unsupported", "the API offers no gradients"),
    ("tensorflow", "tf.nn.sparse_softmax", "float16", None): (
        "raises", "InvalidArgumentError: Could not find device for node: "
                  "SparseSoftmaxXentWithLogits[T=DT_HALF] <on CPU> & no kernel"),
    ("jax", "optax.softmax_cross_entropy_with_integer_labels", None, "gradient"): (
        "harness-error", "the binding's expression names "
                         "optax.softmax_cross_entropy_with_integer_label, which does not exist"),
}


def half_values(dtype: str, probabilities: bool) -> np.ndarray:
    """Every finite value of a 16-bit dtype, in order (in [0, 1] for probabilities)."""
    bits = np.arange(2**16, dtype=np.uint32)
    if dtype == "float16":
        values = bits.astype(np.uint16).view(np.float16).astype(np.float64)
    else:  # bfloat16: the upper half of a float32
        with np.errstate(invalid="ignore"):  # the NaNs' bit patterns
            values = (bits << 16).view(np.float32).astype(np.float64)
    values = np.unique(values[np.isfinite(values)])
    return values[(values >= 0) & (values <= 1)] if probabilities else values


def _accuracy_failure(env: str, api: str, dtype: str, check: str):
    for (e, prefix, d, c), failure in ACCURACY_FAILURES.items():
        if e == env and api.startswith(prefix) and d in (None, dtype) and c in (None, check):
            return failure
    return None


def _example(x: float, target: float, expected: float, ulp: float, dtype: str) -> dict:
    observed = math.inf if math.isinf(ulp) else expected * (1 + ulp * EPS[dtype])
    return {"input": x, "target": target, "expected": expected, "observed": encode(observed),
            "ulp": encode(ulp)}


def accuracy_record(env: str, api: Api, dtype: str, check: str, target: str,
                    method: str) -> dict:
    """One accuracy record: deterministic in its arguments (its own random numbers, not the
    findings')."""
    rng = random.Random(f"accuracy/{env}/{api.name}/{dtype}/{check}/{target}/{method}")
    record = {"api": api.name, "backend": api.backend, "loss": api.loss, "mode": "eager",
              "dtype": dtype, "check": check, "target": target, "method": method}
    rows = target in ("indices", "probabilities")
    probabilities = not api.logits
    domain = ("rows of 3 logits" if api.logits else "rows of 3 probabilities") if rows else (
        f"every {dtype} {'probability in [0, 1]' if probabilities else 'finite logit'}")
    failure = _accuracy_failure(env, api.name, dtype, check)
    if failure is not None:
        outcome, reason = failure
        return {**record, "outcome": outcome, "reason": reason, "inputs": 0, "domain": domain}
    scale, (zeros, signs, nonfinite) = ACCURACY_FLAWS.get(
        (api.backend, api.loss, check, target), (rng.uniform(0.6, 2.5), (0, 0, 0)))
    if method == "exhaustive":
        values = half_values(dtype, probabilities)
        bands = np.array_split(values, PROFILE_BANDS)
        profile = []
        far = max(abs(values[0]), abs(values[-1]))
        floor = rng.choice((0.25, 0.5))  # the error of the easy inputs
        for band in bands:
            reach = max(abs(band[0]), abs(band[-1])) / far  # 0 near the middle, 1 at the ends
            if probabilities:  # the error grows towards 0 and 1
                reach = 1 - min(band[0], 1 - band[-1]) * 2
            u = scale * reach ** 4 if not math.isinf(scale) else (
                math.inf if reach > 0.999 else 1.5 * reach)
            u = max(u, floor if rng.random() < 0.9 else 0.0)
            profile.append([float(band[0]), float(band[-1]),
                            encode(u if math.isinf(u) else float(f"{u:.3g}"))])
        worst_band = max(range(len(profile)), key=lambda k: number_of(profile[k][2]))
        x = profile[worst_band][1]
        worst = number_of(profile[worst_band][2])
        record.update(inputs=len(values), profile=profile, seed=None, evaluations=None)
    else:
        worst = scale * rng.uniform(0.3, 1.0) if not math.isinf(scale) else math.inf
        worst = worst if math.isinf(worst) else float(f"{worst:.3g}")
        x = [[round(rng.gauss(0, 4), 3) for _ in range(3)]] if rows else round(
            rng.uniform(-80, 80) if api.logits else rng.random(), 6)
        record.update(inputs=rng.randrange(2000, 20000), seed=20261122,
                      evaluations=rng.randrange(20000, 200000))
    t = [[0.2, 0.3, 0.5]] if target == "probabilities" else [1] if target == "indices" \
        else float(target)
    expected = round(rng.uniform(0.01, 20.0), 9)
    record.update(
        outcome="measured", domain=domain, worst_ulp=encode(worst),
        worst=_example(x, t, expected, worst, dtype),
        zero_count=zeros, zero=_example(88.0, t, 1.6e-38 if dtype != "float16" else 6e-8,
                                         math.inf, dtype) | {"observed": 0.0, "ulp": "inf"}
        if zeros else None,
        sign_count=signs, sign=_example(0.37, t, -0.25, 2.0**23, dtype) | {"observed": 0.25}
        if signs else None,
        nonfinite_count=nonfinite,
        reproducer=_accuracy_reproducer(api, x, t, dtype, check, env),
    )
    return record


def number_of(value) -> float:
    return float(value)  # "inf" included


def _accuracy_reproducer(api: Api, x, t, dtype: str, check: str, env: str) -> str:
    inputs = {"input": x if isinstance(x, list) else [x], "target": t if isinstance(t, list)
              else [t]}
    return _reproducer(api, inputs, dtype, check, env)


def accuracy_records(env: str) -> list[dict]:
    """The accuracy section of ``env``: every eager API of the measured losses; element-wise
    losses exhaustive in half precision and searched above it, row losses searched."""
    found = []
    for api in ENVS[env]["apis"]:
        if api.loss not in ACCURACY_LOSSES:
            continue
        rows = api.loss in ("cross_entropy", "categorical_cross_entropy")
        targets = (("indices", "probabilities") if api.loss == "cross_entropy"
                   else ("probabilities",)) if rows else ELEMENT_TARGETS
        for dtype in ALL_DTYPES:
            method = "exhaustive" if dtype in ("float16", "bfloat16") and not rows \
                else "searched"
            for check in ("value", "gradient"):
                for target in targets:
                    found.append(accuracy_record(env, api, dtype, check, target, method))
    return found


def componentwise(case: str, dtype: str, api: str) -> dict:
    """A derivative's componentwise error (a finding's, or, with ``case``, a summary row's)."""
    rng = random.Random(f"componentwise/{api}/{case}/{dtype}")
    zero = 1 if "with_logits" in api and dtype in ("float16", "bfloat16") else 0
    return {"ulp": round(2.0 ** rng.uniform(-1, 12), 3), "zero": zero,
            "sign": 1 if rng.random() < 0.05 else 0}


def document(env: str, *, seed: int = 20261122, draws: int = 2) -> dict:
    """The results document of one env. ``draws``: random cases per (api, category, dtype) of
    values and gradients (above 3, every draw is a finding: the benchmark's padding)."""
    spec = ENVS[env]
    rng = random.Random(f"{seed}/{env}")
    builder = _Builder(env, spec, rng, draws)
    for api in spec["apis"]:
        for category in CATEGORIES:
            for dtype in api.dtypes:
                builder.cell(api, category, dtype)
    backends = {api.backend for api in spec["apis"]}
    deviations, stale = {}, []
    for backend in sorted(backends):
        for ident, (kind, reason, link, actual) in REGISTRY.get(backend, {}).items():
            entry = {"kind": kind, "apis": sorted(a.name for a in spec["apis"]
                                                  if a.backend == backend),
                     "reason": reason, "link": link, "matches": builder.matched.get(ident, 0)}
            if actual is not None:
                entry["actual"] = actual
            if ident in UPSTREAM:
                entry["upstream"] = UPSTREAM[ident]
            deviations[ident] = entry
            if not builder.matched.get(ident) and ident not in builder.failed:
                stale.append(ident)  # its match selected nothing
    return {
        "schema_version": 1,
        "env": env,
        "environment": {
            "started": STARTED,
            "finished": None if env == "tf-keras" else "2026-11-22T09:02:41+00:00",
            "libraries": spec["libraries"],
            "python": "3.11.7",
            "platform": "Linux-6.1.0-x86_64-with-glibc2.36",
            "device": "cpu",
            "seed": seed,
            "hypothesis_profile": "ci",
        },
        "unavailable": dict(spec.get("unavailable", {})),
        "summary": builder.summary,
        "findings": [f.to_json() for f in builder.findings],
        **({"accuracy": accuracy_records(env)} if env in ACCURACY_ENVS else {}),
        "deviations": deviations,
        "stale_deviations": stale,
        **({"failed_claims": {
            ident: {"selected": failed + builder.matched.get(ident, 0), "failed": failed,
                    "why": why}
            for ident, (failed, why) in builder.failed.items()}} if builder.failed else {}),
        **({"warnings": WARNINGS[env]} if env in WARNINGS else {}),
    }


def documents(envs=None, *, seed: int = 20261122, findings: int | None = None) -> dict[str, dict]:
    """env -> document, for ``envs`` (default all). With ``findings``, the random draws are
    padded so that all documents together hold about that many findings."""
    envs = list(envs or ENVS)
    draws = 2
    if findings:
        base = sum(len(document(e, seed=seed, draws=0)["findings"]) for e in envs)
        # every draw of values and (where offered) gradients is a finding once draws > 3
        slots = sum(1 for e in envs for api in ENVS[e]["apis"] for dtype in api.dtypes
                    for category in ("values", "gradients")[:1 + api.gradients]
                    if not harness_fails(e, api, category, dtype))
        draws = max(4, round((findings - base) / slots))
    return {env: document(env, seed=seed, draws=draws) for env in envs}


def write(directory: Path, envs=None, **kwargs) -> list[Path]:
    """Write ``<env>.json`` for each env into ``directory``; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for env, doc in documents(envs, **kwargs).items():
        path = directory / f"{env}.json"
        path.write_text(json.dumps(doc, indent=1, allow_nan=False), encoding="utf-8")
        paths.append(path)
    return paths


def _paths(api: Api, observed, other) -> list[dict]:
    """Both sides of an equivalence finding: this API, and its twin on probabilities (what
    the real suite pairs with a logits API)."""
    twin = api.name.replace("(from_logits=True)", "")
    return [{"api": api.name, "options": {"reduction": "mean"}, "observed": observed,
             "oracle": other},
            {"api": twin if twin != api.name else api.name + "[twin]",
             "options": {"reduction": "mean"}, "observed": other, "oracle": other}]


if __name__ == "__main__":  # python -m reports.synthetic DIR [N]
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "reports/results")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else None
    for p in write(target, findings=count):
        print(p)

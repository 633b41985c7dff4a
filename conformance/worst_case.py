"""A deterministic search for a binding's worst error where exhaustion is out of reach.

float32 and float64 have too many inputs to try them all, and a softmax loss's input is a row.
So a search climbs towards the largest error: a population of inputs (elements with a target
each, or rows of ``CLASSES`` logits) starts from the stability sweeps' magnitudes and regions
(logits from 1 to a quarter of the dtype's range, probabilities 10^-k towards 0 and 1, rows
shifted far from 0 or with one dominant logit), and each generation keeps, per target and per
check, the inputs with the largest errors and tries their neighbours: a few ulps away, a
power of two away, shifted or scaled as a row. One generation is one call of the library.

The worst error found is a lower bound on the binding's worst error (``method`` "searched"),
with its input and a reproducer; the generator is seeded from the run's seed, the binding and
the dtype, so a run with the same seed finds the same inputs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from adapters.binding import Binding, Case
from conformance import accuracy, exhaustive
from conformance.accuracy import Batch, Measured
from conformance.budget import ci_profile
from reference.specs import dtype_spec, loss_spec

ELEMENT_DTYPES = ("float32", "float64")
ROW_DTYPES = ("float32", "float16", "bfloat16")
ROW_LOSSES = ("cross_entropy", "categorical_cross_entropy")
#: classes of a searched row
CLASSES = 8
#: inputs per generation (each target of an element-wise loss gets its share)
POPULATION = {"ci": 40, "full": 160}
GENERATIONS = {"ci": 2, "full": 16}
#: the dtypes the ci profile searches (each new dtype and shape is a compile for JAX and XLA)
CI_DTYPES = ("float32",)
#: inputs kept per target and check each generation, whose neighbours are the next generation
ELITES = 4
#: the share of each generation drawn afresh from the seeds, so the search does not settle
FRESH = 0.25


def dtypes(binding: Binding) -> tuple[str, ...]:
    """The dtypes searched for ``binding`` (its own among them)."""
    if binding.loss in exhaustive.LOSSES:
        return ELEMENT_DTYPES
    if binding.loss in ROW_LOSSES:
        return ROW_DTYPES
    return ()


def target_kinds(binding: Binding) -> tuple[str, ...]:
    """One search per target kind of a softmax loss (a call holds one kind); element-wise
    losses search all their targets in one population."""
    if binding.loss in ROW_LOSSES:
        return tuple(k for k in ("indices", "probabilities") if k in binding.targets)
    return ("elements",)


def in_budget(dtype: str) -> bool:
    """The ci profile searches float32 only; the main job (``XENT_ACCURACY=exhaustive``) and
    the other profiles search every dtype."""
    return scale() == "full" or dtype in CI_DTYPES


def scale() -> str:
    return "ci" if ci_profile() and not exhaustive.whole() else "full"


@dataclass
class Best:
    """The accumulated row of one (target, check): the worst input of every generation so far,
    and the counts over all of them."""

    record: dict | None = None
    batch: Batch | None = None
    fed: dict | None = None
    counts: dict = field(default_factory=lambda: {"inputs": 0, "zero_count": 0,
                                                  "sign_count": 0, "nonfinite_count": 0})

    def add(self, record: dict, batch: Batch, fed: dict) -> None:
        for name in self.counts:
            self.counts[name] += record.get(name, 0)
        if self.record is None or _key(record) > _key(self.record):
            examples = {name: (self.record or {}).get(name) or record.get(name)
                        for name in EXAMPLES}
            self.record, self.batch, self.fed = {**record, **examples}, batch, fed
        else:
            for name in EXAMPLES:
                self.record[name] = self.record.get(name) or record.get(name)

    def result(self) -> dict:
        return {**self.record, **self.counts}


#: the examples a row keeps besides its worst input: the first found of each
EXAMPLES = ("zero", "sign", "nonfinite")


def _key(record: dict) -> float:
    return float(record.get("worst_ulp", -1.0))


class Search:
    """The search of one binding, dtype and target kind (see the module docstring)."""

    def __init__(self, binding: Binding, dtype: str, kind: str, seed: int):
        self.binding, self.dtype, self.kind = binding, dtype, kind
        self.spec = dtype_spec(dtype)
        self.rows = binding.loss in ROW_LOSSES
        self.input_kind = loss_spec(binding.loss).input_kind
        self.seed = zlib.crc32(f"{seed}|{binding.api}|{dtype}|{kind}".encode())
        self.rng = np.random.default_rng(self.seed)
        self.size = POPULATION[scale()]
        self.labels = (np.full(self.size, kind) if self.rows else
                       np.resize([exhaustive.target_label(t) for t in exhaustive.TARGETS],
                                 self.size))

    @property
    def generations(self) -> int:
        return GENERATIONS[scale()]

    def domain(self, evaluations: int) -> str:
        row = "logits" if self.input_kind == "logits" else "probabilities (a logit row's softmax)"
        what = (f"rows of {CLASSES} {row}, {self.kind} targets" if self.rows
                else f"{self.dtype} inputs with targets "
                     + ", ".join(exhaustive.target_label(t) for t in exhaustive.TARGETS))
        return (f"searched: {evaluations} generations of {self.size} {what}, from the "
                f"stability sweeps' regions (seed {self.seed})")

    # -- a generation -----------------------------------------------------------------------
    def first(self) -> Batch:
        """Generation 0: fresh seeds, each target with its share of the population."""
        return self.batch(self.fresh(self.size), self.fresh_targets(self.size))

    def next(self, measured: dict[str, Measured]) -> Batch:
        """The next generation: per target, the neighbours of this generation's worst inputs
        (each keeping its parent's target), and fresh seeds."""
        candidates, targets = np.empty_like(self.candidates), self.targets.copy()
        for label in np.unique(self.labels):
            slots = np.flatnonzero(self.labels == label)
            fresh = int(len(slots) * FRESH)
            parents = self.rng.choice(self._elites(measured, slots), len(slots) - fresh)
            candidates[slots] = np.concatenate([self.mutate(self.candidates[parents]),
                                                self.fresh(fresh)])
            targets[slots] = np.concatenate([self.targets[parents],
                                             self.fresh_targets(fresh)])
        return self.batch(candidates, targets)

    def _elites(self, measured: dict[str, Measured], slots: np.ndarray) -> np.ndarray:
        """The ``ELITES`` worst inputs of ``slots`` in each check."""
        chosen = set()
        for errors in measured.values():
            ranked = slots[np.argsort(-errors.ulps[slots], kind="stable")]
            chosen.update(int(i) for i in ranked[:ELITES])
        return np.array(sorted(chosen))

    # -- seeds and moves ----------------------------------------------------------------------
    def fresh(self, count: int) -> np.ndarray:
        if self.rows:
            scales = np.array([1.0, 10.0, 1e2, 1e3, 1e4, self.spec.max / (4 * CLASSES)])
            rows = self.rng.standard_normal((count, CLASSES))
            rows *= self.rng.choice(scales, size=(count, 1))
            shift = self.rng.choice([0.0, 0.0, 1e2, 1e4, -1e4], size=(count, 1))
            dominant = self.rng.random(count) < 0.25
            rows[dominant, 0] += np.abs(rows[dominant]).max(axis=1) * 4 + 30.0
            return self._in_range(rows + shift)
        if self.input_kind == "probabilities":
            exponent = self.rng.uniform(np.log10(self.spec.smallest_subnormal), 0, count)
            p = 10.0 ** exponent
            near_one = self.rng.random(count) < 0.5
            return np.where(near_one, 1.0 - p, p).reshape(count, 1)
        # half of them where a logit's exp leaves the dtype's precision or range (1 to 1000,
        # the stability sweep's magnitudes), half anywhere from 1e-8 to the sweep's largest
        wide = self.rng.random(count) < 0.5
        exponent = np.where(wide, self.rng.uniform(-8, np.log10(self.spec.max / 4), count),
                            self.rng.uniform(0, 3, count))
        sign = self.rng.choice([-1.0, 1.0], size=count)
        return (sign * 10.0 ** exponent).reshape(count, 1)

    def mutate(self, parents: np.ndarray) -> np.ndarray:
        """Each parent moved a few ulps, by a power of two, or (a row) shifted or scaled."""
        children = parents.copy()
        n = len(children)
        move = self.rng.integers(0, 3, n)
        ulps = self.rng.integers(-64, 65, size=children.shape) * self.spec.eps
        near = move == 0
        children[near] *= 1.0 + ulps[near]
        power = move == 1
        factor = 2.0 ** self.rng.integers(-3, 4, size=(n, 1)).astype(float)
        if self.rows or self.input_kind != "probabilities":
            children[power] *= factor[power]
        else:  # towards 0 or towards 1 by a power of two
            towards_one = children[power] > 0.5
            children[power] = np.where(towards_one, 1 - (1 - children[power]) * factor[power],
                                       children[power] * factor[power])
        if self.rows:
            shift = move == 2
            children[shift] += self.rng.choice([-1e3, -10.0, 10.0, 1e3], size=(shift.sum(), 1))
        return self._in_range(children)

    def _in_range(self, values: np.ndarray) -> np.ndarray:
        if self.input_kind == "probabilities" and not self.rows:
            return np.clip(values, 0.0, 1.0)
        limit = self.spec.max / 4
        return np.clip(values, -limit, limit)

    def fresh_targets(self, count: int) -> np.ndarray:
        """Targets of fresh inputs: an element-wise loss's come from its slot's label (set in
        ``batch``); a row gets a class index, or a distribution with some classes near 0 and
        some one-hot."""
        if not self.rows:
            return np.zeros(count)
        if self.kind == "indices":
            return self.rng.integers(0, CLASSES, count).astype(np.float64)
        weights = self.rng.random((count, CLASSES)) ** 4
        one_hot = self.rng.random(count) < 0.3
        weights[one_hot] = np.eye(CLASSES)[self.rng.integers(0, CLASSES, one_hot.sum())]
        return weights / weights.sum(axis=1, keepdims=True)

    # -- the batch a generation is ------------------------------------------------------------
    def batch(self, candidates: np.ndarray, targets: np.ndarray) -> Batch:
        """The call of one generation: ``candidates`` (elements, or rows of logits) rounded to
        the dtype, with their targets."""
        self.candidates, self.targets = candidates, targets
        rounded = self.spec.round(candidates)
        if not self.rows:
            labels = np.array([float(t) for t in self.labels])
            shape = ((self.size, 1) if self.binding.fixed_options.get("average_last_axis")
                     or 1 not in self.binding.ranks else (self.size,))
            inputs = {"input": rounded.reshape(shape),
                      "target": self.spec.round(labels).reshape(shape)}
        else:
            if self.input_kind == "probabilities":  # the row's softmax, as the dtype holds it
                shifted = np.exp(rounded - rounded.max(axis=1, keepdims=True))
                rounded = self.spec.round(shifted / shifted.sum(axis=1, keepdims=True))
            target = (targets.astype(np.int64) if self.kind == "indices"
                      else self.spec.round(targets))
            inputs = {"input": rounded, "target": target}
        case = Case(self.binding.loss, inputs, {"reduction": "none"}, self.dtype)
        return Batch(accuracy.with_required_options(self.binding, case), self.labels,
                     rows=self.rows)


def search(suite, name: str, binding: Binding, dtype: str, kind: str, seed: int) -> None:
    """The searched accuracy rows of ``binding`` in ``dtype`` for targets of ``kind``."""
    searching = Search(binding, dtype, kind, seed)
    extra = {"seed": searching.seed}
    batch = searching.first()
    best: dict[tuple[str, str], Best] = {}
    evaluations, stopped = 0, ""
    for _ in range(searching.generations):
        observation, measured = accuracy.observe(suite, name, binding, batch)
        if isinstance(measured, tuple):
            if evaluations == 0 or measured[0] == "harness-error":
                accuracy.record(suite, accuracy.unmeasured_rows(
                    binding, batch, measured, method="searched",
                    domain=searching.domain(evaluations), evaluations=evaluations, **extra))
                return
            # the library stopped answering: what was found so far stands, and says so
            stopped = f"; generation {evaluations + 1}: {measured[0]}, {measured[1][:200]}"
            break
        evaluations += 1
        for check, errors in measured.items():
            for label in np.unique(batch.labels):
                found = accuracy.row(binding, batch, check, label, method="searched",
                                     domain="", measured=errors, fed=observation.fed)
                best.setdefault((label, check), Best()).add(found, batch, observation.fed)
        batch = searching.next(measured)
    _, guarded = suite.adapter(name)
    rows = []
    for (_, check), found in best.items():
        r = {**found.result(), "domain": searching.domain(evaluations) + stopped,
             "evaluations": evaluations, **extra}
        r["reproducer"] = accuracy.reproducer(guarded, binding, found.batch, found.fed, check,
                                              r["worst"])
        rows.append(r)
    accuracy.record(suite, rows)

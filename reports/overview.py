"""The overview a maintainer comes back to: losses by library, side by side, dense.

Rows are (loss, check). The oracle's losses are grouped by what the prediction is: binary
cross-entropy on probabilities, on logits; cross-entropy on logits (softmax); cross-entropy on
probabilities or log-probabilities (categorical cross-entropy and NLL: the same -sum(y log p),
p given normalised). Each group has a row per category the results know (values, gradients,
..., and any category added later). Columns are libraries as a user picks one (``LIBRARIES``);
each splits into its *units*, the (backend, env, mode) the results record apart: Keras on each
backend, torch eager and compiled, SciPy beside NumPy.

A cell aggregates its APIs, envs and dtypes: cases judged (from the summary rows), findings
(the records that differ from the oracle) explained by the registry or not, cases the harness
failed on (no verdict), the worst outcome, and the cases only this library gets wrong while the
others agree (``model.lone``). Findings and harness errors are counted from the records, so a
cell's numbers are those of the findings list filtered to it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from reports.load import Results
from reports.model import Model, categories, is_finding, is_harness_error, worst

#: a finding's backend -> the library column it belongs to, in the order the columns appear; a
#: backend not named here (a user's own adapter) gets a column of its own, after these
LIBRARIES = {
    "numpy": "NumPy", "scipy": "NumPy", "scikit-learn": "NumPy",
    "torch": "PyTorch",
    # tf.keras: the Keras 2 that TensorFlow 2 ships (the tf_keras package), called as tf.keras
    "tensorflow": "TensorFlow", "tf_keras": "TensorFlow",
    "keras": "Keras 3",
    "optax": "JAX",
    "mlx": "MLX",
    "paddle": "Paddle",
    "onnxruntime": "ONNX", "onnx-reference": "ONNX",
    "tinygrad": "tinygrad",
}
#: how a unit's compiled mode is named in its column header
MODE_LABELS = {"torch.compile": "compile", "jax.jit": "jit", "tf.function(jit_compile=True)": "XLA"}
#: short names of backends and envs in the split view's headers (the tooltip has them in full)
SHORT_NAMES = {"tensorflow": "tf", "tf_keras": "tf.keras", "scikit-learn": "sklearn",
               "onnxruntime": "ort", "onnx-reference": "reference"}


#: each oracle loss -> its overview row, in the rows' order: its family (binary or categorical)
#: and what its input is (``LossSpec`` in reference/specs.py; the report reads results only,
#: and a test holds the two together)
LOSS_ROWS = {
    "binary_cross_entropy": "binary cross-entropy on probabilities",
    "binary_cross_entropy_with_logits": "binary cross-entropy on logits",
    "cross_entropy": "cross-entropy on logits",
    "nll_loss": "cross-entropy on (log-)probabilities",
    "categorical_cross_entropy": "cross-entropy on (log-)probabilities",
}
#: how a compiled twin's API name starts -> its mode (adapters/compiled.py names the twins so;
#: a test holds the two together)
COMPILED_NAMES = {"torch.compile(": "torch.compile", "jax.jit(": "jax.jit",
                  "tf.function(": "tf.function(jit_compile=True)"}


def library_of(backend: str) -> str:
    return LIBRARIES.get(backend, backend)


def row_of(loss: str) -> str:
    """The overview row of a loss; one the oracle does not know (or not recorded) is a row of
    its own."""
    return LOSS_ROWS.get(loss, loss)


def mode_of(api: str) -> str:
    """The mode of the API named ``api``: a compiled twin's, else "eager"."""
    return next((mode for start, mode in COMPILED_NAMES.items()
                 if api.startswith(start) and api.endswith(")")), "eager")


@dataclass(frozen=True, order=True)
class Unit:
    """One column of the split view: what the results record apart within a library."""

    backend: str
    env: str
    mode: str  # "eager", or the compiler (``mode_of``)

    @property
    def key(self) -> str:
        """How the page's findings list names the unit (env, backend and mode filters)."""
        return f"{self.backend}|{self.env}|{self.mode}"


@dataclass
class Tally:
    """What a cell (or one API and dtype of it) got."""

    judged: int = 0
    findings: int = 0
    unexplained: int = 0
    harness_errors: int = 0
    unsupported: int = 0
    over_budget: int = 0  # drawn cases not run (the ci profile's compile budget)
    lone: int = 0
    outcomes: Counter = field(default_factory=Counter)
    apis: set = field(default_factory=set)
    present: bool = False  # an API of the row exists here (an empty cell has none)

    def add(self, other: Tally) -> None:
        for name in ("judged", "findings", "unexplained", "harness_errors", "unsupported",
                     "over_budget", "lone"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes.update(other.outcomes)
        self.apis |= other.apis
        self.present = self.present or other.present

    @property
    def explained(self) -> int:
        return self.findings - self.unexplained

    @property
    def listed(self) -> int:
        """Records the findings list shows for the cell: findings and harness errors."""
        return self.findings + self.harness_errors

    @property
    def worst_outcome(self) -> str:
        return worst(self.outcomes)

    @property
    def state(self) -> str:
        """"tested" (something judged), "harness-error" (nothing judged, the harness failed),
        "unsupported" (nothing judged, the API cannot express the cases), "not-offered" (the
        library has the loss but no case of this check), "absent" (the library has no API of
        the row's losses)."""
        if self.judged or self.findings:
            return "tested"
        if self.harness_errors:
            return "harness-error"
        if self.unsupported:
            return "unsupported"
        return "not-offered" if self.present else "absent"


@dataclass
class Column:
    library: str
    units: list[Unit]

    def label(self, unit: Unit) -> str:
        """The unit's name in the split view: what tells it apart from the column's others."""
        backends = {u.backend for u in self.units}
        envs = {u.env for u in self.units if u.backend == unit.backend}
        parts = []
        if len(backends) > 1:
            parts.append(SHORT_NAMES.get(unit.backend, unit.backend))
        if len(envs) > 1:
            env = unit.env.removeprefix(unit.backend + "-")
            parts.append(SHORT_NAMES.get(env, env))
        if unit.mode != "eager":
            parts.append(MODE_LABELS.get(unit.mode, unit.mode))
        elif any(u.mode != "eager" for u in self.units) and not parts:
            parts.append("eager")
        return " ".join(parts) or unit.backend


@dataclass
class Overview:
    rows: list[tuple[str, list[str]]]  # row -> its oracle losses
    categories: tuple[str, ...]
    columns: list[Column]
    units: dict[tuple[str, str, Unit], Tally]  # (row, category, unit) -> tally
    present: set[tuple[str, Unit]]  # (row, unit): the unit has an API of the row's losses
    breakdown: dict[tuple[str, str, Unit], dict[tuple[str, str], Tally]]  # ... -> (api, dtype)

    def cell(self, row: str, category: str, column: Column) -> Tally:
        total = Tally()
        for unit in column.units:
            total.add(self.unit_cell(row, category, unit))
        return total

    def unit_cell(self, row: str, category: str, unit: Unit) -> Tally:
        return self.units.get((row, category, unit)) or Tally(
            present=(row, unit) in self.present)

    def empty_share(self) -> float:
        """The share of library cells with nothing in them (no API of the row's losses)."""
        cells = [self.cell(row, c, col).state for row, _ in self.rows
                 for c in self.categories for col in self.columns]
        return sum(s == "absent" for s in cells) / len(cells) if cells else 0.0

    def page_facts(self) -> dict:
        """What the page's script needs to place each finding in a cell and to show a cell's
        API x dtype breakdown: the rows and columns by their names, and per unit cell, the
        breakdown rows [api, dtype, judged, findings, unexplained, harness errors, worst]."""
        breakdown = {}
        for (row, category, unit), by_api in self.breakdown.items():
            breakdown.setdefault(row, {}).setdefault(category, {})[unit.key] = [
                [api, dtype, t.judged, t.findings, t.unexplained, t.harness_errors,
                 t.worst_outcome if t.findings else ("match" if t.judged else "")]
                for (api, dtype), t in sorted(by_api.items(), key=_api_dtype_order)]
        return {
            "rows": {loss: row for row, losses in self.rows for loss in losses},
            "libraries": {u.backend: col.library for col in self.columns for u in col.units},
            "units": {u.key: [col.library, col.label(u)] for col in self.columns
                      for u in col.units},
            # the compiled APIs' modes (every other API is eager): a finding's unit
            "modes": {api: mode for api in sorted({api for by_api in self.breakdown.values()
                                                   for api, _ in by_api})
                      if (mode := mode_of(api)) != "eager"},
            "breakdown": breakdown,
        }


_DTYPE_ORDER = ("float16", "bfloat16", "float32", "float64")


def _api_dtype_order(item) -> tuple:
    (api, dtype), _ = item
    return (api, _DTYPE_ORDER.index(dtype) if dtype in _DTYPE_ORDER else len(_DTYPE_ORDER),
            dtype)


def build_overview(results: Results, model: Model) -> Overview:
    cats = categories()
    detail: dict[tuple[str, str, Unit], dict[tuple[str, str], Tally]] = defaultdict(
        lambda: defaultdict(Tally))
    present: set[tuple[str, Unit]] = set()

    def place(env: str, api: str, category: str, dtype: str) -> Tally:
        backend, loss = model.facts[api]
        unit = Unit(backend, env, mode_of(api))
        present.add((row_of(loss), unit))
        tally = detail[(row_of(loss), category, unit)][(api, dtype)]
        tally.apis.add(api)
        return tally

    for env, run in results.runs.items():
        for summary_row in run.summary:
            tally = place(env, summary_row["api"], summary_row["category"], summary_row["dtype"])
            tally.judged += summary_row["matches"] + summary_row["findings"]
            tally.unsupported += summary_row.get("unsupported", 0)
            tally.over_budget += summary_row.get("over_budget", 0)
        for f in run.findings:
            tally = place(env, f.api, f.category, f.dtype)
            if is_harness_error(f):
                tally.harness_errors += 1
            elif is_finding(f):
                tally.findings += 1
                tally.outcomes[f.outcome] += 1
                if f.deviation is None and f.outcome != "unsupported":
                    tally.unexplained += 1
    for (env, backend), cases in model.lone:
        for case in cases:
            for f in case.findings[:1]:  # a case counts once, in the unit of its first API
                unit = Unit(backend, env, mode_of(f.api))
                detail[(row_of(case.loss), case.category, unit)][(f.api, f.dtype)].lone += 1

    units: dict[tuple[str, str, Unit], Tally] = {}
    for key, by_api in detail.items():
        total = units[key] = Tally(present=True)
        for tally in by_api.values():
            total.add(tally)
        # a summary row's count of judged cases may be below its records' (a file keeps more
        # records than it counts): the findings it has are judged
        total.judged = max(total.judged, total.findings - total.outcomes["unsupported"])

    order = list(dict.fromkeys(LIBRARIES.values()))
    by_library: dict[str, set[Unit]] = defaultdict(set)
    for _row, unit in present:
        by_library[library_of(unit.backend)].add(unit)
    columns = [Column(library, sorted(by_library[library], key=_unit_order))
               for library in sorted(by_library, key=lambda lib: (
                   order.index(lib) if lib in order else len(order), lib))]
    loss_order = list(LOSS_ROWS)
    rows: dict[str, list[str]] = defaultdict(list)
    for loss in sorted({loss for _backend, loss in model.facts.values()},
                       key=lambda x: (loss_order.index(x) if x in loss_order
                                      else len(loss_order), x)):
        rows[row_of(loss)].append(loss)
    return Overview(list(rows.items()), cats, columns, units, present,
                    {k: dict(v) for k, v in detail.items()})


def _unit_order(unit: Unit) -> tuple:
    return (unit.backend, unit.env, unit.mode != "eager", unit.mode)


__all__ = ["LIBRARIES", "Overview", "Tally", "Unit", "build_overview", "library_of", "row_of"]

"""How accurate each library is, element by element: the results' ``accuracy`` records (one per
binding x dtype x check x target x method, ``conformance/accuracy.py`` measures them) as a
table per loss, and the summary rows' componentwise derivative errors beside their normwise
verdicts.

A loss's table has a column per binding (API, env and mode), grouped by backend, and a row per
(method, dtype, check, target). A cell is the worst error in ulps of the exact result:
*exhaustive* (every input of a half-precision dtype) is the true maximum; *searched* (a
deterministic search) and *sampled* (a fixed sample of the inputs, the ci profile's) lower
bounds, written "≥". Marks say that some elements came back 0
where the exact result is not (``zero_count``), with the wrong sign (``sign_count``), or not
finite where the exact result is (``nonfinite_count``). A record that is not ``measured`` says
why (raises, crash, ...) with its ``reason``. The detail of each cell (the worst input, the
exact and the returned result, the reproducer, the zero example) travels with the page's
script, which shows it on a click.

Results files without ``accuracy`` (written before the suite measured it) have no records: the
section says so, and the rest of the report is as before.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field

from reports.load import Results, number
from reports.model import Model
from reports.overview import LIBRARIES, LOSS_ROWS, MODE_LABELS, SHORT_NAMES, library_of

DTYPE_ORDER = ("float16", "bfloat16", "float32", "float64")
METHODS = ("exhaustive", "sampled", "searched")
CHECKS = ("value", "gradient")
#: the targets of the suite, in the order the rows list them; any other sorts after, by value
TARGETS = ("0", "0.1", "0.5", "0.9", "1", "indices", "probabilities")
#: what a cell that is not measured shows (its reason is in its title and detail)
NOT_MEASURED = {"raises": "raises", "crash": "crash", "timeout": "timeout",
                "unsupported": "n/a", "harness-error": "\u26a0"}
#: the categories whose summary rows are derivatives (their componentwise error is recorded)
DERIVATIVE_CATEGORIES = ("gradients", "derivatives")


def _order(value: str, known: tuple[str, ...]) -> tuple:
    if value in known:
        return (known.index(value), 0.0, value)
    try:
        return (len(known), float(value), value)
    except ValueError:
        return (len(known) + 1, 0.0, value)


@dataclass(frozen=True)
class Binding:
    """A column: one API, as one env ran it, in one mode."""

    backend: str
    env: str
    mode: str
    api: str

    def order(self) -> tuple:
        libraries = list(dict.fromkeys(LIBRARIES.values()))
        library = library_of(self.backend)
        return (libraries.index(library) if library in libraries else len(libraries), library,
                self.backend, self.env, self.api, self.mode != "eager", self.mode)

    @property
    def title(self) -> str:
        mode = "" if self.mode == "eager" else f", {self.mode}"
        return f"{self.api} ({self.backend} in env {self.env}{mode})"


@dataclass(frozen=True, order=True)
class RowKey:
    method: str
    dtype: str
    check: str
    target: str

    def order(self) -> tuple:
        return (_order(self.method, METHODS), _order(self.dtype, DTYPE_ORDER),
                _order(self.check, CHECKS), _order(self.target, TARGETS))


@dataclass
class Measure:
    """One accuracy record and its place in the page's list of them (``index``)."""

    env: str
    record: dict
    index: int

    @property
    def outcome(self) -> str:
        return self.record["outcome"]

    @property
    def measured(self) -> bool:
        return self.outcome == "measured"

    @property
    def exhaustive(self) -> bool:
        return self.record["method"] == "exhaustive"

    @property
    def worst(self) -> float:
        """The worst error in ulps (inf: not finite where the exact result is; nan: none)."""
        return number(self.record.get("worst_ulp"))

    @property
    def level(self) -> str:
        """How bad the worst error is, for the cell's colour: a0 (within 1 ulp) to a4 (not
        finite); "" when not measured."""
        if not self.measured:
            return ""
        u = self.worst
        if math.isnan(u):  # "nan": no ulp is defined, as bad as not finite
            return "a4" if self.record.get("worst_ulp") is not None else ""
        if math.isinf(u):
            return "a4"
        return "a0" if u <= 1 else "a1" if u <= 4 else "a2" if u <= 64 else "a3"

    @property
    def marks(self) -> list[tuple[str, str, int]]:
        """(class, symbol, count) for the zero, sign and non-finite counts that are not 0."""
        r = self.record
        found = [("z", "0", r.get("zero_count") or 0), ("s", "\u00b1", r.get("sign_count") or 0),
                 ("n", "\u221e", r.get("nonfinite_count") or 0)]
        return [m for m in found if m[2]]

    @property
    def text(self) -> str:
        """What the cell shows: the worst ulp (≥ for a lower bound), or why there is none."""
        if not self.measured:
            return NOT_MEASURED.get(self.outcome, self.outcome)
        value = self.record.get("worst_ulp")
        if value is None:
            return "-"
        from reports.build import fmt  # the page's one number format

        shown = fmt(value)
        return shown if self.exhaustive else f"\u2265{shown}"

    @property
    def title(self) -> str:
        """The cell's tooltip (the page's script adds the worst element to it)."""
        r = self.record
        if not self.measured:
            return f"{r['outcome']}: {r.get('reason') or 'no reason recorded'}"
        what = "the exact maximum over every input" if self.exhaustive else \
            f"a lower bound ({self.record['method']})"
        named = {"z": "returned 0 where the exact result is not",
                 "s": "with the wrong sign", "n": "not finite where the exact result is"}
        counts = [f"{n} {named[c]}" for c, _, n in self.marks]
        return (f"{self.text} ulp: {what}, {r['inputs']} inputs ({r['domain']})"
                + ("; elements " + ", ".join(counts) if counts else "") + ". Click for the "
                "worst input and its reproducer.")


@dataclass
class ComponentwiseRow:
    """A derivative summary row's binding and category, with each dtype's normwise verdict
    (worst error / bound) and componentwise error ({worst_ulp, case, zero, sign})."""

    env: str
    api: str
    category: str
    by_dtype: dict[str, dict] = field(default_factory=dict)  # dtype -> summary row


@dataclass
class LossTable:
    loss: str
    groups: list[tuple[str, list[Binding]]]  # backend -> its bindings, in column order
    rows: list[RowKey]
    cells: dict[tuple[RowKey, Binding], Measure]
    componentwise: list[ComponentwiseRow]
    dtypes: list[str]  # the componentwise table's dtypes

    @property
    def bindings(self) -> list[Binding]:
        return [b for _, bindings in self.groups for b in bindings]

    def label(self, binding: Binding) -> str:
        """A column's short name: the API's last name, its env where the backend ran in several,
        its compiler where it is compiled."""
        api = binding.api
        for start in ("torch.compile(", "jax.jit(", "tf.function("):
            if api.startswith(start) and api.endswith(")"):
                api = api[len(start):-1]
        head, paren, rest = api.partition("(")
        name = head.rsplit(".", 1)[-1] + paren + rest
        parts = [name]
        envs = {b.env for b in self.bindings if b.backend == binding.backend}
        if len(envs) > 1:
            env = binding.env.removeprefix(binding.backend + "-")
            parts.append(SHORT_NAMES.get(env, env))
        if binding.mode != "eager":
            parts.append(MODE_LABELS.get(binding.mode, binding.mode))
        return " ".join(parts)

    def first_of_group(self, index: int, field_name: str) -> bool:
        """Whether row ``index`` starts a new value of ``field_name`` and of every field before
        it (the table writes a repeated method, dtype or check once)."""
        if index == 0:
            return True
        fields = ("method", "dtype", "check", "target")
        upto = fields[:fields.index(field_name) + 1]
        a, b = self.rows[index - 1], self.rows[index]
        return any(getattr(a, f) != getattr(b, f) for f in upto)


@dataclass
class Accuracy:
    tables: list[LossTable]
    measures: list[Measure]  # every record, in the page's order (a cell's data-acc index)

    @property
    def records(self) -> int:
        return len(self.measures)

    def page_data(self) -> bytes:
        """What the page's script shows of each record on a click: the record without its
        profile (the figure has it), with its env, in ``measures`` order."""
        items = []
        for m in self.measures:
            record = {k: v for k, v in m.record.items() if k != "profile"}
            record["env"] = m.env
            items.append(record)
        return json.dumps({"records": items}, separators=(",", ":"), allow_nan=False,
                          ensure_ascii=False).encode("utf-8")


def binding_of(env: str, record: dict) -> Binding:
    return Binding(record["backend"], env, record.get("mode") or "eager", record["api"])


def records(results: Results):
    """(env, record) of every accuracy record, env by env in file order."""
    for env, run in results.runs.items():
        for record in run.document.get("accuracy") or ():
            yield env, record


def key_of(record: dict) -> tuple:
    """What identifies a record in a run (and across runs, with its env)."""
    return (record["api"], record.get("mode") or "eager", record["dtype"], record["check"],
            record["target"], record["method"])


def _loss_order(loss: str) -> tuple:
    order = list(LOSS_ROWS)
    return (order.index(loss) if loss in order else len(order), loss)


def componentwise_rows(results: Results, model: Model) -> dict[str, list[ComponentwiseRow]]:
    """loss -> the derivative summary rows with a componentwise error, by binding and category
    (each with its dtypes' rows, componentwise or not, so the normwise verdict of every dtype
    is beside)."""
    rows: dict[tuple, ComponentwiseRow] = {}
    wanted: set[tuple] = set()
    for env, run in results.runs.items():
        for row in run.summary:
            if row["category"] not in DERIVATIVE_CATEGORIES:
                continue
            key = (env, row["api"], row["category"])
            item = rows.setdefault(key, ComponentwiseRow(env, row["api"], row["category"]))
            item.by_dtype[row["dtype"]] = row
            if row.get("componentwise"):
                wanted.add(key)
    by_loss: dict[str, list[ComponentwiseRow]] = defaultdict(list)
    for key in sorted(wanted, key=lambda k: (
            Binding(model.facts.get(k[1], ("?", ""))[0], k[0], "eager", k[1]).order(), k[2])):
        item = rows[key]
        by_loss[model.facts.get(item.api, ("?", "(loss not recorded)"))[1]].append(item)
    return by_loss


def build_accuracy(results: Results, model: Model) -> Accuracy:
    by_loss: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for env, record in records(results):
        by_loss[record["loss"]].append((env, record))
    componentwise = componentwise_rows(results, model)
    tables, measures = [], []
    for loss in sorted(set(by_loss) | set(componentwise), key=_loss_order):
        cells: dict[tuple[RowKey, Binding], Measure] = {}
        for env, record in by_loss.get(loss, []):
            row = RowKey(record["method"], record["dtype"], record["check"], record["target"])
            cells[(row, binding_of(env, record))] = Measure(env, record, -1)
        bindings = sorted({b for _, b in cells}, key=Binding.order)
        groups: dict[str, list[Binding]] = {}
        for b in bindings:
            groups.setdefault(b.backend, []).append(b)
        rows = sorted({r for r, _ in cells}, key=RowKey.order)
        for row in rows:  # the page's order: row by row, left to right
            for b in bindings:
                m = cells.get((row, b))
                if m is not None:
                    m.index = len(measures)
                    measures.append(m)
        cw = componentwise.get(loss, [])
        dtypes = [d for d in DTYPE_ORDER if any(d in r.by_dtype for r in cw)]
        tables.append(LossTable(loss, list(groups.items()), rows, cells, cw, dtypes))
    return Accuracy(tables, measures)


__all__ = ["Accuracy", "Binding", "LossTable", "Measure", "RowKey", "build_accuracy", "key_of",
           "records"]

"""The report's figures, as PNG data URIs (the page loads nothing from anywhere):

- stability curves: error in ulps against the swept magnitude (largest |logit|, or the distance
  of p from 0 or 1), a row of panels per loss, a panel per dtype, a line per backend (env),
  from the findings that carry a ``magnitude`` (sweeps record every point, matches included);
- error histograms: the share of compared elements per ulp bin, from the summary rows'
  ``ulp_histogram``, values and gradients apart, one panel per dtype, one line per env;
- gradient error: the worst gradient error of each API (as a multiple of its allowed bound).
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from reports.load import Run, number

DTYPE_ORDER = ("float16", "bfloat16", "float32", "float64")
MARKERS = "osD^vP*Xh<>p"
#: where errors of 0 and non-finite errors are drawn on a log axis (they have no place on it)
ZERO_ULP, NONFINITE_FACTOR = 1e-2, 4.0
DPI = 90


def _power(value: float, _position=None) -> str:
    """A log-axis tick label as plain text (1e-2, 1, 1e4): matplotlib's default writes
    mathtext ($10^{4}$), whose parser takes most of the time the figures cost."""
    if value <= 0:
        return ""
    exponent = round(math.log10(value))
    if not math.isclose(value, 10.0**exponent, rel_tol=1e-9):
        return ""
    return {0: "1", 1: "10", 2: "100"}.get(exponent, f"1e{exponent}")


PLAIN_LOG = FuncFormatter(_power)


def log_scale(ax, *axes: str) -> None:
    for name in axes:
        getattr(ax, f"set_{name}scale")("log")
        getattr(ax, f"{name}axis").set_major_formatter(PLAIN_LOG)


def data_uri(fig) -> str:
    """The figure as a PNG data URI. Laid out by hand (no bbox_inches="tight", which draws the
    figure twice) and without minor ticks on log axes: together 5x faster."""
    for ax in fig.axes:
        ax.minorticks_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _style(index: int) -> dict:
    colors = plt.get_cmap("tab10").colors
    return {"color": colors[index % len(colors)], "marker": MARKERS[index % len(MARKERS)]}


def _dtypes(present) -> list[str]:
    return [d for d in DTYPE_ORDER if d in present]


def stability_points(runs: dict[str, Run], facts: dict) -> dict:
    """loss -> dtype -> unit -> magnitude -> the worst ulp over the unit's APIs (inf: the
    result was not finite)."""
    points: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for env, run in runs.items():
        for f in run.findings:
            if f.magnitude is None or f.category != "stability":
                continue
            m = number(f.magnitude)
            ulp = number(f.error["ulp"]) if f.error else math.inf
            if math.isnan(ulp) or f.outcome == "nonfinite":
                ulp = math.inf
            by_m = points[facts[f.api][1]][f.dtype][f"{f.backend} ({env})"]
            by_m[m] = max(by_m.get(m, -1.0), ulp)
    return points


def stability_figure(runs: dict[str, Run], facts: dict) -> str | None:
    """One row of panels per loss, one panel per dtype, one line per backend (env)."""
    # the logit sweep reaches 4e307: a log axis's margins and ticks past it overflow to inf,
    # which matplotlib clips; the warning says nothing about the data
    with np.errstate(over="ignore"):
        return _stability_figure(runs, facts)


def _stability_figure(runs: dict[str, Run], facts: dict) -> str | None:
    points = stability_points(runs, facts)
    if not points:
        return None
    losses = sorted(points)
    dtypes = _dtypes({d for loss in losses for d in points[loss]})
    units = sorted({u for loss in losses for d in points[loss] for u in points[loss][d]})
    width, height = 2.9 * len(dtypes) + 3.3, 2.3 * len(losses) + 0.9  # inches
    fig, axes = plt.subplots(len(losses), len(dtypes), figsize=(width, height), sharex=True,
                             sharey="row", squeeze=False)
    fig.subplots_adjust(left=1.0 / width, right=(width - 2.5) / width, bottom=0.6 / height,
                        top=1 - 0.75 / height, wspace=0.06, hspace=0.22)
    for r, loss in enumerate(losses):
        finite = [u for d in points[loss] for by_m in points[loss][d].values()
                  for u in by_m.values() if math.isfinite(u) and u > 0]
        top = max(finite, default=1.0) * NONFINITE_FACTOR
        for c, dtype in enumerate(dtypes):
            ax = axes[r][c]
            for i, unit in enumerate(units):
                by_m = points[loss][dtype].get(unit)
                if not by_m:
                    continue
                ms = sorted(by_m)
                ys = [top if math.isinf(by_m[m]) else max(by_m[m], ZERO_ULP) for m in ms]
                style = _style(i)
                ax.plot(ms, ys, label=unit, color=style["color"], marker=style["marker"],
                        markersize=3.5, linewidth=1.1)
                bad = [m for m in ms if math.isinf(by_m[m])]
                if bad:
                    ax.plot(bad, [top] * len(bad), linestyle="none", marker="x", markersize=7,
                            color=style["color"])
            ax.axhline(top, color="0.6", linestyle=":", linewidth=1)
            log_scale(ax, "x", "y")
            ax.grid(True, alpha=0.3)
            if r == 0:
                ax.set_title(dtype, fontsize=10)
        axes[r][0].set_ylabel(f"{loss}\nerror (ulp)", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("swept magnitude", fontsize=8)
    for ax in axes.flat:
        ax.label_outer()
    _legend(fig, axes, (width - 2.4) / width)
    fig.suptitle("error against magnitude (x at the dotted line: not finite)", fontsize=11)
    return data_uri(fig)


def _legend(fig, axes, x: float) -> None:
    handles, names = [], []
    for ax in axes.flat:
        for h, name in zip(*ax.get_legend_handles_labels(), strict=True):
            if name not in names:
                handles.append(h)
                names.append(name)
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(x, 0.5), fontsize=8,
               frameon=False)


def bin_edge(label: str) -> float:
    """The upper edge of an ulp bin label ('0', '<=0.5', '<=2^20', '>2^20', 'nonfinite'), for
    ordering; labels the format may add later sort by their number where they have one."""
    if label == "nonfinite":
        return math.inf
    match = re.fullmatch(r"(<=|>)?\s*(\d+(?:\.\d+)?)(?:\^(\d+))?", label.strip())
    if not match:
        return math.inf
    op, base, power = match.groups()
    value = float(base) ** int(power) if power else float(base)
    return value * (1 + 1e-9) if op == ">" else value


def histogram_figure(runs: dict[str, Run]) -> str | None:
    """Share of compared elements per ulp bin: rows values / gradients, columns dtypes."""
    counts: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    labels: set[str] = set()
    for env, run in runs.items():
        for row in run.summary:
            kind = "gradients" if row["category"] == "gradients" else "values"
            for label, n in row["ulp_histogram"].items():
                counts[(kind, row["dtype"])][env][label] += n
                labels.add(label)
    if not labels:
        return None
    bins = sorted(labels, key=lambda b: (bin_edge(b), b))
    kinds = [k for k in ("values", "gradients") if any(key[0] == k for key in counts)]
    dtypes = _dtypes({key[1] for key in counts})
    envs = list(runs)
    width, height = 3.4 * len(dtypes) + 2.0, 2.5 * len(kinds) + 1.1
    fig, axes = plt.subplots(len(kinds), len(dtypes), figsize=(width, height), sharex=True,
                             sharey=True, squeeze=False)
    fig.subplots_adjust(left=0.75 / width, right=(width - 1.6) / width, bottom=0.8 / height,
                        top=1 - 0.7 / height, wspace=0.08, hspace=0.3)
    x = range(len(bins))
    for r, kind in enumerate(kinds):
        for c, dtype in enumerate(dtypes):
            ax = axes[r][c]
            for i, env in enumerate(envs):
                by_bin = counts[(kind, dtype)].get(env)
                total = sum(by_bin.values()) if by_bin else 0
                if not total:
                    continue
                ys = [by_bin.get(b, 0) / total or math.nan for b in bins]
                style = _style(i)
                ax.plot(x, ys, label=env, color=style["color"], marker=style["marker"],
                        markersize=3.5, linewidth=1)
            log_scale(ax, "y")
            ax.set_title(f"{kind}, {dtype}", fontsize=10)
            ax.grid(True, alpha=0.3)
            ax.set_xticks(list(x), bins, rotation=90, fontsize=7)
        axes[r][0].set_ylabel("share of elements")
    for ax in axes.flat:
        ax.label_outer()
    _legend(fig, axes, (width - 1.5) / width)
    fig.suptitle("error histograms (ulp bins; the last bins are the findings)", fontsize=11)
    return data_uri(fig)


def gradient_figure(runs: dict[str, Run]) -> str | None:
    """Worst gradient error / allowed bound, per API (and env) and dtype."""
    worst: dict[str, dict[str, float]] = defaultdict(dict)
    for env, run in runs.items():
        for row in run.summary:
            if row["category"] != "gradients" or row["cases"] <= row.get("unsupported", 0):
                continue
            ratio = number(row["worst_bound_ratio"])
            key = f"{row['api']} ({env})"
            worst[key][row["dtype"]] = math.inf if math.isnan(ratio) else ratio
    if not worst:
        return None
    names = sorted(worst, reverse=True)
    dtypes = _dtypes({d for by_d in worst.values() for d in by_d})
    finite = [v for by_d in worst.values() for v in by_d.values() if math.isfinite(v) and v > 0]
    top = max(finite, default=1.0) * NONFINITE_FACTOR
    labels = 0.3 + 0.055 * max(len(n) for n in names)  # inches for the 7-point API names
    width, height = labels + 6.0, 1.0 + 0.19 * len(names)
    fig, ax = plt.subplots(figsize=(width, height))
    fig.subplots_adjust(left=labels / width, right=0.97, bottom=0.6 / height,
                        top=1 - 0.15 / height)
    for i, dtype in enumerate(dtypes):
        style = _style(i)
        ys = [k for k, name in enumerate(names) if dtype in worst[name]]
        xs = [worst[names[k]][dtype] for k in ys]
        xs = [top if math.isinf(v) else max(v, ZERO_ULP) for v in xs]
        ax.scatter(xs, ys, label=dtype, color=style["color"], marker=style["marker"], s=18)
    ax.axvline(1.0, color="firebrick", linewidth=1, linestyle="--")
    log_scale(ax, "x")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.set_xlabel("worst gradient error / allowed bound (right of the dashed line: a finding)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return data_uri(fig)

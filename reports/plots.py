"""The report's figures, inline SVG or PNG data URIs (the page loads nothing from anywhere):

- stability curves (SVG): error in ulps against the swept value (largest |logit|, or p = 10**-k
  towards 0 and 1), a row of panels per loss and sweep, a panel per dtype, a line per backend
  (env), from the findings that carry a ``magnitude`` (sweeps record every point, matches
  included);
- error histograms (PNG): the share of compared elements per ulp bin, from the summary rows'
  ``ulp_histogram``, values, gradients and the derivatives (jvp, hvp) apart, one panel per
  dtype, one line per env;
- gradient error (SVG): the worst gradient error of each API (as a multiple of its allowed
  bound); a row per API and env, whose names as text are a third of the bytes of a picture.
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
from matplotlib.ticker import FuncFormatter
from PIL import Image  # matplotlib's own dependency

from reports.load import Run, number
from reports.model import is_harness_error

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
    figure twice) and without minor ticks on log axes: together 5x faster. Stored with a
    palette of at most 256 colours (no dithering): a plot of ten line colours on white looks
    the same, in a third of the bytes of full colour."""
    for ax in fig.axes:
        ax.minorticks_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    image = Image.open(buffer).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=256, dither=Image.Dither.NONE).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


#: an SVG coordinate: matplotlib writes six decimals of a point; two are a hundredth of a point
_COORDINATES = re.compile(r'(?<= )(?:d|x|y|transform)="[^"]*"')
_DECIMALS = re.compile(r"(-?\d+\.\d\d)\d+")
#: the font list matplotlib writes on every text: the first of it, then the generic family
_FONT_FAMILY = re.compile(r"font-family: [^;\"]*")


def inline_svg(fig, name: str) -> str:
    """The figure as SVG for the page: text as text (searchable, testable), without minor ticks
    on log axes, ``compact_svg``. ``name`` salts the ids matplotlib derives from content, so
    that two figures in one page never share one."""
    for ax in fig.axes:
        ax.minorticks_off()
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"xent-report-{name}"}):
        fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    return compact_svg(svg[svg.index("<svg"):])


def compact_svg(svg: str) -> str:
    """``svg`` without what the page does not need: the metadata, the indentation, digits
    beyond a hundredth of a point in coordinates, and a font list repeated on every label
    (matplotlib lays the text out for DejaVu Sans; the browser falls back to its sans-serif)."""
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = _COORDINATES.sub(lambda m: _DECIMALS.sub(r"\1", m.group(0)), svg)
    svg = re.sub(r"\n\s+", "\n", svg)
    return _FONT_FAMILY.sub("font-family: 'DejaVu Sans', sans-serif", svg)


def _style(index: int) -> dict:
    colors = plt.get_cmap("tab10").colors
    return {"color": colors[index % len(colors)], "marker": MARKERS[index % len(MARKERS)]}


def _dtypes(present) -> list[str]:
    return [d for d in DTYPE_ORDER if d in present]


#: a sweep's case names: a stem, then the swept value as the suite writes it
#: ("logit-magnitude-1e+04", "probability-near-0-and-1-1e-16", "classes-32000")
SWEEP_CASE = re.compile(r"(?P<stem>.+?)-(?P<value>\d+(?:\.\d+)?(?:e[-+]?\d+)?)")
#: what the swept value of the suite's sweeps is, by stem; other stems are named as they are
SWEEP_AXES = {
    "logit-magnitude": "largest |logit|",
    "probability-near-0": "p at the target class",
    "probability-near-0-and-1": "p near 0 (and 1 - p near 1)",
}
UNNAMED_SWEEP = "swept magnitude"


def sweep_of(case: str | None, magnitude: float) -> tuple[str, str]:
    """(the sweep, the tick label of this point): the case name's stem and its swept value
    ("1e+04" reads 1e4), or, for a case without such a name, the magnitude as recorded."""
    match = SWEEP_CASE.fullmatch(case or "")
    if not match:
        return UNNAMED_SWEEP, _short(f"{magnitude:.3g}")
    return match["stem"], _short(match["value"])


def _short(value: str) -> str:
    """1e+04 -> 1e4, 8.47e+37 -> 8.47e37, 1e-16 as it is."""
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", value)


def sweep_axis(stem: str) -> str:
    what = SWEEP_AXES.get(stem, stem)
    named = f"case {stem}-<value>" if stem != UNNAMED_SWEEP else "as recorded"
    return f"{what} ({named}; the swept values, evenly spaced)"


def stability_points(runs: dict[str, Run], facts: dict) -> dict:
    """(loss, sweep) -> dtype -> unit -> magnitude -> [tick label, the worst ulp over the
    unit's APIs (inf: the result was not finite)], from the stability findings that carry a
    magnitude. A sweep of one point (``classes-32000``) has no curve and is left out."""
    points: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for env, run in runs.items():
        for f in run.findings:
            if f.magnitude is None or f.category != "stability" or is_harness_error(f):
                continue  # a case the harness failed on has no error to plot
            m = number(f.magnitude)
            ulp = number(f.error["ulp"]) if f.error else math.inf
            if math.isnan(ulp) or f.outcome == "nonfinite":
                ulp = math.inf
            sweep, label = sweep_of(f.case, m)
            by_m = points[(facts[f.api][1], sweep)][f.dtype][f"{f.backend} ({env})"]
            by_m[m] = [label, max(by_m[m][1], ulp) if m in by_m else ulp]
    for key in list(points):
        if len({m for by_unit in points[key].values() for by_m in by_unit.values()
                for m in by_m}) < 2:
            del points[key]
    return points


def stability_figure(runs: dict[str, Run], facts: dict) -> str | None:
    """An SVG (text as text, so the page can be searched and tested): a row of panels per loss
    and sweep, a panel per dtype, a line (colour and marker) per backend (env). The x axis
    shows the swept values of the panel, evenly spaced, labelled as the case names write them:
    the logit sweep runs from 1 to a quarter of the dtype's largest number (4.25e307 in
    float64), which a log axis would squeeze into its last few pixels."""
    points = stability_points(runs, facts)
    if not points:
        return None
    return inline_svg(_stability_figure(points), "stability")


def _stability_figure(points: dict):
    rows = sorted(points)
    dtypes = _dtypes({d for key in rows for d in points[key]})
    units = sorted({u for key in rows for d in points[key] for u in points[key][d]})
    width, height = 3.6 * len(dtypes) + 3.4, 2.9 * len(rows) + 1.0  # inches
    fig, axes = plt.subplots(len(rows), len(dtypes), figsize=(width, height), sharey="row",
                             squeeze=False)
    fig.subplots_adjust(left=1.1 / width, right=(width - 2.6) / width, bottom=0.75 / height,
                        top=1 - 0.6 / height, wspace=0.08, hspace=0.75)
    for r, (loss, sweep) in enumerate(rows):
        finite = [v[1] for d in points[(loss, sweep)] for by_m in points[(loss, sweep)][d].values()
                  for v in by_m.values() if math.isfinite(v[1]) and v[1] > 0]
        top = max(finite, default=1.0) * NONFINITE_FACTOR
        for c, dtype in enumerate(dtypes):
            ax = axes[r][c]
            by_unit = points[(loss, sweep)].get(dtype, {})
            ticks = {m: v[0] for by_m in by_unit.values() for m, v in by_m.items()}
            position = {m: k for k, m in enumerate(sorted(ticks))}
            for i, unit in enumerate(units):
                by_m = by_unit.get(unit)
                if not by_m:
                    continue
                ms = sorted(by_m)
                xs = [position[m] for m in ms]
                ys = [top if math.isinf(by_m[m][1]) else max(by_m[m][1], ZERO_ULP) for m in ms]
                style = _style(i)
                ax.plot(xs, ys, label=unit, color=style["color"], marker=style["marker"],
                        markersize=4, linewidth=1.1)
                bad = [position[m] for m in ms if math.isinf(by_m[m][1])]
                if bad:
                    ax.plot(bad, [top] * len(bad), linestyle="none", marker="x", markersize=7,
                            color=style["color"])
            ax.axhline(top, color="0.6", linestyle=":", linewidth=1)
            log_scale(ax, "y")
            ax.set_xticks(list(position.values()), [ticks[m] for m in position],
                          rotation=40 if len(position) > 6 else 0, fontsize=7.5)
            ax.set_xlim(-0.4, max(len(position) - 0.6, 0.6))
            ax.grid(True, alpha=0.3)
            ax.set_title(f"{loss}, {dtype}", fontsize=9)
            if not ticks:
                ax.text(0.5, 0.5, "not swept", transform=ax.transAxes, ha="center",
                        color="0.5", fontsize=8)
        axes[r][0].set_ylabel("error (ulp)", fontsize=8)
        fig.text(0.5 * (axes[r][0].get_position().x0 + axes[r][-1].get_position().x1),
                 axes[r][0].get_position().y0 - 0.5 / height, sweep_axis(sweep),
                 ha="center", va="top", fontsize=8.5)
    _legend(fig, axes, (width - 2.5) / width)
    fig.suptitle("error against the swept value (x at the dotted line: not finite)",
                 fontsize=11)
    return fig


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
    """Share of compared elements per ulp bin: rows values / gradients / derivatives (jvp and
    hvp), columns dtypes."""
    counts: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    labels: set[str] = set()
    for env, run in runs.items():
        for row in run.summary:
            # the derivatives category's jvp and hvp have a row of their own
            kind = row["category"] if row["category"] in ("gradients", "derivatives") \
                else "values"
            for label, n in row["ulp_histogram"].items():
                counts[(kind, row["dtype"])][env][label] += n
                labels.add(label)
    if not labels:
        return None
    bins = sorted(labels, key=lambda b: (bin_edge(b), b))
    kinds = [k for k in ("values", "gradients", "derivatives")
             if any(key[0] == k for key in counts)]
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
            if row["category"] != "gradients" or not row["matches"] + row["findings"]:
                continue  # nothing judged: every case unsupported, or the harness failed
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
    return inline_svg(fig, "gradients")


#: rows of the accuracy figure at most (a row per loss, check and target), and the targets it
#: prefers (the two ends of a binary target); other targets are drawn where neither is measured
ACCURACY_ROWS = 8
ACCURACY_TARGETS = ("1", "0")
#: the lines of one panel: 10 colours, then the same colours dashed, then dotted
_LINE_STYLES = ("-", "--", ":")


def accuracy_profiles(runs: dict[str, Run]) -> dict:
    """(loss, check, target) -> dtype -> "api (env)" -> the profile's bands [(lowest input,
    highest input, worst ulp)], from the measured exhaustive records that have one; the
    targets of a (loss, check) are "1" and "0" where measured, else its first target, and at
    most ``ACCURACY_ROWS`` rows are kept (in the order of the losses, checks and targets)."""
    from reports.accuracy import TARGETS, _loss_order, _order  # one order for table and plot

    found: dict = defaultdict(lambda: defaultdict(dict))
    for env, run in runs.items():
        for r in run.document.get("accuracy") or ():
            if r["method"] != "exhaustive" or r["outcome"] != "measured" or not r.get("profile"):
                continue
            label = f"{r['api']} ({env})"  # a compiled twin's API names its compiler
            found[(r["loss"], r["check"], r["target"])][r["dtype"]][label] = [
                tuple(number(v) for v in band) for band in r["profile"]]
    chosen = []
    for loss, check in sorted({(k[0], k[1]) for k in found},
                              key=lambda lc: (_loss_order(lc[0]), lc[1] != "value")):
        targets = sorted((k[2] for k in found if k[:2] == (loss, check)),
                         key=lambda t: _order(t, TARGETS))
        preferred = [t for t in ACCURACY_TARGETS if t in targets] or targets[:1]
        chosen += [(loss, check, t) for t in preferred]
    return {key: found[key] for key in chosen[:ACCURACY_ROWS]}


def accuracy_figure(runs: dict[str, Run]) -> str | None:
    """A PNG (many lines of many points): a row of panels per (loss, check, target), a panel
    per dtype, a line per binding; x the input (symlog), y the worst ulp of each band (log, 0
    at the bottom, not finite at the dotted line)."""
    profiles = accuracy_profiles(runs)
    if not profiles:
        return None
    return data_uri(_accuracy_figure(profiles))


def _accuracy_figure(profiles: dict):
    rows = list(profiles)
    dtypes = _dtypes({d for key in rows for d in profiles[key]})
    legend = 3.8  # inches right of the panels for each row's legend
    width, height = 3.7 * len(dtypes) + legend + 0.9, 2.6 * len(rows) + 0.9
    fig, axes = plt.subplots(len(rows), len(dtypes), figsize=(width, height), squeeze=False)
    fig.subplots_adjust(left=0.8 / width, right=(width - legend) / width, bottom=0.45 / height,
                        top=1 - 0.95 / height, wspace=0.12, hspace=0.6)
    colors = plt.get_cmap("tab10").colors
    for r, key in enumerate(rows):
        loss, check, target = key
        # one colour per binding in every row of the loss
        labels = sorted({label for k in rows if k[0] == loss for d in profiles[k]
                         for label in profiles[k][d]})
        finite = [u for d in profiles[key] for bands in profiles[key][d].values()
                  for _, _, u in bands if math.isfinite(u) and u > 0]
        top = max(max(finite, default=1.0) * NONFINITE_FACTOR, 10.0)
        for c, dtype in enumerate(dtypes):
            ax = axes[r][c]
            for i, label in enumerate(labels):
                bands = profiles[key].get(dtype, {}).get(label)
                if not bands:
                    continue
                xs, ys = [], []
                for lo, hi, u in bands:  # each band a step at its worst error
                    y = top if not math.isfinite(u) else max(u, ZERO_ULP)
                    xs += [lo, hi]
                    ys += [y, y]
                ax.plot(xs, ys, label=label, color=colors[i % len(colors)],
                        linestyle=_LINE_STYLES[(i // len(colors)) % len(_LINE_STYLES)],
                        linewidth=1.0, alpha=0.85)
            ax.axhline(top, color="0.6", linestyle=":", linewidth=1)
            _input_axis(ax, profiles[key].get(dtype, {}))
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(
                lambda v, _p: "0" if math.isclose(v, ZERO_ULP) else _power(v)))
            ax.set_ylim(ZERO_ULP / 1.6, top * 1.6)
            ax.tick_params(axis="x", labelsize=6.5)
            ax.tick_params(axis="y", labelsize=7)
            ax.grid(True, alpha=0.3)
            ax.set_title(f"{loss}, {check}, target {target}, {dtype}", fontsize=8.5)
            if not profiles[key].get(dtype):
                ax.text(0.5, 0.5, "not swept", transform=ax.transAxes, ha="center",
                        color="0.5", fontsize=8)
        axes[r][0].set_ylabel("worst error (ulp)", fontsize=8)
        handles, names = axes[r][-1].get_legend_handles_labels()
        for ax in axes[r][:-1]:
            for h, name in zip(*ax.get_legend_handles_labels(), strict=True):
                if name not in names:
                    handles.append(h)
                    names.append(name)
        axes[r][-1].legend(handles, names, loc="center left", bbox_to_anchor=(1.03, 0.5),
                           fontsize=6.5, frameon=False, ncol=1 + len(names) // 17,
                           handlelength=1.6, columnspacing=0.8)
    fig.suptitle("worst error against the input (exhaustive sweeps; bands of equal count)",
                 fontsize=11)
    return fig


def _input_axis(ax, by_label: dict) -> None:
    """The input axis of a panel: probabilities (every input in [0, 1]) on a logit scale, which
    opens both ends (p near 0 and 1 - p near 0); logits on a symmetric log scale, linear below
    the smallest non-zero input; a few ticks, as plain text."""
    edges = [x for bands in by_label.values() for lo, hi, _ in bands for x in (lo, hi)
             if math.isfinite(x)]
    if not edges:
        return
    lo, hi = min(edges), max(edges)
    if lo >= 0 and hi <= 1:
        inner = [x for x in edges if 0 < x < 1]
        near = max(min(min(inner, default=1e-4), 1 - max(inner, default=1 - 1e-4)), 1e-12)
        ax.set_xscale("logit", nonpositive="clip")
        ax.set_xlim(near / 2, 1 - near / 2)
        decades = max(1, round(-math.log10(near)))
        ks = sorted({max(1, round(decades * f)) for f in (1 / 3, 2 / 3, 1)})
        ticks = [10.0**-k for k in reversed(ks)] + [0.5] + [1 - 10.0**-k for k in ks]
        labels = [f"1e-{k}" for k in reversed(ks)] + ["0.5"] + [f"1-1e-{k}" for k in ks]
        ax.set_xticks(ticks, labels)
        return
    small = min((abs(x) for x in edges if x), default=1.0)
    ax.set_xscale("symlog", linthresh=small)
    ax.set_xlim(lo, hi)
    top = math.floor(math.log10(max(abs(lo), abs(hi))))
    bottom = math.ceil(math.log10(small))
    step = max(1, math.ceil((top - bottom) / 3))
    # not the decades next to the linear part, whose ticks would sit on 0's
    ks = [k for k in range(top, bottom - 1, -step) if k >= bottom + min(step, 2) or k == top]
    ticks = [-(10.0**k) for k in ks if -(10.0**k) >= lo] + [0.0] + \
        [10.0**k for k in reversed(ks) if 10.0**k <= hi]
    ax.set_xticks(ticks, [("-" if t < 0 else "") + _power(abs(t)) if t else "0" for t in ticks])

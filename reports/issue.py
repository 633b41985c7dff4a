"""A finding as an upstream issue: ready-to-file Markdown, for the library's own tracker.

    python -m reports issue FINDING_ID [--env ENV] [--results DIR]

prints it; the page's drill-down copies the same text ("copy as an upstream issue"). This
module is the format's one definition on the Python side; the page's script
(``static/report.js``, ``issueMarkdown``) builds the same text from the same data, the
finding as the page carries it (``payload``: big arrays summarised, their reproducers reading
them from the results file), and a test holds the two equal.

The text: a title line; the library and its version, the API, dtype and check, the run's
environment (Python, platform, device, every library's version); the case and its options; the
reproducer as a fenced python block; what the library returned (or raised) against the
oracle's exact value, with the error in ulps and as a multiple of the allowed bound; the
mechanism where the registry knows it (the entry's kind, reason and link), or the entries whose
claim failed on it; a last line naming the finding.

Numbers are written so that both sides write them alike: a value as Python's ``repr`` of the
float (an integral value as an integer), an error to three significant digits, rounded half
up from that shortest decimal (``sig``). Arrays of at most ``MAX_SHOWN`` elements are written
out; a bigger one is named by its shape and its worst element.
"""

from __future__ import annotations

import json
import math
import re

#: arrays written out in full up to this many elements
MAX_SHOWN = 16
#: outcomes that say nothing to file upstream: a match, and a case the harness failed on
NOT_AN_ISSUE = ("match", "harness-error")
_NONFINITE = ("nan", "inf", "-inf")


class NotAnIssue(ValueError):
    """The finding is no fault of the library's: nothing to file."""


# --- numbers and values ---------------------------------------------------------------------

def _shortest(x: float) -> tuple[str, str, int]:
    """(sign, digits, e) of the shortest decimal that reads back as ``x`` (finite, not 0):
    x = d.ddd * 10**e, the digits without leading or trailing zeros."""
    text = repr(abs(x))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    both = whole + fraction
    leading = len(both) - len(both.lstrip("0"))
    e = int(exponent or 0) + len(whole) - 1 - leading
    return ("-" if x < 0 else ""), both.strip("0"), e


def number(value) -> str:
    """A value: Python's repr of the float; an integral one as an integer (the results do
    not tell 1 from 1.0); "nan", "inf", "-inf" as they are."""
    x = float(value)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def sig(value, digits: int = 3) -> str:
    """An error for people: ``digits`` significant digits, rounded half up from the shortest
    decimal of the value; fixed notation from 1e-3 to below 1e6 (0.5, 12.3, 4560), else
    scientific (1.5e-7, 2.5e+20)."""
    x = float(value)
    if not math.isfinite(x):
        return number(x)
    if x == 0:
        return "0"
    sign, d, e = _shortest(x)
    if len(d) > digits:
        rounded = str(int(d[:digits]) + (d[digits] >= "5"))
        if len(rounded) > digits:  # 9.995 -> 10.0
            e += 1
        d = rounded
    d = d[:digits].rstrip("0") or "0"
    if -3 <= e < 6:
        if e < 0:
            return sign + "0." + "0" * (-e - 1) + d
        whole = (d + "0" * (e + 1))[:e + 1]
        return sign + whole + ("." + d[e + 1:] if len(d) > e + 1 else "")
    return sign + d[0] + ("." + d[1:] if len(d) > 1 else "") + "e" + ("-" if e < 0 else "+") \
        + str(abs(e))


def literal(value, numbers: bool = True) -> str:
    """A JSON value as Python writes it: lists in brackets, numbers by ``number`` (the strings
    "nan", "inf", "-inf" too, where ``numbers``), True/False/None, strings in double quotes."""
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, numbers) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {literal(v, numbers)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "None"
    if isinstance(value, (int, float)) or (numbers and value in _NONFINITE):
        return number(value)
    return json.dumps(value, ensure_ascii=False)


def size(value) -> int:
    """Elements of a nested list (1 for a number)."""
    return sum(size(v) for v in value) if isinstance(value, list) else 1


def shape(value) -> list[int]:
    dims = []
    while isinstance(value, list):
        dims.append(len(value))
        value = value[0] if value else None
    return dims


def element(value, index):
    """``value[i][j]...`` for the worst element's ``index``; None where it does not lead."""
    for i in index or []:
        if not isinstance(value, list) or not 0 <= i < len(value):
            return None
        value = value[i]
    return None if isinstance(value, list) else value


def is_error(value) -> bool:
    return isinstance(value, dict) and "error" in value


def is_summary(value) -> bool:
    """A big array as the page carries it (``payload.summary``)."""
    return isinstance(value, dict) and "array" in value


def fence(text: str, language: str = "") -> str:
    """``text`` in a fenced block whose fence no run of backticks inside it closes."""
    runs = [len(r) for r in re.findall(r"`+", text)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    return f"{ticks}{language}\n{text.rstrip(chr(10))}\n{ticks}"


def value_text(value, index) -> str:
    """A returned or exact value, inline: written out, or its shape and worst element."""
    if is_summary(value):
        a = value["array"]
        return (f"an array of shape ({', '.join(str(n) for n in a['shape'])}), too big to "
                f"write here (the results file {a['file']} holds it)")
    if not isinstance(value, list):
        return f"`{literal(value)}`"
    if size(value) <= MAX_SHOWN:
        return f"`{literal(value)}`"
    worst = element(value, index)
    where = ", ".join(str(i) for i in index or [])
    return (f"an array of shape ({', '.join(str(n) for n in shape(value))})"
            + (f", element [{where}] `{literal(worst)}`" if worst is not None else ""))


# --- the text -------------------------------------------------------------------------------

#: what a check other than the gradient differentiates, as a title says it
_DERIVATIVES = {"jvp": "forward-mode derivative (jvp)", "hvp": "Hessian-vector product"}


def _what(f: dict) -> str:
    """What was checked: the loss, or its gradient, jvp or hvp (with respect to the target)."""
    if f["check"] == "value":
        return "loss"
    return _DERIVATIVES.get(f["check"], "gradient") + (
        " with respect to the target" if f.get("wrt") == "target" else "")


def _paths(f: dict) -> list[dict]:
    return f.get("paths") or []


def title(f: dict) -> str:
    """One line: the API, and what is wrong, in the dtype."""
    api, dtype, what, outcome = f"`{f['api']}`", f["dtype"], _what(f), f["outcome"]
    observed = f["observed"]
    if f["category"] == "equivalence" and len(_paths(f)) == 2:
        one, other = _paths(f)
        if outcome == "status":  # one path raises where the other returns a value
            raised, returned = (one, other) if is_error(one["observed"]) else (other, one)
            return (f"`{raised['api']}` raises where `{returned['api']}` returns a value on "
                    f"the same {dtype} case")
        return f"`{one['api']}` and `{other['api']}` disagree on the same {dtype} case"
    if outcome == "accepts_invalid":
        return f"{api} accepts invalid {dtype} input without an error"
    if outcome == "crash":
        return f"{api} crashes the process on {dtype} inputs"
    if outcome == "timeout":
        return f"{api} does not return on {dtype} inputs"
    if is_error(observed):
        return f"{api} raises {observed['error']} on valid {dtype} inputs"
    if outcome == "nonfinite":
        return f"{api} returns a non-finite {dtype} {what} where the exact {what} is finite"
    if f.get("error"):
        return f"{api}: {dtype} {what} {sig(f['error']['ulp'])} ulp from the exact value"
    return f"{api}: {dtype} {what} differs from the exact value ({outcome})"


def _environment(f: dict, environment: dict) -> list[str]:
    """The library, the API, the run's environment, the case."""
    parts = [f"Python {environment['python']}" if environment.get("python") else "",
             environment.get("platform", ""), environment.get("device", "")]
    where = ", ".join(part for part in parts if part)
    libraries = ", ".join(f"{name} {version}"
                          for name, version in environment.get("libraries", {}).items())
    check = f["check"] + (f" with respect to {f['wrt']}" if f.get("wrt") else "")
    options = ", ".join(f"{k}={literal(v, numbers=False)}" for k, v in f["options"].items())
    return [
        f"- Library: {f['backend']} {f['backend_version']}",
        f"- API: `{f['api']}`, {f['dtype']}, {check}",
        f"- Environment: {where}; {libraries}" if libraries else f"- Environment: {where}",
        f"- Case: `{f.get('case') or f['id']}` ({f['category']})"
        + (f"; options: {options}" if options else ""),
    ]


def _raised(value) -> str:
    return fence(f"{value['error']}: {value['message']}")


def _error(f: dict) -> list[str]:
    e = f.get("error")
    if not e:
        return []
    bound = f" of {sig(e['bound'])} ulp" if e.get("bound") is not None else ""
    where = ""
    if e.get("index"):
        where = f", at element [{', '.join(str(i) for i in e['index'])}]"
    return [f"Error: {sig(e['ulp'])} ulp ({f['dtype']} ulps at the exact value{where}), "
            f"{sig(e['bound_ratio'])} x the allowed bound{bound}."]


def _returned(f: dict) -> list[str]:
    """What the library returned or raised, against the oracle's exact value."""
    observed, expected = f["observed"], f["expected"]
    index = (f.get("error") or {}).get("index")
    lines = []
    if f["category"] == "equivalence" and _paths(f):
        lines.append("Two paths that should compute the same loss, on the same inputs:")
        lines.append("")
        for p in _paths(f):
            returned = (f"raised `{p['observed']['error']}: {p['observed']['message']}`"
                        if is_error(p["observed"]) else "returned "
                        + value_text(p["observed"], index))
            lines.append(f"- `{p['api']}` {returned}; exact: "
                         f"{value_text(p['oracle'], index)}")
        lines.append("")
        return lines + _error(f)
    if expected == "invalid":
        lines.append("The inputs are outside the loss's domain (the oracle rejects them), so an "
                     "error is due; the library "
                     + ("returned " + value_text(observed, index) + "." if not is_error(observed)
                        else "raised:"))
    elif f["outcome"] in ("crash", "timeout"):
        lines.append("The call " + ("crashed the process:" if f["outcome"] == "crash"
                                    else "did not return:"))
    elif is_error(observed):
        lines.append(f"It raised, where the exact {_what(f)} is {value_text(expected, index)}:")
    else:
        lines.append(f"- returned: {value_text(observed, index)}")
        lines.append(f"- exact (the float64 oracle, on the inputs as given): "
                     f"{value_text(expected, index)}")
    if is_error(observed):
        lines += ["", _raised(observed)]
    error = _error(f)
    return lines + (["", *error] if error else [])


def _mechanism(f: dict, deviations: dict) -> list[str]:
    entry = deviations.get(f["deviation"]) if f.get("deviation") else None
    if entry is not None:
        lines = [f"The xent-conformance deviation registry explains it as "
                 f"**{entry['kind']}** (entry `{f['deviation']}`): {entry['reason']}"]
        if "actual" in entry:
            lines += ["", f"What the library does instead, as the entry states it: "
                          f"`{literal(entry['actual'])}`"]
        if entry.get("link"):
            lines += ["", f"See {entry['link']}"]
        return lines
    claims = f.get("failed_claims") or []
    if claims:
        return [f"Registry entry `{c['id']}` selected this case, but its claim did not hold: "
                f"{c['why']}" for c in claims]
    return ["Not known: no entry of the xent-conformance deviation registry explains it."]


def markdown(f: dict, env: str, environment: dict, deviations: dict) -> str:
    """The issue text of finding record ``f`` (as the page carries it) of env ``env``, whose
    run's environment and registry entries are given."""
    if f["outcome"] in NOT_AN_ISSUE:
        raise NotAnIssue(f"finding {f['id']} of {env} is a {f['outcome']}: "
                         + ("the library matches the oracle" if f["outcome"] == "match" else
                            "the harness failed on it, so it says nothing about the library"))
    lines = [
        f"# {title(f)}", "",
        *_environment(f, environment), "",
        "## Reproducer", "",
        fence(f["reproducer"], "python"), "",
        "## What it returns", "",
        *_returned(f), "",
        "## Mechanism", "",
        *_mechanism(f, deviations), "",
        f"Found by xent-conformance: finding `{f['id']}` of env `{env}` "
        f"(`python -m reports issue {f['id']} --env {env}`).",
    ]
    return "\n".join(lines) + "\n"

"""The deviation registry: every known, explained difference of a library, as data.

One TOML file per library, ``<library>.toml`` beside its adapter (``adapters/torch/torch.toml``;
a user's adapter's folder, or the folder it declares), version-controlled. It opens with the
version it was written against, once::

    [registry]
    library = "keras"                # the package whose behaviour the entries state
    version = "3.15.1"               # the version read (sources cited by file and line)
    also = { jax = "0.10.2" }        # optional: other packages the entries cite

A link may name these versions as ``{version}`` and ``{jax}`` (each package of ``also``):
``https://github.com/keras-team/keras/blob/v{version}/keras/src/losses/loss.py#L140``. Reasons
do not repeat them. Each entry::

    [[deviation]]
    id = "torch-bce-log-clamp"
    apis = ["torch.nn.functional.binary_cross_entropy", "torch.nn.BCELoss"]
    kind = "documented-semantics"   # or precision, bug, out-of-contract, unsupported,
                                    # inconsistent-paths (two paths of one library disagree)
    reason = "torch clamps each log at -100, so a certain-wrong prediction costs 100."
    link = "https://pytorch.org/docs/stable/generated/torch.nn.BCELoss.html"
    match = { check = "value", predicate = "probability_at_certain_wrong" }
    actual = { oracle = { log_clamp = -100.0 } }

``match`` narrows the cases (all keys optional): ``check``, ``wrt``, ``category``, ``dtype``,
``outcome``, ``loss``, ``case`` (a name glob), ``options`` (a subset the case's options must
equal), ``predicate`` (a name in ``adapters.predicates``, or in a library folder's
``predicates.py``) and ``env`` (the runs the entry holds in: Keras computes float64 in float32
on some backends, not on others); a list means any of.
``actual`` states what the library really does, and is itself asserted: the finding is
explained only if the observation satisfies it:

- ``oracle = {...}``: the oracle with these extra keywords agrees within the bound
  (``validate = false``: the library checks no values, and the oracle evaluates its formula
  on inputs outside the domain too, so one entry states what every such case gives);
- ``value = "nan"`` / ``"inf"`` / a number: every element of the result is that (a finite
  number to within 8 units of the dtype's roundoff, as for an array literal);
- ``value = [...]``: the result is this array (numbers, ``"nan"``, ``"inf"``, ``"-inf"``) to
  within 8 units of the dtype's roundoff, for results that no oracle convention gives, such as
  what a library does with a class index out of range (vectorised exp and log round
  differently on different CPUs, so an exact literal would hold on one machine only);
- ``nan_or_oracle = {...}``: some elements are NaN where the oracle (with these extra
  keywords; ``{}`` for none) is not, and every other element agrees with it within the bound:
  a formula that meets 0 * inf or inf - inf in some elements only;
- ``inf_or_oracle = {...}``: the same with +inf for NaN: some elements are infinite where the
  oracle is finite (an intermediate the library rounded to 1 before ``log(1 - p)``);
- ``raises = "TypeName"``: the library raised an exception of that (qualified) type name;
- ``within = R``: a precision entry; the error is at most R times the bound (with ``oracle``:
  the convention holds, computed within R times the bound);
- ``absolute = K``: a precision entry for log-softmax style evaluation, whose error is
  absolute: ``|observed - exact| <= K * u * (1 + max|finite input|) * terms + ulp(exact)``,
  elementwise, with u the dtype's unit roundoff, ``terms`` the number of losses a "sum" adds
  (else 1), and one ulp of each element for its final rounding (a large loss beside the small
  one that needs the claim is rounded like any result);
  with ``oracle``: the convention holds, with such an absolute error (a clipped log of
  -16 rounds to within 16 u, whatever the size of the loss).

``round_constants = true`` qualifies a claim that gives the oracle keywords (``oracle``,
``nan_or_oracle``, ``inf_or_oracle``): their numbers are Python constants the library converts
to the dtype it computes in, so they are rounded to that dtype (the case's, or ``computed_in``'s)
first. Keras's clip bounds ``[1e-7, 0.9999999]`` are then 1.0000000116860974e-07 and
0.9999998807907104 in float32, 1.0011717677116394e-07 and 1 in bfloat16: one entry for every
dtype.

``inputs = "..."`` qualifies any of these (alone, it means ``oracle = {}``): the library
computed on other arrays than it was given, which the claim is judged on instead:

- ``"broadcast"``: predictions and targets broadcast against each other (NumPy's rules), as
  element-wise code does with targets of another rank ((N, 1) against (N,) gives (N, N)); a
  gradient is then that of the broadcast loss summed back to the differentiated shape;
- ``"aligned"``: the target reshaped to the shape the loss expects of it (the input's; for class
  indices the input's without its class axis), as Keras squeezes or expands a rank;
- ``"truncated-labels"``: float class labels cast to integers toward zero (1.7 is class 1);
- ``"smoothed-on-last-axis"``: label smoothing applied over the last axis whatever the class
  axis, (1 - e) t + e / C_last.

``computed_in = "float32"`` qualifies any of these (alone, it means ``oracle = {}``): the
library computed in that dtype, whatever it was given, so the claim is judged on the inputs
rounded to it and with its rounding unit (Keras 3 computes float64 in float32 on its JAX,
PyTorch and NumPy backends). ``accurate_to = "float32"`` is the milder fact: the library
computed on the inputs as given but rounded some step to that dtype (a float32 mean of
float64 element losses), so the claim is judged on the inputs as given, with that dtype's unit.
Either restates only a case whose dtype is finer than the qualifier's: a float32 or
half-precision case is judged as it is, so one entry holds for every dtype (and, the float32
rounding being harmless there, on a backend that computes float64 in float64).

An entry whose match selects a finding but whose claim fails on it leaves it unexplained and
is named on it, with how its claim failed (``examine``); entries whose match selects no finding
in a run are reported as stale (``conformance.recorder``)."""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adapters import predicates
from conformance.tolerance import ulp
from reference.specs import dtype_spec

KINDS = ("documented-semantics", "precision", "bug", "out-of-contract", "unsupported",
         "inconsistent-paths")
_MATCH_KEYS = {"check", "wrt", "category", "dtype", "outcome", "loss", "case", "options",
               "predicate", "api", "env"}
_ACTUAL_KEYS = {"oracle", "value", "raises", "within", "absolute", "nan_or_oracle",
                "inf_or_oracle"}
#: the claims "special values in some elements, the oracle elsewhere", by their special value
_SPECIAL_OR_ORACLE = {"nan_or_oracle": np.nan, "inf_or_oracle": np.inf}
_QUALIFIER_DTYPES = ("float16", "bfloat16", "float32")
#: the claims whose value is a dict of oracle keywords (what ``round_constants`` rounds)
_KEYWORD_CLAIMS = ("oracle", *_SPECIAL_OR_ORACLE)
_HEADER_KEYS = {"library", "version", "also"}
#: a version as packages spell it: 3.15.1, 2.13.0+cpu, 0.2.8
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+-]*")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class RegistryError(ValueError):
    """A registry file that cannot be used: names the file, the entry and the problem."""


@dataclass(frozen=True)
class Header:
    """A registry file's ``[registry]`` table: the version its entries were written against."""
    file: str
    library: str
    version: str
    also: dict = field(default_factory=dict)  # other package -> version

    def placeholders(self) -> dict:
        return {**self.also, "version": self.version}


@dataclass
class Deviation:
    id: str
    apis: list[str]
    kind: str
    reason: str
    link: str
    match: dict = field(default_factory=dict)
    actual: dict = field(default_factory=dict)
    matches: int = 0

    def applies_to(self, api: str, loss: str, case_name: str, category: str, check: str,
                   wrt: str | None, dtype: str, outcome: str, options: dict, case) -> bool:
        # an exact name first: API names such as ``log_softmax[indices]`` hold glob brackets
        if not any(api == pattern or fnmatch.fnmatchcase(api, pattern)
                   for pattern in self.apis):
            return False
        facts = {"check": check, "wrt": wrt, "category": category, "dtype": dtype,
                 "outcome": outcome, "loss": loss}
        for key, value in facts.items():
            wanted = self.match.get(key)
            if wanted is not None and value not in _as_list(wanted):
                return False
        if "case" in self.match and not any(
                fnmatch.fnmatchcase(case_name, p) for p in _as_list(self.match["case"])):
            return False
        for key, value in self.match.get("options", {}).items():
            if options.get(key) != value:
                return False
        return all(predicates.holds(name, case) for name in _as_list(self.match.get("predicate")))

    def describe(self) -> dict:
        return {"kind": self.kind, "apis": self.apis, "reason": self.reason, "link": self.link,
                "actual": self.actual, "matches": self.matches}


@dataclass(frozen=True)
class Explanation:
    """What the registry says of one finding: the entry that explains it (or None), and each
    entry whose match selected it but whose claim failed on it, as {"id", "why"}."""

    entry: Deviation | None
    failed_claims: list[dict]

    def then(self, later: Explanation) -> Explanation:
        """This explanation, or where it has no entry the ``later`` one's; the failed claims
        of both, each entry once."""
        claims = {claim["id"]: claim for claim in [*self.failed_claims, *later.failed_claims]}
        return Explanation(self.entry or later.entry, list(claims.values()))


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


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class DeviationRegistry:
    def __init__(self, entries: list[Deviation], headers: list[Header] | None = None):
        self.entries = entries
        self.headers = headers or []  # one per file read, in order

    def written_for(self) -> dict[str, str]:
        """Each package the files were written against, with its version (``keras: 3.15.1``)."""
        versions = {}
        for header in self.headers:
            versions.setdefault(header.library, header.version)
            for name, version in header.also.items():
                versions.setdefault(name, version)
        return versions

    @classmethod
    def load(cls, library: str, env: str | None, directory: Path) -> DeviationRegistry:
        """``<library>.toml`` in ``directory`` (none there: an empty registry), every entry
        checked, with the entries that hold in the run ``env``: one whose match names envs
        (``match.env``) holds in those only, and in no run of unknown name (``env`` None)."""
        path = directory / f"{library}.toml"
        if not path.exists():
            return cls([])
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"{path}: not valid TOML: {exc}") from None
        header = _header(path, data)
        unknown = set(data) - {"registry", "deviation"}
        if unknown:
            raise RegistryError(f"{path.name}: unknown tables {sorted(unknown)}")
        entries, seen = [], set()
        for number, raw in enumerate(data.get("deviation", []), 1):
            entry = _entry(path, number, raw, seen, header)
            envs = _as_list(entry.match.get("env"))
            if not envs or env in envs:
                entries.append(entry)
        return cls(entries, [header])

    def explain(self, binding, case, case_name: str, category: str, check: str,
                observation, verdict) -> Deviation | None:
        """The first entry that matches this finding and whose ``actual`` claim holds."""
        return self.examine(binding, case, case_name, category, check, observation,
                            verdict).entry

    def examine(self, binding, case, case_name: str, category: str, check: str,
                observation, verdict) -> Explanation:
        """The first entry that matches this finding and whose ``actual`` claim holds, and the
        entries before it whose match selected the finding but whose claim failed on it."""
        failed = []
        for entry in self.entries:
            if not entry.applies_to(binding.api, binding.loss, case_name, category, check,
                                    observation.wrt, case.dtype, verdict.outcome,
                                    dict(case.options), case):
                continue
            failure = _claim_failure(entry.actual, binding, case, observation, verdict, check)
            if failure is None:
                entry.matches += 1
                return Explanation(entry, failed)
            failed.append({"id": entry.id, "why": f"{claim_text(entry.actual)}: {failure}"})
        return Explanation(None, failed)


def _header(path: Path, data: dict) -> Header:
    """The file's ``[registry]`` table, checked: library and version strings, ``also`` a table
    of package -> version."""
    raw = data.get("registry")
    if not isinstance(raw, dict):
        raise RegistryError(f"{path.name}: no [registry] table (library and version the "
                            "entries were written against)")
    unknown = set(raw) - _HEADER_KEYS
    missing = {"library", "version"} - set(raw)
    if unknown or missing:
        raise RegistryError(f"{path.name}: [registry] "
                            + (f"missing {', '.join(sorted(missing))}" if missing
                               else f"unknown keys {sorted(unknown)}"))
    also = raw.get("also", {})
    if not isinstance(also, dict):
        raise RegistryError(f"{path.name}: [registry] also must be a table of versions")
    for name, version in [(raw["library"], raw["version"]), *also.items()]:
        if not isinstance(name, str) or not name.strip():
            raise RegistryError(f"{path.name}: [registry] library must be a package name")
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise RegistryError(f"{path.name}: [registry] version of {name} must be a version "
                                f"string such as \"3.15.1\", not {version!r}")
    return Header(path.name, raw["library"], raw["version"], dict(also))


def _filled(where: str, link: str, header: Header) -> str:
    """The link with ``{version}`` (and each package of ``also``) replaced by its version."""
    values = header.placeholders()
    unknown = sorted(set(_PLACEHOLDER.findall(link)) - set(values))
    if unknown:
        raise RegistryError(f"{where}: link placeholder {{{unknown[0]}}} is none of "
                            + ", ".join(f"{{{name}}}" for name in sorted(values)))
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], link)


def _entry(path: Path, number: int, raw: dict, seen: set, header: Header) -> Deviation:
    where = f"{path.name} entry {number} ({raw.get('id', 'no id')})"
    missing = {"id", "apis", "kind", "reason", "link", "actual"} - set(raw)
    if missing:
        raise RegistryError(f"{where}: missing {', '.join(sorted(missing))}")
    if raw["id"] in seen:
        raise RegistryError(f"{where}: duplicate id")
    seen.add(raw["id"])
    if raw["kind"] not in KINDS:
        raise RegistryError(f"{where}: kind {raw['kind']!r} is not one of {', '.join(KINDS)}")
    _check_match(where, raw.get("match", {}))
    actual = raw["actual"]
    if not isinstance(actual, dict):
        raise RegistryError(f"{where}: actual must be a table, such as {{ oracle = {{}} }}")
    qualifiers = set(actual) & set(_QUALIFIERS)
    for name in qualifiers:
        if actual[name] not in _QUALIFIER_DTYPES:
            raise RegistryError(f"{where}: {name} must be one of {', '.join(_QUALIFIER_DTYPES)}")
    if len(qualifiers) > 1:
        raise RegistryError(f"{where}: computed_in and accurate_to exclude each other")
    claims = set(actual) & _ACTUAL_KEYS
    if qualifiers and not claims:
        claims = {"oracle"}
    if "round_constants" in actual and (actual["round_constants"] is not True
                                        or not claims & set(_KEYWORD_CLAIMS)):
        raise RegistryError(f"{where}: round_constants must be true, beside oracle, "
                            "nan_or_oracle or inf_or_oracle keywords")
    if "inputs" in actual:
        if actual["inputs"] not in _RESTATED_INPUTS:
            raise RegistryError(f"{where}: inputs must be one of {', '.join(_RESTATED_INPUTS)}")
        claims = claims or {"oracle"}
    if set(actual) - _ACTUAL_KEYS - set(_QUALIFIERS) - {"round_constants", "inputs"} or not (
            len(claims) == 1 or claims in ({"oracle", "within"}, {"oracle", "absolute"})):
        raise RegistryError(f"{where}: actual must have exactly one of {sorted(_ACTUAL_KEYS)} "
                            "(or oracle with within or absolute)")
    _check_oracle_keywords(where, actual)
    return Deviation(raw["id"], list(raw["apis"]), raw["kind"], raw["reason"],
                     _filled(where, raw["link"], header), dict(raw.get("match", {})),
                     dict(actual))


def _check_match(where: str, match) -> None:
    """Each key of ``match`` one the matcher reads, each value one the suite can produce (a
    misspelt outcome would select nothing, silently)."""
    if not isinstance(match, dict):
        raise RegistryError(f"{where}: match must be a table, such as {{ check = \"value\" }}")
    for key, value in match.items():
        if key not in _MATCH_KEYS:
            raise RegistryError(f"{where}: match has no key {key!r}{_suggest(key, _MATCH_KEYS)}"
                                f" (keys: {', '.join(sorted(_MATCH_KEYS))})")
        allowed = _match_values().get(key)
        for item in _as_list(value):
            if key != "options" and not isinstance(item, str):
                raise RegistryError(f"{where}: match.{key} must be a name or a list of names, "
                                    f"not {item!r}")
            if key == "predicate" and not predicates.exists(item):
                raise RegistryError(f"{where}: match.predicate {item!r} is no predicate"
                                    f"{_suggest(item, predicates.names())}")
            if allowed is not None and item not in allowed:
                raise RegistryError(f"{where}: match.{key} {item!r} is none of "
                                    f"{', '.join(map(str, allowed))}{_suggest(item, allowed)}")


def _match_values() -> dict[str, tuple]:
    """The values a finding can have for each match key the suite names itself."""
    from conformance.results import schema
    from reference.specs import DTYPES, LOSS_SPECS

    defs = schema()["$defs"]
    return {"check": ("value", "gradient"), "wrt": ("input", "target"),
            "category": tuple(defs["category"]["enum"]), "dtype": tuple(DTYPES),
            # a match and a harness error are never looked up
            "outcome": tuple(o for o in defs["outcome"]["enum"]
                             if o not in ("match", "harness-error")),
            "loss": tuple(LOSS_SPECS)}


def _check_oracle_keywords(where: str, actual: dict) -> None:
    """The keywords of ``oracle``, ``nan_or_oracle`` and ``inf_or_oracle`` are the oracle's."""
    known = oracle_keywords()
    for claim in _KEYWORD_CLAIMS:
        keywords = actual.get(claim, {})
        if not isinstance(keywords, dict):
            raise RegistryError(f"{where}: {claim} must be a table of oracle keywords")
        for name in keywords:
            if name not in known:
                raise RegistryError(f"{where}: {claim}.{name} is no keyword of the oracle"
                                    f"{_suggest(name, known)}")


def oracle_keywords() -> tuple[str, ...]:
    """Every parameter of the oracle's losses (``target``, ``reduction``, ``log_clamp``...): a
    claim may replace an array the library was given, too."""
    import inspect

    from reference.specs import LOSS_SPECS

    return tuple(sorted({name for spec in LOSS_SPECS.values()
                         for name in inspect.signature(spec.oracle).parameters}))


def _suggest(word: str, choices) -> str:
    """"; did you mean 'x'?" for the closest of ``choices``, or ""."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _claim_failure(actual: dict, binding, case, observation, verdict,
                   check: str) -> str | None:
    """None when the claim ``actual`` holds of the observation; else how it fails, a phrase."""
    from conformance.judge import judge

    if actual.get("inputs") == "broadcast" and check == "gradient":
        extra = actual.get("oracle", {})
        if actual.get("round_constants"):
            extra = _constants_rounded({"oracle": extra}, case.dtype)["oracle"]
        if _broadcast_gradient_holds(binding, case, observation, extra):
            return None
        return ("the gradient is not that of the loss of the broadcast arrays summed back to "
                "the differentiated shape")
    if "inputs" in actual:  # the arrays the library really computed on
        case, observation = _RESTATED_INPUTS[actual["inputs"]](case, observation)
        actual = {k: v for k, v in actual.items() if k != "inputs"}
        if not actual.keys() & _ACTUAL_KEYS:
            actual["oracle"] = {}
    # a qualifier restates only a case finer than its dtype: float32 and half-precision cases
    # are judged as they are, so one entry serves every dtype
    coarser = {name: actual[name] for name in _QUALIFIERS
               if name in actual
               and dtype_spec(actual[name]).unit_roundoff > dtype_spec(case.dtype).unit_roundoff}
    if actual.get("round_constants"):
        actual = _constants_rounded(actual, coarser.get("computed_in", case.dtype))
    for name, restate in _QUALIFIERS.items():
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
    rtol = 8 * dtype_spec(dtype).unit_roundoff
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

    return {name: ({k: rounded(v) for k, v in claim.items()} if name in _KEYWORD_CLAIMS
                   else claim)
            for name, claim in actual.items() if name != "round_constants"}


#: the qualifiers of a claim, each restating the case and observation it is judged on
_QUALIFIERS = {"computed_in": _computed_in, "accurate_to": _accurate_to}


def _with_arrays(case, observation, **arrays):
    """``case`` and ``observation`` with these arrays in place of what was given."""
    return (case.with_inputs(**arrays),
            dataclasses.replace(observation, fed={**observation.fed, **arrays}))


def _broadcast(case, observation):
    x, t = (np.asarray(observation.fed[k]) for k in ("input", "target"))
    x, t = (np.array(a) for a in np.broadcast_arrays(x, t))
    return _with_arrays(case, observation, input=x, target=t)


def _broadcast_gradient_holds(binding, case, observation, extra: dict) -> bool:
    """The observed gradient is that of the loss of the broadcast arrays, summed back over the
    broadcast axes to the shape of what was differentiated (the chain rule of a broadcast),
    within the summed bounds of its elements."""
    from conformance.judge import expected
    from conformance.tolerance import gradient_bound

    wrt = observation.wrt
    if observation.error is not None or observation.gradient is None:
        return False
    restated, seen = _broadcast(case, observation)
    exact, kwargs = expected(binding, restated, seen.fed, "gradient", wrt, extra)
    if isinstance(exact, str):
        return False
    shape = np.shape(observation.fed[wrt])
    bound = np.broadcast_to(gradient_bound(case.loss, kwargs, wrt, case.dtype), exact.shape)
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
_RESTATED_INPUTS = {"broadcast": _broadcast, "aligned": _aligned,
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
    from conformance.judge import expected, judge

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

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

**Kinds**, one rule each, the same for every library (an entry's ``mechanism`` names what it
states, and entries naming one mechanism carry one kind, whichever library they are of):

- ``bug``: wrong on valid input, by the library's own documentation or by the mathematics it
  claims (a gradient of 0/0 at a logit of 0, label smoothing over the wrong axis);
- ``precision``: the right formula evaluated less accurately than the error model allows,
  IEEE artefacts of evaluating it in floating point included (inf - inf at an infinite logit,
  a clip far below the result's rounding);
- ``out-of-contract``: the input is outside the documented domain (a class label outside [0, C),
  a probability above 1) and the library answers rather than raises;
- ``documented-semantics``: a convention the library documents or states in its code, computed
  as stated (a log clamped at -100, an epsilon added before the log);
- ``unsupported``: the library refuses a case it cannot express;
- ``inconsistent-paths``: two paths of one library that should agree disagree.

An entry of kind ``bug`` (and any other that describes a defect) says where it stands
upstream, as looked up on the date ``checked``::

    upstream = { status = "reported", links = ["https://github.com/keras-team/keras/issues/1"],
                 checked = "2026-12-07" }

``status``: ``"none found"`` (nothing reported: the report lists these first, each with its
ready-to-file issue text), ``"reported"`` (an open report), ``"fixed"`` (a fix merged;
``fixed_in`` the version or "after 3.15.1"), ``"declined"`` (reported, closed unchanged);
``links`` the reports and pull requests (none for "none found"); ``note`` free text.

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

Here the file is read, checked and matched; ``conformance.claims`` judges an entry's claim.
An entry whose match selects a finding but whose claim fails on it leaves it unexplained and
is named on it, with how its claim failed (``examine``); entries whose match selects no finding
in a run are reported as stale (``conformance.recorder``)."""

from __future__ import annotations

import difflib
import fnmatch
import inspect
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from adapters import predicates
from conformance.claims import (
    CLAIMS,
    KEYWORD_CLAIMS,
    QUALIFIERS,
    RESTATED_INPUTS,
    claim_failure,
    claim_text,
)
from conformance.results import schema
from reference.specs import DTYPES, LOSS_SPECS

KINDS = ("documented-semantics", "precision", "bug", "out-of-contract", "unsupported",
         "inconsistent-paths")
#: where a defect stands upstream (``upstream.status``)
UPSTREAM_STATUSES = ("none found", "reported", "fixed", "declined")
_UPSTREAM_KEYS = {"status", "links", "checked", "fixed_in", "note"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MECHANISM = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MATCH_KEYS = {"check", "wrt", "category", "dtype", "outcome", "loss", "case", "options",
               "predicate", "api", "env"}
_QUALIFIER_DTYPES = ("float16", "bfloat16", "float32")
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
    mechanism: str | None = None  # what the entry states, shared by its twins in other libraries
    upstream: dict | None = None  # where the defect stands upstream (status, links, checked)
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
        described = {"kind": self.kind, "apis": self.apis, "reason": self.reason,
                     "link": self.link, "actual": self.actual, "matches": self.matches}
        if self.mechanism:
            described["mechanism"] = self.mechanism
        if self.upstream:
            described["upstream"] = self.upstream
        return described


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
            failure = claim_failure(entry.actual, binding, case, observation, verdict, check)
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
    qualifiers = set(actual) & set(QUALIFIERS)
    for name in qualifiers:
        if actual[name] not in _QUALIFIER_DTYPES:
            raise RegistryError(f"{where}: {name} must be one of {', '.join(_QUALIFIER_DTYPES)}")
    if len(qualifiers) > 1:
        raise RegistryError(f"{where}: computed_in and accurate_to exclude each other")
    claims = set(actual) & CLAIMS
    if qualifiers and not claims:
        claims = {"oracle"}
    if "round_constants" in actual and (actual["round_constants"] is not True
                                        or not claims & set(KEYWORD_CLAIMS)):
        raise RegistryError(f"{where}: round_constants must be true, beside oracle, "
                            "nan_or_oracle or inf_or_oracle keywords")
    if "inputs" in actual:
        if actual["inputs"] not in RESTATED_INPUTS:
            raise RegistryError(f"{where}: inputs must be one of {', '.join(RESTATED_INPUTS)}")
        claims = claims or {"oracle"}
    if set(actual) - CLAIMS - set(QUALIFIERS) - {"round_constants", "inputs"} or not (
            len(claims) == 1 or claims in ({"oracle", "within"}, {"oracle", "absolute"})):
        raise RegistryError(f"{where}: actual must have exactly one of {sorted(CLAIMS)} "
                            "(or oracle with within or absolute)")
    _check_oracle_keywords(where, actual)
    mechanism = raw.get("mechanism")
    if mechanism is not None and not (isinstance(mechanism, str)
                                      and _MECHANISM.fullmatch(mechanism)):
        raise RegistryError(f"{where}: mechanism must be a lower-case name with hyphens, such "
                            f"as \"inf-minus-inf-at-an-infinite-logit\", not {mechanism!r}")
    upstream = _checked_upstream(where, raw)
    return Deviation(raw["id"], list(raw["apis"]), raw["kind"], raw["reason"],
                     _filled(where, raw["link"], header), dict(raw.get("match", {})),
                     dict(actual), mechanism, upstream)


def _checked_upstream(where: str, raw: dict) -> dict | None:
    """The entry's ``upstream`` table, checked; required of a ``bug``."""
    upstream = raw.get("upstream")
    if upstream is None:
        if raw["kind"] == "bug":
            raise RegistryError(f"{where}: a bug says where it stands upstream: upstream = "
                                "{ status = \"none found\", checked = \"YYYY-MM-DD\" } (or "
                                "\"reported\", \"fixed\", \"declined\" with its links)")
        return None
    if not isinstance(upstream, dict):
        raise RegistryError(f"{where}: upstream must be a table, such as "
                            "{ status = \"none found\", checked = \"2026-12-07\" }")
    unknown = set(upstream) - _UPSTREAM_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise RegistryError(f"{where}: upstream has no key {key!r}"
                            f"{_suggest(key, _UPSTREAM_KEYS)} (keys: "
                            f"{', '.join(sorted(_UPSTREAM_KEYS))})")
    status = upstream.get("status")
    if status not in UPSTREAM_STATUSES:
        raise RegistryError(f"{where}: upstream.status {status!r} is none of "
                            f"{', '.join(UPSTREAM_STATUSES)}{_suggest(status, UPSTREAM_STATUSES)}")
    if not (isinstance(upstream.get("checked"), str) and _DATE.fullmatch(upstream["checked"])):
        raise RegistryError(f"{where}: upstream.checked must be the date it was looked up, "
                            f"YYYY-MM-DD, not {upstream.get('checked')!r}")
    links = upstream.get("links", [])
    if not isinstance(links, list) or not all(
            isinstance(link, str) and link.startswith("https://") and " " not in link
            for link in links):
        raise RegistryError(f"{where}: upstream.links must be a list of https:// addresses")
    if (status == "none found") == bool(links):
        raise RegistryError(f"{where}: upstream.links " + (
            "belong to a report: status \"none found\" has none" if links
            else f"must name the report or pull request of status {status!r}"))
    if "fixed_in" in upstream and status != "fixed":
        raise RegistryError(f"{where}: upstream.fixed_in goes with status \"fixed\"")
    return dict(upstream)


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
    defs = schema()["$defs"]
    return {"check": tuple(defs["check"]["enum"]), "wrt": ("input", "target"),
            "category": tuple(defs["category"]["enum"]), "dtype": tuple(DTYPES),
            # a match and a harness error are never looked up
            "outcome": tuple(o for o in defs["outcome"]["enum"]
                             if o not in ("match", "harness-error")),
            "loss": tuple(LOSS_SPECS)}


def _check_oracle_keywords(where: str, actual: dict) -> None:
    """The keywords of ``oracle``, ``nan_or_oracle`` and ``inf_or_oracle`` are the oracle's."""
    known = oracle_keywords()
    for claim in KEYWORD_CLAIMS:
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
    return tuple(sorted({name for spec in LOSS_SPECS.values()
                         for name in inspect.signature(spec.oracle).parameters}))


def _suggest(word: str, choices) -> str:
    """"; did you mean 'x'?" for the closest of ``choices``, or ""."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""

"""The deviation registry: loading errors, matching, and every kind of ``actual`` claim.

Each claim is tried on an observation it describes and on one it does not: an entry whose claim
is false must leave the finding unexplained.
"""

import dataclasses
import functools
import math
import textwrap

import numpy as np
import pytest
from _registry_text import deviation

import reference
from adapters.binding import Binding, Case, Observation
from conformance.deviations import DeviationRegistry, RegistryError
from conformance.judge import judge

BCE_LOGITS = Binding(api="lib.bce[logits]", library="lib",
                     loss="binary_cross_entropy_with_logits", expression="lib.bce(input, target)",
                     reductions={"none": ""})
X = np.array([[np.inf, -np.inf, np.inf, 0.5]])
Y = np.array([[1.0, 0.0, 0.0, 1.0]])
CASE = Case("binary_cross_entropy_with_logits", {"input": X, "target": Y}, {"reduction": "none"})
EXACT = np.asarray(reference.binary_cross_entropy_with_logits(X, Y, reduction="none"))


def observe(value=None, error=None, case=CASE, gradient=None, wrt=None) -> Observation:
    return Observation(api=BCE_LOGITS.api, library="lib", version="1", dtype=case.dtype,
                       fed=dict(case.inputs), value=None if value is None else np.asarray(value),
                       gradient=gradient, wrt=wrt, error=error)


HEADER = """
    [registry]
    library = "lib"
    version = "1.2.3"
    also = { helper = "0.4" }
    """


def registry(tmp_path, body: str, library: str = "lib", env: str | None = None,
             header: str = HEADER):
    (tmp_path / f"{library}.toml").write_text(textwrap.dedent(header) + textwrap.dedent(body))
    return DeviationRegistry.load(library, env, directory=tmp_path)


def entry(actual: str, match: str = "{}", apis: tuple[str, ...] = ("lib.bce[logits]",)) -> str:
    return deviation(id="the-entry", apis=apis, kind="precision", reason="why", match=match,
                     actual=actual)


def explains(tmp_path, actual: str, observation: Observation, case: Case = CASE,
             match: str = "{}", apis: tuple[str, ...] = ("lib.bce[logits]",),
             binding: Binding = BCE_LOGITS, category: str = "edge_cases",
             check: str = "value") -> bool:
    """Whether the entry ``entry(actual, match, apis)`` explains the finding of ``binding`` on
    ``case`` (in ``category``) that ``observation`` makes for ``check``."""
    reg = registry(tmp_path, entry(actual, match, apis))
    verdict = judge(binding, case, observation, check)
    assert verdict.outcome != "match", "the observation must be a finding"
    found = reg.explain(binding, case, "a-case", category, check, observation, verdict)
    return found is not None


# the textbook formula's IEEE 0 * inf: NaN exactly where a term is 0 * log sigmoid(-inf)
PARTLY_NAN = np.where([[True, True, False, False]], np.nan, EXACT)
# a sigmoid rounded to 1 before log(1 - p): +inf where the exact loss is finite
PARTLY_INF = np.where([[True, False, False, False]], np.inf, EXACT)
SPECIAL_OR_ORACLE = pytest.mark.parametrize(
    ("claim", "partly"), [("nan_or_oracle", PARTLY_NAN), ("inf_or_oracle", PARTLY_INF)])


@SPECIAL_OR_ORACLE
def test_special_or_oracle_explains_the_special_value_in_some_elements_only(tmp_path, claim,
                                                                           partly):
    assert explains(tmp_path, f"{{ {claim} = {{}} }}", observe(partly))


@SPECIAL_OR_ORACLE
def test_special_or_oracle_needs_the_other_elements_right(tmp_path, claim, partly):
    wrong = partly.copy()
    wrong[0, 3] *= 1.01
    assert not explains(tmp_path, f"{{ {claim} = {{}} }}", observe(wrong))


def test_nan_or_oracle_needs_some_nan(tmp_path):
    off = EXACT.copy()
    off[0, 3] *= 1.01
    assert not explains(tmp_path, "{ nan_or_oracle = {} }", observe(off))


def test_nan_and_inf_are_not_each_other(tmp_path):
    assert not explains(tmp_path, "{ inf_or_oracle = {} }", observe(PARTLY_NAN))
    assert not explains(tmp_path, "{ nan_or_oracle = {} }", observe(PARTLY_INF))


def test_value_nan_needs_every_element_nan(tmp_path):
    assert not explains(tmp_path, '{ value = "nan" }', observe(PARTLY_NAN))
    assert explains(tmp_path, '{ value = "nan" }', observe(np.full_like(EXACT, np.nan)))


def test_array_literal_holds_to_8_roundoffs_with_nan_equal_to_nan(tmp_path):
    last = float(EXACT[0, 3])
    literal = f'{{ value = [["nan", "nan", "inf", {last!r}]] }}'
    assert explains(tmp_path, literal, observe(PARTLY_NAN))
    assert explains(tmp_path, literal, observe(PARTLY_NAN * [[1, 1, 1, 1 + 2.0**-51]]))
    assert not explains(tmp_path, literal, observe(PARTLY_NAN * [[1, 1, 1, 1 + 2.0**-49]]))
    assert not explains(tmp_path, '{ value = ["nan", "nan", "inf", 0.0] }', observe(PARTLY_NAN))


def test_raises_matches_the_qualified_or_short_type_name(tmp_path):
    failing = observe(error=("lib.errors.ShapeError", "bad shape"))
    assert explains(tmp_path, '{ raises = "ShapeError" }', failing)
    assert explains(tmp_path, '{ raises = "lib.errors.ShapeError" }', failing)
    assert not explains(tmp_path, '{ raises = "Error" }', failing)


FINITE = Case("binary_cross_entropy_with_logits",
              {"input": np.array([0.25, -3.0]), "target": np.array([1.0, 0.0])},
              {"reduction": "none"}, dtype="float32")
FINITE_EXACT = np.asarray(reference.binary_cross_entropy_with_logits(
    FINITE.inputs["input"], FINITE.inputs["target"], reduction="none"))


def off_by(factor: float) -> Observation:
    return observe(FINITE_EXACT * factor, case=FINITE)


def test_within_bounds_the_error_in_units_of_the_allowed_bound(tmp_path):
    ratio = judge(BCE_LOGITS, FINITE, off_by(1 + 1e-5), "value").error["bound_ratio"]
    assert 1 < ratio < math.inf
    assert explains(tmp_path, f"{{ within = {ratio * 1.01} }}", off_by(1 + 1e-5), FINITE)
    assert not explains(tmp_path, f"{{ within = {ratio * 0.99} }}", off_by(1 + 1e-5), FINITE)


def test_absolute_scales_with_the_largest_input(tmp_path):
    # u = 2**-24 in float32; 1 + max|x| = 4; the error is 0.01 * FINITE_EXACT[1] ~ 5e-4
    error = 0.01 * float(FINITE_EXACT.max())
    k_needed = error / (2.0**-24 * 4.0)
    assert explains(tmp_path, f"{{ absolute = {k_needed * 1.01} }}", off_by(1.01), FINITE)
    assert not explains(tmp_path, f"{{ absolute = {k_needed * 0.99} }}", off_by(1.01), FINITE)


def test_oracle_claim_restates_the_expected_value(tmp_path):
    mean = float(reference.binary_cross_entropy_with_logits(
        FINITE.inputs["input"], FINITE.inputs["target"], reduction="mean"))
    assert explains(tmp_path, '{ oracle = { reduction = "mean" } }',
                    observe(np.float64(mean), case=FINITE))
    assert not explains(tmp_path, '{ oracle = { reduction = "sum" } }',
                        observe(np.float64(mean), case=FINITE))


def test_oracle_with_absolute_bounds_the_error_of_the_convention(tmp_path):
    mean = float(reference.binary_cross_entropy_with_logits(
        FINITE.inputs["input"], FINITE.inputs["target"], reduction="mean"))
    off = observe(np.float64(mean + 40 * 2.0**-24), case=FINITE)  # 40 u off, 1 + max|x| = 4
    assert explains(tmp_path, '{ oracle = { reduction = "mean" }, absolute = 11 }', off, FINITE)
    assert not explains(tmp_path, '{ oracle = { reduction = "mean" }, absolute = 9 }', off, FINITE)
    assert not explains(tmp_path, '{ oracle = { reduction = "sum" }, absolute = 11 }', off, FINITE)


def test_computed_in_judges_on_inputs_rounded_to_that_dtype(tmp_path):
    # a float64 case computed in float32: right for the float32-rounded logits, within
    # float32's rounding, and far outside float64's bound
    x = np.array([0.1, -2.7, 3.3])
    y = np.array([1.0, 0.0, 0.5])
    case = Case("binary_cross_entropy_with_logits", {"input": x, "target": y},
                {"reduction": "none"})
    rounded = np.float32(x).astype(np.float64)
    in_float32 = np.asarray(reference.binary_cross_entropy_with_logits(
        rounded, y, reduction="none")).astype(np.float32).astype(np.float64)
    assert explains(tmp_path, '{ computed_in = "float32" }', observe(in_float32, case=case), case)
    assert explains(tmp_path, '{ computed_in = "float32", absolute = 1 }',
                    observe(in_float32, case=case), case)
    wrong = in_float32 * (1 + 2.0**-18)
    assert not explains(tmp_path, '{ computed_in = "float32" }', observe(wrong, case=case), case)


def test_accurate_to_judges_the_given_inputs_with_that_dtypes_unit(tmp_path):
    # float64 element losses clipped in float64, their mean (and its cotangent) in float32:
    # p = 0.99999999e-7 is clipped (gradient 0) in float64 but rounds to 1.0000000117e-7, inside
    # the clip, in float32, so only judging the inputs as given explains the zero
    p = np.array([[0.99999999e-7, 0.3]])
    y = np.array([[1.0, 1.0]])
    case = Case("binary_cross_entropy", {"input": p, "target": y},
                {"reduction": "none", "average_last_axis": True})
    bce = Binding(api="lib.bce[logits]", library="lib", loss="binary_cross_entropy",
                  expression="lib.bce(input, target)", reductions={"none": ""})
    exact = np.asarray(reference.grad("binary_cross_entropy", wrt="input", input=p, target=y,
                                      reduction="sum", average_last_axis=True,
                                      clip_epsilon=1e-7))
    observation = observe(case=case, gradient=exact.astype(np.float32).astype(np.float64),
                          wrt="input")
    verdict = judge(bce, case, observation, "gradient")
    assert verdict.outcome == "deviates"

    explained = functools.partial(explains, tmp_path, observation=observation, case=case,
                                  binding=bce, category="gradients", check="gradient")

    assert explained('{ oracle = { clip_epsilon = 1e-7 }, accurate_to = "float32" }')
    assert not explained('{ oracle = { clip_epsilon = 1e-7 }, computed_in = "float32" }')
    assert not explained('{ oracle = { clip_epsilon = 1e-7 } }')


def test_match_keys_narrow_the_cases(tmp_path):
    finding = observe(PARTLY_NAN)
    assert not explains(tmp_path, "{ nan_or_oracle = {} }", finding, match='{ dtype = "float16" }')
    assert explains(tmp_path, "{ nan_or_oracle = {} }", finding,
                    match='{ dtype = ["float16", "float64"], predicate = "infinite_input" }')
    assert not explains(tmp_path, "{ nan_or_oracle = {} }", finding,
                        match='{ predicate = "nan_input" }')


def test_api_names_match_exactly_or_as_globs(tmp_path):
    finding = observe(PARTLY_NAN)
    assert explains(tmp_path, "{ nan_or_oracle = {} }", finding, apis=("lib.*",))
    assert explains(tmp_path, "{ nan_or_oracle = {} }", finding, apis=("lib.bce[[]logits]",))
    assert not explains(tmp_path, "{ nan_or_oracle = {} }", finding, apis=("lib.other",))


def test_an_entry_that_selects_but_does_not_hold_is_named_with_how_it_failed(tmp_path):
    """The entries are tried in order: one whose match selects the finding but whose claim is
    false is kept with the reason, and the first whose claim holds explains it."""
    wrong = entry('{ value = "inf" }').replace("the-entry", "claims-inf")
    right = entry("{ nan_or_oracle = {} }").replace("the-entry", "claims-nan")
    reg = registry(tmp_path, wrong + right)
    observation = observe(PARTLY_NAN)
    verdict = judge(BCE_LOGITS, CASE, observation)
    examined = reg.examine(BCE_LOGITS, CASE, "a-case", "edge_cases", "value", observation,
                           verdict)
    assert examined.entry.id == "claims-nan"
    (failed,) = examined.failed_claims
    assert failed["id"] == "claims-inf"
    assert failed["why"] == 'value = "inf": the result is [[nan, nan, inf, 0.4740769841801067]]'
    alone = registry(tmp_path, wrong).examine(BCE_LOGITS, CASE, "a-case", "edge_cases",
                                              "value", observation, verdict)
    assert alone.entry is None
    assert [c["id"] for c in alone.failed_claims] == ["claims-inf"]


def test_entries_naming_envs_hold_in_those_runs_only(tmp_path):
    """``match.env``: Keras computes float64 in float32 on some backends, not on others; in a
    run of unknown name no env-bound entry holds."""
    body = (entry("{ value = 1.0 }")
            + entry("{ value = 2.0 }", match='{ env = "gpu" }').replace("the-entry", "gpu-entry")
            + entry("{ value = 3.0 }", match='{ env = ["cpu", "gpu"] }').replace(
                "the-entry", "both-entry"))
    (tmp_path / "lib.toml").write_text(textwrap.dedent(HEADER) + textwrap.dedent(body))

    def ids(env):
        return [e.id for e in DeviationRegistry.load("lib", env, tmp_path).entries]

    assert ids("gpu") == ["the-entry", "gpu-entry", "both-entry"]
    assert ids("cpu") == ["the-entry", "both-entry"]
    assert ids(None) == ["the-entry"]
    assert DeviationRegistry.load("nothing", "cpu", tmp_path).entries == []


def as_bug(upstream: str):
    """A mutation making the entry a bug with this ``upstream`` (TOML text)."""
    return lambda s: s.replace('kind = "precision"', f'kind = "bug"\nupstream = {upstream}')


@pytest.mark.parametrize(("mutate", "problem"), [
    (lambda s: s.replace('kind = "precision"', 'kind = "feature"'), "kind 'feature' is not one of"),
    (lambda s: s.replace('reason = "why"\n', ""), "missing reason"),
    (lambda s: s.replace("match = {}", 'match = { colour = "red" }'),
     "match has no key 'colour'"),
    (lambda s: s.replace("match = {}", 'match = { chekc = "value" }'),
     "match has no key 'chekc'; did you mean 'check'?"),
    (lambda s: s.replace("match = {}", 'match = { predicate = "no_such" }'),
     "match.predicate 'no_such' is no predicate"),
    # a misspelt value would select nothing, silently: each is one the suite produces
    (lambda s: s.replace("match = {}", 'match = { outcome = "non-finite" }'),
     "match.outcome 'non-finite' is none of deviates, nonfinite, raises, accepts_invalid, "
     "status, unsupported, crash, timeout; did you mean 'nonfinite'?"),
    (lambda s: s.replace("match = {}", 'match = { outcome = ["raises", "match"] }'),
     "match.outcome 'match' is none of"),
    (lambda s: s.replace("match = {}", 'match = { check = "values" }'),
     "match.check 'values' is none of value, gradient, jvp, hvp; did you mean 'value'?"),
    (lambda s: s.replace("match = {}", 'match = { category = "edge-cases" }'),
     "did you mean 'edge_cases'?"),
    (lambda s: s.replace("match = {}", 'match = { dtype = "f32" }'),
     "match.dtype 'f32' is none of float16, bfloat16, float32, float64"),
    (lambda s: s.replace("{ value = 1.0 }", "{ oracle = { log_clmp = -100.0 } }"),
     "oracle.log_clmp is no keyword of the oracle; did you mean 'log_clamp'?"),
    (lambda s: s.replace("{ value = 1.0 }", "{ nan_or_oracle = { clip_eps = 1e-7 } }"),
     "nan_or_oracle.clip_eps is no keyword of the oracle; did you mean 'clip_epsilon'?"),
    (lambda s: s.replace("{ value = 1.0 }", "{ value = 1.0, raises = 'E' }"),
     "actual must have exactly one of"),
    (lambda s: s.replace("{ value = 1.0 }", "{ computed_in = 'float8' }"),
     "computed_in must be one of"),
    (lambda s: s.replace("{ value = 1.0 }", "{ accurate_to = 'float32', computed_in = 'float32' }"),
     "exclude each other"),
    (lambda s: s.replace("{ value = 1.0 }", "{ value = 1.0, round_constants = true }"),
     "round_constants must be true, beside oracle"),
    (lambda s: s.replace("{ value = 1.0 }", "{ oracle = {}, round_constants = 1 }"),
     "round_constants must be true"),
    (lambda s: s.replace("https://example.org", "https://example.org/v{versoin}"),
     "link placeholder {versoin} is none of {helper}, {version}"),
    (lambda s: s.replace('kind = "precision"', 'kind = "bug"'),
     "a bug says where it stands upstream: upstream = "),
    (as_bug('"none"'), "upstream must be a table"),
    (as_bug('{ status = "open", checked = "2026-12-07" }'),
     "upstream.status 'open' is none of none found, reported, fixed, declined"),
    (as_bug('{ status = "none found", checked = "last week" }'),
     "upstream.checked must be the date it was looked up, YYYY-MM-DD"),
    (as_bug('{ status = "reported", checked = "2026-12-07" }'),
     "upstream.links must name the report or pull request of status 'reported'"),
    (as_bug('{ status = "none found", checked = "2026-12-07", links = ["https://example.org/1"] }'),
     "upstream.links belong to a report: status \"none found\" has none"),
    (as_bug('{ status = "reported", checked = "2026-12-07", links = ["example.org/1"] }'),
     "upstream.links must be a list of https:// addresses"),
    (as_bug('{ status = "reported", checked = "2026-12-07", links = ["https://example.org/1"], '
            'fixed_in = "2" }'),
     "upstream.fixed_in goes with status \"fixed\""),
    (as_bug('{ status = "none found", checked = "2026-12-07", reported = true }'),
     "upstream has no key 'reported'"),
    (lambda s: s.replace('kind = "precision"', 'kind = "precision"\nmechanism = "Inf - Inf"'),
     "mechanism must be a lower-case name with hyphens"),
    (lambda s: s + s, "duplicate id"),
    (lambda s: s.replace("[[deviation]]", "[[deviation]"), "not valid TOML"),
])
def test_bad_registry_files_name_the_file_entry_and_problem(tmp_path, mutate, problem):
    with pytest.raises(RegistryError, match=r"lib\.toml") as raised:
        registry(tmp_path, mutate(textwrap.dedent(entry("{ value = 1.0 }"))))
    assert problem in str(raised.value)


@pytest.mark.parametrize(("header", "problem"), [
    ("", "no [registry] table"),
    ('registry = "1.2.3"', "no [registry] table"),
    ('[registry]\nlibrary = "lib"', "[registry] missing version"),
    ('[registry]\nversion = "1.2.3"', "[registry] missing library"),
    ('[registry]\nlibrary = "lib"\nversion = 1.2', "version of lib must be a version string"),
    ('[registry]\nlibrary = "lib"\nversion = "latest"', "version of lib must be a version"),
    ('[registry]\nlibrary = ""\nversion = "1.2.3"', "library must be a package name"),
    ('[registry]\nlibrary = "lib"\nversion = "1.2.3"\nalso = "jax"', "also must be a table"),
    ('[registry]\nlibrary = "lib"\nversion = "1.2.3"\nalso = { jax = "new" }',
     "version of jax must be a version string"),
    ('[registry]\nlibrary = "lib"\nversion = "1.2.3"\nreleased = 2024', "unknown keys"),
    ('[registry]\nlibrary = "lib"\nversion = "1.2.3"\n[notes]\ntext = "x"', "unknown tables"),
])
def test_missing_or_malformed_header_names_the_file(tmp_path, header, problem):
    with pytest.raises(RegistryError, match=r"lib\.toml") as raised:
        registry(tmp_path, entry("{ value = 1.0 }"), header=header + "\n")
    assert problem in str(raised.value)


def test_an_entrys_upstream_and_mechanism_are_read_and_recorded(tmp_path):
    upstream = ('{ status = "fixed", links = ["https://example.org/pull/1"], '
                'checked = "2026-12-07", fixed_in = "1.2.4" }')
    body = deviation(id="the-entry", apis=["lib.bce[logits]"], kind="bug", reason="why",
                     actual="{ value = 1.0 }", upstream=upstream)
    body = body.replace('kind = "bug"', 'kind = "bug"\n    mechanism = "zero-over-zero"')
    (found,) = registry(tmp_path, body).entries
    assert found.mechanism == "zero-over-zero"
    assert found.upstream == {"status": "fixed", "links": ["https://example.org/pull/1"],
                              "checked": "2026-12-07", "fixed_in": "1.2.4"}
    described = found.describe()
    assert (described["mechanism"], described["upstream"]) == (found.mechanism, found.upstream)
    plain = registry(tmp_path, entry("{ value = 1.0 }")).entries[0].describe()
    assert "mechanism" not in plain
    assert "upstream" not in plain


def test_header_versions_fill_the_link_and_are_exposed(tmp_path):
    body = entry("{ value = 1.0 }").replace(
        "https://example.org", "https://example.org/v{version}/a/{helper}/b#L1-L2")
    reg = registry(tmp_path, body)
    assert reg.entries[0].link == "https://example.org/v1.2.3/a/0.4/b#L1-L2"
    assert reg.written_for() == {"lib": "1.2.3", "helper": "0.4"}
    assert [(h.file, h.library, h.version) for h in reg.headers] == [("lib.toml", "lib", "1.2.3")]


def test_round_constants_rounds_the_oracle_keywords_to_the_dtype(tmp_path):
    # a clip at [1e-7, 1 - 1e-7] written in Python and converted to float16: 1e-7 becomes the
    # subnormal 1.1920928955078125e-07 and 1 - 1e-7 becomes 1, so p = 2**-24 costs
    # -log(1.19e-7) = 15.94, not -log(1e-7) = 16.12 (1 %, float16's u is 0.05 %)
    p = np.array([2.0**-24, 0.5])
    y = np.array([1.0, 1.0])
    case = Case("binary_cross_entropy", {"input": p, "target": y}, {"reduction": "none"},
                dtype="float16")
    bce = Binding(api="lib.bce[logits]", library="lib", loss="binary_cross_entropy",
                  expression="lib.bce(input, target)", reductions={"none": ""})
    float16_clip = [float(np.float16(1e-7)), float(np.float16(1 - 1e-7))]
    assert float16_clip == [1.1920928955078125e-07, 1.0]
    clipped = np.asarray(reference.binary_cross_entropy(p, y, reduction="none",
                                                        clip_epsilon=float16_clip))
    observation = observe(clipped.astype(np.float16).astype(np.float64), case=case)
    verdict = judge(bce, case, observation, "value")
    assert verdict.outcome == "deviates"

    explained = functools.partial(explains, tmp_path, observation=observation, case=case,
                                  binding=bce, category="values")

    assert explained("{ oracle = { clip_epsilon = [1e-7, 0.9999999] }, round_constants = true }")
    assert not explained("{ oracle = { clip_epsilon = [1e-7, 0.9999999] } }")


@pytest.mark.parametrize("qualifier", ["computed_in", "accurate_to"])
def test_a_qualifier_leaves_a_coarser_case_as_it_is(tmp_path, qualifier):
    # float32 is finer than float16: the float16 mean, rounded to float16, is judged with
    # float16's unit (with float32's it would be far outside the bound)
    case = dataclasses.replace(FINITE, dtype="float16")
    mean = float(reference.binary_cross_entropy_with_logits(
        FINITE.inputs["input"], FINITE.inputs["target"], reduction="mean"))
    in_float16 = observe(np.float64(np.float16(mean + 2.0**-12)), case=case)
    claim = f'{{ oracle = {{ reduction = "mean" }}, {qualifier} = "float32" }}'
    assert explains(tmp_path, claim, in_float16, case)
    assert not explains(tmp_path, '{ oracle = { reduction = "mean" }, computed_in = "float32" }',
                        observe(np.float64(np.float16(mean + 2.0**-12)), case=FINITE), FINITE)


def test_validate_false_states_what_a_library_does_outside_the_domain(tmp_path):
    # a target of 1.5 is rejected by the oracle (accepts_invalid) but is what the formula
    # -y log sigmoid(x) - (1 - y) log sigmoid(-x) gives as written
    x = np.array([0.25, -3.0])
    y = np.array([1.5, -0.5])
    case = Case("binary_cross_entropy_with_logits", {"input": x, "target": y},
                {"reduction": "none"})
    as_written = np.logaddexp(0, -x) * y + np.logaddexp(0, x) * (1 - y)
    observation = observe(as_written, case=case)
    assert judge(BCE_LOGITS, case, observation, "value").outcome == "accepts_invalid"
    assert explains(tmp_path, "{ oracle = { validate = false } }", observation, case)
    assert not explains(tmp_path, "{ oracle = { validate = false } }",
                        observe(as_written * 1.01, case=case), case)
    assert not explains(tmp_path, "{ oracle = {} }", observation, case)

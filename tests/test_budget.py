"""What a compiled twin meets in the ci profile (``conformance.budget``): its drawn cases of
``COMPILED_CI_DRAWS`` shapes and option sets per test, its reductions in float64; an eager
binding meets everything, and so does every binding in the other profiles."""

import pytest

from adapters.binding import Binding
from conformance import budget

EAGER = Binding(api="lib.f", library="lib", loss="cross_entropy", expression="lib.f(input, target)")
COMPILED = Binding(api="jit(lib.f)", library="lib", loss="cross_entropy",
                   expression="jit(lib.f)(input, target)", mode="jit")


@pytest.fixture
def ci(monkeypatch):
    monkeypatch.setattr(budget, "ci_profile", lambda: True)
    monkeypatch.setattr(budget, "_DRAWN", type(budget._DRAWN)(set))


def test_a_compiled_twin_meets_its_first_draws_and_their_repeats(ci):
    shapes = [f"draw:cross_entropy:input[{n}, 3]:" for n in range(1, 4)]
    allowed = budget.COMPILED_CI_DRAWS
    verdicts = [budget.past_draw_budget(("values", "jit(lib.f)", "float32"), name, COMPILED)
                for name in shapes]
    assert verdicts == [False] * allowed + [True] * (len(shapes) - allowed)
    # a repeat of a shape met compiles nothing new: checked
    assert not budget.past_draw_budget(("values", "jit(lib.f)", "float32"), shapes[0], COMPILED)
    # another test has its own budget
    assert not budget.past_draw_budget(("gradients", "jit(lib.f)", "float32"), shapes[-1],
                                       COMPILED)


def test_named_cases_and_eager_bindings_are_never_cut(ci):
    for n in range(10):
        assert not budget.past_draw_budget(("values",), f"draw:x{n}", EAGER)
        assert not budget.past_draw_budget(("edge_cases",), f"log-of-zero-{n}", COMPILED)
    # a pair with a compiled side is cut as the compiled side is
    assert not budget.past_draw_budget(("equivalence",), "draw:a", EAGER, COMPILED)
    assert budget.past_draw_budget(("equivalence",), "draw:b", EAGER, COMPILED) \
        == (budget.COMPILED_CI_DRAWS < 2)


def test_reductions_of_a_compiled_twin_in_float64(ci):
    assert budget.reduction_dtypes(COMPILED, ("float32", "float64")) == ("float64",)
    assert budget.reduction_dtypes(EAGER, ("float32", "float64")) == ("float32", "float64")


def test_other_profiles_run_everything(monkeypatch):
    monkeypatch.setattr(budget, "ci_profile", lambda: False)
    assert not any(budget.past_draw_budget(("values",), f"draw:{n}", COMPILED) for n in range(9))
    assert budget.reduction_dtypes(COMPILED, ("float32", "float64")) == ("float32", "float64")

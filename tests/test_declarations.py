"""conformance.declarations: each mistake a user can make in a Binding is one exact line, naming
the adapter's file, the binding, the field and the likely spelling, before any case runs.

The mistaken adapters are the example adapter (``adapters/example/``, tinyloss on NumPy) with
one declaration changed; they are declared in this module, which is therefore the file the
messages name.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from adapters import ADAPTERS, AdapterSpecError, declaration_problem, load_adapter
from adapters.example import adapter as example
from adapters.keras.adapter import BACKENDS, KerasAdapter
from conformance.declarations import binding_problems, unresolved_names

ROOT = Path(__file__).resolve().parents[1]
HERE = "tests/test_declarations.py"
SOFTMAX, BINARY = example.BINDINGS
#: the softmax binding with an {options} placeholder, for the scalar options
WITH_OPTIONS = dataclasses.replace(
    SOFTMAX, expression="tinyloss.softmax_cross_entropy(input, target{options}, "
                        "reduction={reduction})")
#: each binding as the messages name it
AT = {b.api: f"{HERE}: binding {b.api!r}: " for b in example.BINDINGS}


@pytest.fixture(autouse=True)
def _in_the_checkout(monkeypatch):
    """Messages name this module relative to the checkout, where the tests run."""
    monkeypatch.chdir(ROOT)


def adapter_with(*bindings):
    """The example adapter with other bindings, declared here."""

    class Misdeclared(example.TinylossAdapter):
        pass

    Misdeclared.bindings = bindings
    return Misdeclared()


def changed(binding, **changes):
    return adapter_with(dataclasses.replace(binding, **changes))


# --- what is declared today is sound -------------------------------------------------------------


@pytest.mark.parametrize("name", ADAPTERS)
def test_every_built_in_adapter_declares_soundly(name):
    assert binding_problems(load_adapter(name)) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_keras_flavour_declares_soundly(backend):
    assert binding_problems(KerasAdapter(backend)) == []


def test_the_example_adapter_declares_soundly_and_its_names_resolve():
    adapter = example.TinylossAdapter()
    assert binding_problems(adapter) == []
    assert unresolved_names(adapter) == []


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_names_of_every_importable_built_in_resolve(name):
    adapter = load_adapter(name)
    reason = adapter.unavailable()
    if reason:
        pytest.skip(f"{name}: {reason}")
    assert unresolved_names(adapter) == []


# --- one mistake, one line ------------------------------------------------------------------------


@pytest.mark.parametrize(("adapter", "problem"), [
    pytest.param(
        changed(SOFTMAX, reductions={"avg": "'mean'", "sum": "'sum'"}),
        "reductions: 'avg' is not a reduction of the oracle (none, sum, mean, "
        "sum_over_batch_size, weighted_mean)", id="reduction"),
    pytest.param(
        changed(SOFTMAX, reductions={"men": "'mean'"}),
        "reductions: 'men' is not a reduction of the oracle (none, sum, mean, "
        "sum_over_batch_size, weighted_mean); did you mean 'mean'?", id="reduction misspelt"),
    pytest.param(
        changed(SOFTMAX, reductions={}),
        "reductions: none declared, so no case runs", id="no reduction"),
    pytest.param(
        changed(SOFTMAX, expression="tinyloss.softmax_cross_entropy(input, target, "
                                    "reduction='mean')",
                reductions={"mean": "'mean'"}),
        "reductions: 'mean' is spelled \"'mean'\"; without {reduction} in the expression it is "
        "the function the call is wrapped in, a dotted name (np.mean), or \"\" for none",
        id="reduction wrapper"),
    pytest.param(
        changed(SOFTMAX, dtypes=("float32", "f64")),
        "dtypes: 'f64' is not a dtype (float16, bfloat16, float32, float64); did you mean "
        "'float64'?", id="dtype"),
    pytest.param(
        changed(SOFTMAX, dtypes="float32"),
        "dtypes: 'float32' is a string, not a tuple: write ('float32',)", id="dtype string"),
    pytest.param(
        changed(SOFTMAX, targets=("index",)),
        "targets: 'index' is not a target kind (indices, probabilities); did you mean "
        "'indices'?", id="target kind"),
    pytest.param(
        changed(BINARY, targets=("indices",)),
        "targets: 'indices' is not a target kind of the oracle's "
        "binary_cross_entropy_with_logits (probabilities)", id="target kind of the loss"),
    pytest.param(
        changed(SOFTMAX, ranks=(2, -1)),
        "ranks: -1 is not an input rank (a non-negative integer)", id="rank"),
    pytest.param(
        changed(SOFTMAX, gradients=("inputs",)),
        "gradients: 'inputs' is not an argument the suite differentiates (input, target); "
        "did you mean 'input'?", id="gradient"),
    pytest.param(
        changed(BINARY, options={"pos_wieght": "pos_weight=pos_weight"}),
        "options: 'pos_wieght' is not a keyword of the oracle's "
        "binary_cross_entropy_with_logits (did you mean 'pos_weight'?)", id="option name"),
    pytest.param(
        changed(WITH_OPTIONS, options={"clip_epsilon": "eps={}"}),
        "options: 'clip_epsilon' is not a keyword of the oracle's cross_entropy",
        id="option of another loss"),
    pytest.param(
        changed(BINARY, options={"empty_mean": "empty={}"}),
        "options: 'empty_mean' is an oracle keyword the suite does not vary: state its value "
        "in fixed_options", id="option the suite does not vary"),
    pytest.param(
        changed(WITH_OPTIONS, options={"reduction": "reduction={}"}),
        "options: 'reduction' is not an option: each case sets it: declare the library's "
        "spellings in reductions", id="reduction as an option"),
    pytest.param(
        changed(SOFTMAX, options={"label_smoothing": "label_smoothing={}"}),
        "options: 'label_smoothing' is declared, but the expression has no {options}, so no "
        "case would pass it", id="option without placeholder"),
    pytest.param(
        changed(WITH_OPTIONS, options={"label_smoothing": "label_smoothing=0.1"}),
        "options: 'label_smoothing' is spelled 'label_smoothing=0.1', which needs exactly one "
        "{} for the case's value", id="scalar option without its value"),
    pytest.param(
        changed(BINARY, options={"pos_weight": "pos_weight={}"}),
        "options: 'pos_weight' is an array option, written as given: name its operand "
        "(pos_weight=pos_weight), not 'pos_weight={}'", id="array option formatted"),
    pytest.param(
        changed(SOFTMAX, operand_options={"label_smoothing": ("targets", "smooth(target, {})")}),
        "operand_options: 'targets' is not an operand (input, target, weight, pos_weight, "
        "sample_weight); did you mean 'target'?", id="operand option"),
    pytest.param(
        changed(SOFTMAX, operand_options={"ignore_index": ("target", "target")}),
        "operand_options: 'ignore_index' is spelled 'target', which needs exactly one {} for "
        "the case's value", id="operand option without its value"),
    pytest.param(
        changed(BINARY, fixed_options={"avarage_last_axis": True}),
        "fixed_options: 'avarage_last_axis' is not a keyword of the oracle's "
        "binary_cross_entropy_with_logits (did you mean 'average_last_axis'?)",
        id="fixed option name"),
    pytest.param(
        changed(BINARY, fixed_options={"pos_weight": 2.0}),
        "fixed_options: 'pos_weight' is also an option: a fixed keyword does not vary",
        id="fixed option also varied"),
    pytest.param(
        changed(BINARY, call_options=("pos_wieght",)),
        "call_options: 'pos_wieght' is not one of the binding's options (pos_weight); did you "
        "mean 'pos_weight'?", id="call option"),
    pytest.param(
        changed(BINARY, call_options=("pos_weight",)),
        "call_options: 'pos_weight' is declared, but the expression has no {call_options}, so "
        "no case would pass it", id="call option without placeholder"),
    pytest.param(
        changed(BINARY, required=("weight",)),
        "required: 'weight' is not one of the binding's options (pos_weight); did you mean "
        "'pos_weight'?",
        id="required"),
    pytest.param(
        changed(SOFTMAX, expression="tinyloss.softmax_cross_entropy(input, target, "
                                    "reduction={reductions})"),
        "expression: {reductions} is not a placeholder ({options}, {call_options}, "
        "{reduction}, {dtype}); did you mean {reduction}?", id="placeholder"),
    pytest.param(
        changed(SOFTMAX, expression="tinyloss.softmax_cross_entropy(input, target, "
                                    "reduction={reduction}, extra={'a': 1})"),
        "expression: {'a'} is not a placeholder ({options}, {call_options}, {reduction}, "
        "{dtype}); write a literal brace as {{ or }}", id="literal brace"),
    pytest.param(
        changed(SOFTMAX, expression="tinyloss.softmax_cross_entropy(input, target,, "
                                    "reduction={reduction})"),
        "expression: invalid syntax at line 1, column 46 of the call rendered for "
        "reduction='none': tinyloss.softmax_cross_entropy(input, target,, reduction='none')",
        id="syntax error"),
    pytest.param(
        changed(BINARY, expression="tinyloss.binary_cross_entropy_with_logits(input, target, "
                                   "{options}, reduction={reduction})"),
        "expression: invalid syntax at line 1, column 58 of the call rendered for "
        "reduction='none', every option: tinyloss.binary_cross_entropy_with_logits(input, "
        "target, , pos_weight=pos_weight, reduction='none')",
        id="syntax error with every option"),
    pytest.param(
        changed(SOFTMAX, mode=""),
        "mode: '' is not a mode: \"eager\", or the compiler the expression calls the API "
        "through (\"torch.compile\")", id="mode"),
    pytest.param(
        changed(SOFTMAX, surface=("tinyloss.softmax_cross_entropy(",)),
        "surface: 'tinyloss.softmax_cross_entropy(' is not a dotted path, optionally ending in "
        "\"()\" (torch.nn.CrossEntropyLoss())", id="surface"),
    pytest.param(
        changed(SOFTMAX, gradients=("input",), no_derivatives={"jvps": "no forward mode"}),
        "no_derivatives: 'jvps' is not a derivative check (jvp, hvp); did you mean 'jvp'?",
        id="no_derivatives check"),
    pytest.param(
        changed(SOFTMAX, gradients=("input",), no_derivatives={"hvp": " "}),
        "no_derivatives: 'hvp' gives no reason (say why the API cannot take it)",
        id="no_derivatives reason"),
    pytest.param(
        changed(SOFTMAX, no_derivatives={"hvp": "no double backward"}),
        "no_derivatives: the API declares no gradients, so it takes no derivative at all: "
        "leave no_derivatives out", id="no_derivatives without gradients"),
    pytest.param(
        changed(BINARY, options=("pos_weight",)),
        "options: ('pos_weight',) is not a mapping (oracle name -> how the library says it)",
        id="options not a mapping"),
])
def test_a_misdeclared_binding_is_one_line(adapter, problem):
    (binding,) = adapter.bindings
    assert binding_problems(adapter) == [AT[binding.api] + problem]


def test_the_structural_problems_come_with_the_file_and_a_suggestion():
    adapter = adapter_with(dataclasses.replace(SOFTMAX, library="other"),
                           dataclasses.replace(BINARY, loss="binary_cross_entropy_with_logit"),
                           dataclasses.replace(SOFTMAX, library="other"))
    assert binding_problems(adapter) == [
        f"{HERE}: binding 'tinyloss.softmax_cross_entropy' says library='other', the "
        "adapter's library is 'tinyloss'",
        f"{HERE}: binding 'tinyloss.binary_cross_entropy_with_logits' computes "
        "'binary_cross_entropy_with_logit', which is none of the oracle's losses "
        "(binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, nll_loss, "
        "categorical_cross_entropy); did you mean 'binary_cross_entropy_with_logits'?",
        f"{HERE}: binding 'tinyloss.softmax_cross_entropy' says library='other', the "
        "adapter's library is 'tinyloss'",
        f"{HERE}: two bindings are named 'tinyloss.softmax_cross_entropy'",
    ]


def test_load_adapter_still_refuses_the_first_structural_problem(monkeypatch):
    adapter = adapter_with(dataclasses.replace(SOFTMAX, library="other"),
                           dataclasses.replace(BINARY, loss="focal"))
    assert declaration_problem(adapter) == ("binding 'tinyloss.softmax_cross_entropy' says "
                                            "library='other', the adapter's library is "
                                            "'tinyloss'")
    monkeypatch.setattr(example.TinylossAdapter, "library", "")
    with pytest.raises(AdapterSpecError, match="TinylossAdapter names no library"):
        load_adapter("adapters.example.adapter:TinylossAdapter")


def test_an_adapter_without_bindings_says_only_that():
    assert binding_problems(adapter_with()) == [f"{HERE}: Misdeclared declares no bindings"]


def test_every_mistake_of_a_binding_is_reported_in_field_order():
    adapter = changed(SOFTMAX, reductions={"avg": "'mean'"}, dtypes=("f64",),
                      gradients=("inputs",))
    assert [p.removeprefix(AT[SOFTMAX.api]).partition(":")[0]
            for p in binding_problems(adapter)] == ["reductions", "dtypes", "gradients"]


def test_a_syntax_error_met_by_every_reduction_is_said_once():
    adapter = changed(SOFTMAX, expression="tinyloss.softmax_cross_entropy(input, target "
                                          "reduction={reduction})")
    assert len(binding_problems(adapter)) == 1


# --- the file the messages name -------------------------------------------------------------------


def _avg_in_the_example():
    """The example adapter itself, its first binding offering the reduction "avg"."""
    adapter = example.TinylossAdapter()
    adapter.bindings = (dataclasses.replace(SOFTMAX, reductions={"avg": "'mean'"}),)
    return adapter


def test_the_file_is_relative_to_the_current_folder_when_under_it(monkeypatch):
    monkeypatch.chdir(Path(example.__file__).resolve().parents[2])
    assert binding_problems(_avg_in_the_example()) == [
        "adapters/example/adapter.py: binding 'tinyloss.softmax_cross_entropy': reductions: "
        "'avg' is not a reduction of the oracle (none, sum, mean, sum_over_batch_size, "
        "weighted_mean)"]


def test_the_file_is_absolute_elsewhere(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (problem,) = binding_problems(_avg_in_the_example())
    assert problem.startswith(f"{Path(example.__file__).resolve()}: binding ")


# --- names, after the library imports -------------------------------------------------------------


@pytest.mark.parametrize(("adapter", "problem"), [
    pytest.param(
        changed(SOFTMAX, expression="tinyloss.softmax_cros_entropy(input, target, "
                                    "reduction={reduction})"),
        "the expression names tinyloss.softmax_cros_entropy, which does not exist (did you "
        "mean tinyloss.softmax_cross_entropy?)", id="attribute"),
    pytest.param(
        changed(SOFTMAX, expression="np.linalg.nrm(tinyloss.softmax_cross_entropy(input, "
                                    "target, reduction={reduction}))"),
        "the expression names np.linalg.nrm, which does not exist (did you mean "
        "np.linalg.norm?)", id="deeper attribute"),
    pytest.param(
        changed(SOFTMAX, expression="tinylos.softmax_cross_entropy(input, target, "
                                    "reduction={reduction})"),
        "the expression names tinylos, which is not an operand, a builtin or one of the "
        "adapter's names (np, tinyloss); did you mean tinyloss?", id="module"),
    pytest.param(
        changed(SOFTMAX, expression="tinyloss.softmax_cross_entropy(inputs, target, "
                                    "reduction={reduction})"),
        "the expression names inputs, which is not an operand, a builtin or one of the "
        "adapter's names (np, tinyloss); did you mean input?", id="operand"),
    pytest.param(
        changed(SOFTMAX, expression="tinyloss.softmax_cross_entropy(input, target, "
                                    "reduction='none')",
                reductions={"none": "", "mean": "np.maen"}),
        "the expression names np.maen, which does not exist (did you mean np.mean?)",
        id="reduction wrapper"),
])
def test_a_name_the_library_does_not_have_is_one_line(adapter, problem):
    (binding,) = adapter.bindings
    assert binding_problems(adapter) == []
    assert unresolved_names(adapter) == [AT[binding.api] + problem]


def test_names_the_expression_binds_itself_and_attributes_of_results_are_not_looked_up():
    # a lambda's parameter, a comprehension's target, a builtin, an operand's attribute, and
    # attributes after a call or a subscript (only the static part is the library's)
    adapter = changed(SOFTMAX, expression=(
        "(lambda logits: tinyloss.softmax_cross_entropy(logits, target, "
        "reduction={reduction}))(input) + sum(0 * k for k in range(input.shape[0]))"
        " + np.zeros(1).anything + np.zeros((1,))[0].whatever"))
    assert binding_problems(adapter) == []
    assert unresolved_names(adapter) == []


def test_an_adapter_whose_library_does_not_import_has_no_unresolved_names():
    adapter = changed(SOFTMAX, expression="nowhere.loss(input, target, reduction={reduction})")
    type(adapter).modules = {"nowhere": "no_such_module_xent"}
    assert adapter.unavailable().startswith("unavailable: ModuleNotFoundError")
    assert unresolved_names(adapter) == []

"""A finding as an upstream issue (``reports/issue.py``): the Markdown text in full for one
finding, the numbers as both sides write them, and ``python -m reports issue``. That the page's
script writes the same text is tested in the browser (test_report_browser.py)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from reports import __main__ as cli
from reports import synthetic as synthetic_results
from reports.issue import NotAnIssue, markdown, number, sig, title
from reports.payload import page_record

#: values as an issue writes them: Python's repr, an integral value as an integer
NUMBERS = [
    (1.0, "1"), (-2.0, "-2"), (0.1, "0.1"), (123.456, "123.456"), (0.0001, "0.0001"),
    (1e-05, "1e-05"), (1.5e-07, "1.5e-07"), (1e16, "1e+16"), (1.5e16, "1.5e+16"),
    (1e22, "1e+22"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (0.30000001192092896, "0.30000001192092896"), (-4.4942328371557893e307,
                                                   "-4.4942328371557893e+307"),
    (100.5, "100.5"), (1234567.125, "1234567.125"), ("nan", "nan"), ("-inf", "-inf"),
]
#: errors as an issue writes them: three significant digits, half up from the shortest
#: decimal (1.125 is a tie: 1.13; Python's own "%.3g" rounds it to even, 1.12)
ERRORS = [
    (0, "0"), (0.5, "0.5"), (1.5451681995707531, "1.55"), (12.345, "12.3"), (1.125, "1.13"),
    (9.995, "10"), (999.5, "1000"), (37900.0, "37900"), (123456.0, "123000"),
    (1234567.0, "1.23e+6"),
    (0.001, "0.001"), (0.0001234, "1.23e-4"), (1e-07, "1e-7"), (2.5e20, "2.5e+20"),
    (-3.14159, "-3.14"), (4.49e307, "4.49e+307"), ("inf", "inf"), ("nan", "nan"),
]

ENVIRONMENT = {"started": "2026-12-07T09:00:00+00:00", "finished": None,
               "libraries": {"torch": "2.13.0", "numpy": "2.4.6"}, "python": "3.11.7",
               "platform": "Linux-6.1.0-x86_64-with-glibc2.36", "device": "cpu", "seed": 1,
               "hypothesis_profile": "ci"}
ENTRY = {"kind": "precision", "apis": ["torch.nn.functional.cross_entropy"],
         "reason": "float16 mean reductions accumulate in float16 on CPU.",
         "link": "https://github.com/pytorch/pytorch/issues/1", "actual": {"accumulate": "float16"},
         "matches": 3}
#: a float16 mean that torch computes 1.55 float16 ulps (2**-10 at 1.47) from the exact value:
#: (1.4755859375 - 1.4740769841801067) / 2**-10 = 1.5452, 1.5452 times a bound of 1 ulp
FINDING = {
    "id": "0123456789abcdef", "case": "reduction-mean", "backend": "torch",
    "backend_version": "2.13.0", "api": "torch.nn.functional.cross_entropy",
    "loss": "cross_entropy", "category": "reductions", "check": "value", "wrt": None,
    "dtype": "float16", "options": {"reduction": "mean", "label_smoothing": 0.1,
                                    "ignore_index": -100, "sample_weight": None},
    "inputs": {"input": [[0.5, -1.25], [2.0, 0.0]], "target": [1, 0]},
    "expected": 1.4740769841801067, "observed": 1.4755859375, "outcome": "deviates",
    "error": {"abs": 0.0015089533198933136, "rel": 0.0010236, "ulp": 1.5451681995707531,
              "bound": 1.0, "bound_ratio": 1.5451681995707531, "index": []},
    "deviation": "torch-half-mean", "reproducer": "import torch\nprint(1)\n",
}
EXPECTED = """\
# `torch.nn.functional.cross_entropy`: float16 loss 1.55 ulp from the exact value

- Library: torch 2.13.0
- API: `torch.nn.functional.cross_entropy`, float16, value
- Environment: Python 3.11.7, Linux-6.1.0-x86_64-with-glibc2.36, cpu; torch 2.13.0, numpy 2.4.6
- Case: `reduction-mean` (reductions); options: reduction="mean", label_smoothing=0.1, \
ignore_index=-100, sample_weight=None

## Reproducer

```python
import torch
print(1)
```

## What it returns

- returned: `1.4755859375`
- exact (the float64 oracle, on the inputs as given): `1.4740769841801067`

Error: 1.55 ulp (float16 ulps at the exact value), 1.55 x the allowed bound of 1 ulp.

## Mechanism

The xent-conformance deviation registry explains it as **precision** (entry `torch-half-mean`): \
float16 mean reductions accumulate in float16 on CPU.

What the library does instead, as the entry states it: `{"accumulate": "float16"}`

See https://github.com/pytorch/pytorch/issues/1

Found by xent-conformance: finding `0123456789abcdef` of env `torch` \
(`python -m reports issue 0123456789abcdef --env torch`).
"""


def test_an_issue_in_full():
    assert markdown(FINDING, "torch", ENVIRONMENT, {"torch-half-mean": ENTRY}) == EXPECTED


@pytest.mark.parametrize(("value", "text"), NUMBERS)
def test_values_are_written_as_python_writes_them(value, text):
    assert number(value) == text


@pytest.mark.parametrize(("value", "text"), ERRORS)
def test_errors_are_written_to_three_digits(value, text):
    assert sig(value) == text


def test_what_it_returns_by_outcome():
    raised = {**FINDING, "outcome": "raises", "error": None, "deviation": None,
              "observed": {"error": "RuntimeError", "message": "expected `scalar` type"},
              "failed_claims": [{"id": "torch-half-mean", "why": "claims a value; it raised"}]}
    text = markdown(raised, "torch", ENVIRONMENT, {})
    assert text.startswith("# `torch.nn.functional.cross_entropy` raises RuntimeError on valid "
                           "float16 inputs\n")
    assert "It raised, where the exact loss is `1.4740769841801067`:\n\n```\nRuntimeError: "\
           "expected `scalar` type\n```\n" in text
    assert "Registry entry `torch-half-mean` selected this case, but its claim did not hold: " \
           "claims a value; it raised\n" in text
    invalid = {**FINDING, "outcome": "accepts_invalid", "expected": "invalid", "error": None,
               "observed": 0.25, "deviation": None}
    text = markdown(invalid, "torch", ENVIRONMENT, {})
    assert "accepts invalid float16 input without an error" in text
    assert "so an error is due; the library returned `0.25`." in text
    assert "Not known: no entry of the xent-conformance deviation registry explains it." in text
    gradient = {**FINDING, "check": "gradient", "wrt": "input", "deviation": None,
                "observed": [[0.1] * 3] * 6, "expected": [[0.2] * 3] * 6,
                "error": {**FINDING["error"], "index": [4, 1]}}
    text = markdown(gradient, "torch", ENVIRONMENT, {})
    assert "- API: `torch.nn.functional.cross_entropy`, float16, gradient with respect to " \
           "input\n" in text
    assert "- returned: an array of shape (6, 3), element [4, 1] `0.1`\n" in text
    assert "at element [4, 1]), 1.55 x the allowed bound of 1 ulp." in text


def test_a_reproducer_holding_backticks_keeps_its_fence():
    fenced = {**FINDING, "reproducer": 'print("```")\n'}
    assert "\n````python\nprint(\"```\")\n````\n" in markdown(fenced, "torch", ENVIRONMENT, {})


@pytest.mark.parametrize("outcome", ["match", "harness-error"])
def test_nothing_to_file_for_a_match_or_a_harness_error(outcome):
    with pytest.raises(NotAnIssue, match=f"finding 0123456789abcdef of torch is a {outcome}"):
        markdown({**FINDING, "outcome": outcome}, "torch", ENVIRONMENT, {})


# --- python -m reports issue --------------------------------------------------------------------

@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("results")
    synthetic_results.write(directory, ["torch", "keras-jax", "keras-torch", "jax"])
    return directory


def issue(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["issue", *argv])
    return status, out.getvalue(), err.getvalue()


def records(results_dir: Path, env: str) -> list[dict]:
    return json.loads((results_dir / f"{env}.json").read_text())["findings"]


def test_the_issue_command_prints_the_pages_text(results_dir):
    """The text of the finding as the page carries it: a big array summarised, and the
    reproducer reading it from the results file."""
    path = results_dir / "torch.json"
    document = json.loads(path.read_text())
    for record in (next(f for f in document["findings"] if f["outcome"] == "deviates"),
                   next(f for f in document["findings"] if f["case"] == "classes-32000"
                        and f["check"] == "gradient")):
        status, out, err = issue(record["id"], "--results", str(results_dir))
        assert (status, err) == (0, "")
        assert out == markdown(page_record(record, path), "torch", document["environment"],
                               document["deviations"])
    assert "numbers(recorded['input'])" in out
    assert "an array of shape (2, 32000), too big to write here (the results file torch.json " \
           "holds it)" in out


def test_the_issue_command_names_an_id_it_does_not_find(results_dir):
    status, out, err = issue("feedfacefeedface", "--results", str(results_dir))
    assert (status, out) == (1, "")
    assert f"reports: error: no finding feedfacefeedface in {results_dir} (envs read: jax, " \
           "keras-jax, keras-torch, torch); the page's findings list and the results files " \
           "give the ids" in err
    status, _, err = issue("feedfacefeedface", "--env", "mxnet", "--results", str(results_dir))
    assert status == 1
    assert "no results of env mxnet" in err


def test_the_issue_command_asks_which_env_when_several_hold_the_id(results_dir):
    """The Keras envs run the same cases of the same APIs: the same finding ids."""
    torch_ids = {f["id"] for f in records(results_dir, "keras-torch") if f["outcome"] == "deviates"}
    shared = next(f["id"] for f in records(results_dir, "keras-jax") if f["id"] in torch_ids)
    status, out, err = issue(shared, "--results", str(results_dir))
    assert (status, out) == (1, "")
    assert f"reports: error: finding {shared} is in several envs: keras-jax, keras-torch; name " \
           "one with --env ENV" in err
    status, out, _ = issue(shared, "--env", "keras-torch", "--results", str(results_dir))
    assert status == 0
    assert f"finding `{shared}` of env `keras-torch`" in out


def test_the_issue_command_files_no_harness_error(results_dir):
    failed = next(f for f in records(results_dir, "jax") if f["outcome"] == "harness-error")
    status, out, err = issue(failed["id"], "--results", str(results_dir))
    assert (status, out) == (1, "")
    assert "the harness failed on it, so it says nothing about the library; nothing to file " \
           "upstream" in err


def test_a_status_finding_names_the_path_that_raises_and_the_one_that_returns():
    finding = {"api": "lib.loss", "dtype": "float32", "check": "jvp", "wrt": "input",
               "category": "equivalence", "outcome": "status", "observed": None,
               "paths": [{"api": "lib.loss [reverse gradient]", "observed": [0.5]},
                         {"api": "lib.loss [jvp]",
                          "observed": {"error": "NotImplementedError", "message": "no"}}]}
    assert title(finding) == ("`lib.loss [jvp]` raises where `lib.loss [reverse "
                                    "gradient]` returns a value on the same float32 case")

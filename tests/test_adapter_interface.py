"""The adapter interface: the suite run on an adapter it does not ship, chosen by its path.

- ``XENT_ADAPTER`` selects exactly one adapter, names the run after its library and finds its
  registry beside it; bad paths and unusable declarations fail with what is wrong.
- The guarded worker loads a user's adapter from wherever the user's process imports it.
- A library version other than the registry's: a new unexplained difference fails the run,
  naming the finding, and an entry the new version no longer triggers is reported stale
  (tests/_fake_versioned_library.py, whose version a variable switches).
- The example adapter (adapters/example/) runs the suite in a plain virtual environment: the
  project installed by pip with whatever versions the index has, no tox, no pins.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _runs import EXAMPLE, NESTED_RUN_CLEARS, ROOT, TESTS, USER_ADAPTER, run_suite, user_module

import adapters
from adapters import ADAPTERS, AdapterSpecError, load_adapter
from adapters.binding import Case
from adapters.example import adapter as example_adapter
from adapters.guard import IsolatedAdapter
from conformance import selection
from conformance.results import validate
from reports.build import build, write

#: the adapters package this test imports (tox tests the built wheel, not the checkout)
INSTALLED = Path(adapters.__file__).resolve().parent


# --- selection -------------------------------------------------------------------------------


def test_without_xent_adapter_the_project_envs_are_unchanged():
    chosen = selection.from_environment({"XENT_REQUIRE_ADAPTERS": "torch", "TOX_ENV_NAME": "t"})
    assert dict(chosen.paths) == ADAPTERS
    assert chosen.checked == chosen.required == {"torch"}
    assert chosen.env == "t"
    assert chosen.registry_directory("torch") == INSTALLED / "torch"
    everything = selection.from_environment({"XENT_ENV": "e", "TOX_ENV_NAME": "t"})
    assert (everything.env, everything.checked, everything.required) == ("e", set(ADAPTERS),
                                                                         set())


def test_xent_adapter_runs_exactly_that_adapter_named_after_its_library():
    chosen = selection.from_environment({"XENT_ADAPTER": EXAMPLE, "TOX_ENV_NAME": "py311",
                                         "XENT_REQUIRE_ADAPTERS": "torch"})
    assert dict(chosen.paths) == {"tinyloss": EXAMPLE}
    assert chosen.checked == chosen.required == {"tinyloss"}
    assert chosen.env == "tinyloss"  # not tox's env name: the results file is tinyloss.json
    # beside the adapter's module, wherever it is installed (tox tests the built wheel)
    assert chosen.registry_directory("tinyloss") == Path(example_adapter.__file__).parent
    assert [e.id for e in chosen.registry("tinyloss").entries][:1] == [
        "tinyloss-softmax-exp-overflows"]
    renamed = selection.from_environment({"XENT_ADAPTER": EXAMPLE, "XENT_ENV": "nightly"})
    assert renamed.env == "nightly"


def test_a_declared_registry_folder_is_relative_to_the_adapter_module(tmp_path, monkeypatch):
    user_module(tmp_path, "declares_registry", USER_ADAPTER + """
    class Elsewhere(Adapter):
        registry_directory = "registries"
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    chosen = selection.from_environment({"XENT_ADAPTER": "declares_registry:Elsewhere"})
    assert chosen.registry_directory("mine") == tmp_path / "registries"
    beside = selection.from_environment({"XENT_ADAPTER": "declares_registry:Adapter"})
    assert beside.registry_directory("mine") == tmp_path
    assert beside.registry("mine").entries == []  # no mine.toml: every difference fails


def test_a_built_in_adapter_chosen_by_path_keeps_the_project_registry():
    chosen = selection.from_environment({"XENT_ADAPTER": ADAPTERS["torch"]})
    assert dict(chosen.paths) == {"torch": ADAPTERS["torch"]}
    assert chosen.registry_directory("torch") == INSTALLED / "torch"


@pytest.mark.parametrize(("path", "problem"), [
    ("tinyloss", "expected module.path:ClassName"),
    ("adapters.example.adapter:", "expected module.path:ClassName"),
    ("no_such_module_xent:Adapter", "cannot import module 'no_such_module_xent': "
                                    "ModuleNotFoundError"),
    ("adapters.example.adapter:Missing", "has no 'Missing'"),
    ("adapters.example.adapter:BINDINGS", "BINDINGS is not a subclass of adapters.adapter.Adapter"),
    ("adapters.adapter:Adapter", "names no library"),
])
def test_a_bad_adapter_path_says_what_is_wrong(path, problem):
    with pytest.raises(AdapterSpecError, match=r"^adapter '.*': ") as raised:
        selection.from_environment({"XENT_ADAPTER": path})
    assert problem in str(raised.value)


#: the user adapter's binding with one declaration changed: (its text there, the change)
_MISDECLARED = {
    "another library": ('library="mine", loss', 'library="other", loss'),
    "an unknown loss": ('loss="binary_cross_entropy_with_logits"', 'loss="focal"'),
}


@pytest.mark.parametrize(("change", "problem"), [
    ("another library", "binding 'mine.bce' says library='other', the adapter's library is "
                        "'mine'"),
    ("an unknown loss", "computes 'focal', which is none of the oracle's losses"),
])
def test_declarations_the_suite_would_misjudge_are_refused(tmp_path, monkeypatch, change,
                                                           problem):
    name = "misdeclared_" + change.replace(" ", "_")
    user_module(tmp_path, name, USER_ADAPTER.replace(*_MISDECLARED[change], 1))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AdapterSpecError, match=problem):
        load_adapter(f"{name}:Adapter")


def test_two_bindings_with_one_name_are_refused(tmp_path, monkeypatch):
    user_module(tmp_path, "twice", USER_ADAPTER + """
    class Twice(Adapter):
        bindings = (BINDING, BINDING)
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AdapterSpecError, match=r"two bindings are named 'mine\.bce'"):
        load_adapter("twice:Twice")


# --- the guarded worker ------------------------------------------------------------------------


def test_the_guarded_worker_loads_a_user_adapter_by_its_path(tmp_path, monkeypatch):
    user_module(tmp_path, "user_xent", USER_ADAPTER)
    monkeypatch.syspath_prepend(str(tmp_path))  # a spawned worker starts with this sys.path
    case = Case("binary_cross_entropy_with_logits",
                {"input": np.array([0.0, 2.0]), "target": np.array([1.0, 0.0])},
                {"reduction": "none"})
    with IsolatedAdapter("user_xent:Adapter", timeout=30) as guarded:
        observation = guarded.evaluate("mine.bce", case)
    assert observation.error is None
    # softplus(0) - 0 = log 2; softplus(2) = 2.1269280110429727
    np.testing.assert_allclose(observation.value, [np.log(2.0), 2.1269280110429727], rtol=1e-15)
    assert "np.logaddexp(0, input) - target * input" in observation.reproducer


# --- whole runs in a separate process ----------------------------------------------------------


def test_a_new_library_version_fails_on_new_differences_and_reports_stale_entries(tmp_path):
    # 1.0, the version tests/fakelib.toml was written against: its one difference is registered
    code, output, v1 = run_suite("_fake_versioned_adapter:VersionedAdapter", tmp_path / "v1",
                              extra_path=TESTS, XENT_FAKE_VERSION="1.0")
    assert code == 0, output[-3000:]
    validate(v1)
    assert v1["env"] == "fakelib"
    assert v1["environment"]["libraries"]["fakelib"] == "1.0"
    (explained,) = [f for f in v1["findings"] if f["outcome"] != "match"]
    assert (explained["case"], explained["deviation"]) == ("empty-batch-mean",
                                                          "fakelib-empty-mean-is-zero")
    assert v1["stale_deviations"] == []

    # 2.0 fixed that and clamps its logits: the new differences fail, the old entry is stale
    code, output, v2 = run_suite("_fake_versioned_adapter:VersionedAdapter", tmp_path / "v2",
                              extra_path=TESTS, XENT_FAKE_VERSION="2.0")
    assert code == 1, output[-3000:]
    validate(v2)
    assert v2["environment"]["libraries"]["fakelib"] == "2.0"
    unexplained = {f["case"] for f in v2["findings"]
                   if f["outcome"] != "match" and not f["deviation"]}
    assert "logit-magnitude-1e+03" in unexplained
    assert ("FAILED conformance/test_stability.py::test_stability"
            "[fakelib:fakelib.bce_with_logits:float64:logit-magnitude-1e+03]") in output
    assert "unregistered difference(s); the first: fakelib.bce_with_logits [stability, " \
           "case logit-magnitude-1e+03" in output
    assert v2["stale_deviations"] == ["fakelib-empty-mean-is-zero"]
    assert ("stale registry entries (their match selected nothing): "
            "fakelib-empty-mean-is-zero") in output


def _install_in_a_plain_venv(folder: Path) -> Path:
    """A fresh virtual environment (no system site packages) holding this project, installed by
    pip from a copy of its source with the ``suite`` extra and no constraints; its python."""
    # a copy, so that the build writes its build/ and egg-info there, not into the checkout
    source = folder / "source"
    source.mkdir()
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    for part in ("reference", "adapters", "conformance", "reports"):
        shutil.copytree(ROOT / part, source / part,
                        ignore=shutil.ignore_patterns("__pycache__", "results", "index.html"))
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in NESTED_RUN_CLEARS}
    pip = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{source}[suite]"],
                         env=env, capture_output=True, text=True, timeout=900)
    if pip.returncode != 0:
        if "NewConnectionError" in pip.stderr or "No matching distribution" in pip.stderr:
            pytest.skip(f"no package index reachable to install into a fresh venv: "
                        f"{pip.stderr.strip().splitlines()[-1]}")
        pytest.fail(f"pip install failed:\n{pip.stderr[-3000:]}")
    return python


def test_the_example_adapter_runs_the_suite_in_a_plain_venv(tmp_path):
    python = _install_in_a_plain_venv(tmp_path)
    elsewhere = tmp_path / "run"  # not the checkout: the installed package is what runs
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import conformance; print(conformance.__file__)"],
                           cwd=elsewhere, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(tmp_path / "venv"))

    code, output, document = run_suite(EXAMPLE, tmp_path / "results", python=str(python),
                                    cwd=elsewhere)
    assert code == 0, output[-3000:]
    validate(document)
    assert document["env"] == "tinyloss"
    assert document["environment"]["libraries"]["tinyloss"] == "1.0"
    differences = [f for f in document["findings"] if f["outcome"] != "match"]
    assert differences
    assert all(f["deviation"] for f in differences)
    assert {f["deviation"] for f in differences} >= {"tinyloss-softmax-exp-overflows",
                                                     "tinyloss-bce-softplus-overflows"}
    assert all(f"{f['api']}(" in f["reproducer"] for f in differences)  # runnable calls

    report = build(tmp_path / "results", expected=("tinyloss",))
    write(report, tmp_path / "index.html")
    html = (tmp_path / "index.html").read_text()
    assert "tinyloss.binary_cross_entropy_with_logits" in html
    assert "tinyloss-softmax-exp-overflows" in html

    # the README's figures are this run's
    cases = sum(row["cases"] for row in document["summary"])
    explained = sum(row["registered"] for row in document["summary"])
    entries = len({f["deviation"] for f in differences})
    assert _readme_example_figures() == (cases, cases - len(differences), len(differences),
                                         explained, entries)

    # the same cases drawn however the suite is started: pytest --pyargs from elsewhere, and
    # pytest on the checkout's folder (hypothesis seeds from the test's id, and would draw the
    # constants of "local" modules: the checkout's, not the installed package's)
    ran = {"python -m conformance": _drawn(document)}
    for how, command, cwd in (("pytest --pyargs", ("-m", "pytest", "--pyargs", "conformance",
                                                   "-p", "no:cacheprovider"), elsewhere),
                              ("pytest on a checkout", ("-m", "pytest", str(ROOT / "conformance"),
                                                        "-p", "no:cacheprovider"), ROOT)):
        # the drawn cases are the point here: the accuracy tables draw nothing
        code, output, again = run_suite(EXAMPLE, tmp_path / how.replace(" ", "-"),
                                        "-k", "not every_half_precision_input and not "
                                        "worst_case_search",
                                        python=str(python), cwd=cwd, command=command)
        assert code == 0, output[-3000:]
        ran[how] = _drawn(again)
    assert len(set(map(frozenset, ran.values()))) == 1, {how: len(ids) for how, ids in ran.items()}


def _drawn(document: dict) -> list[str]:
    """The ids of a run's recorded findings of drawn cases: digests of the inputs drawn."""
    return sorted(f["id"] for f in document["findings"] if f["case"].startswith("draw:"))


def _readme_example_figures() -> tuple[int, ...]:
    """(cases, matches, differences, explained, entries) as the README states the example's
    run."""
    text = " ".join((ROOT / "README.md").read_text().split())
    found = re.search(r"The example's run \(`ci` profile\): (\d+) cases judged, (\d+) match, "
                      r"(\d+) differ, all (\d+) explained by its (\d+) registry entries", text)
    assert found, "README: the sentence giving the example's figures has changed"
    return tuple(int(n) for n in found.groups())

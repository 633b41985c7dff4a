"""The built-in registries by the kinds' rules (``conformance/deviations.py``): every bug says
where it stands upstream, one stated mechanism has one kind whichever library it is of, and
the entries once filed as bugs against those rules carry the kind the rules give."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

import adapters
from conformance.deviations import DeviationRegistry

REGISTRIES = sorted(Path(adapters.__file__).parent.glob("*/*.toml"))


def entries() -> list[tuple[str, dict]]:
    """(file name, entry) of every built-in registry, every env's entries."""
    return [(path.name, entry) for path in REGISTRIES
            for entry in tomllib.loads(path.read_text())["deviation"]]


def test_the_registries_are_found():
    assert {path.name for path in REGISTRIES} >= {"torch.toml", "keras.toml", "paddle.toml",
                                                 "tensorflow.toml", "tinyloss.toml"}


@pytest.mark.parametrize("path", REGISTRIES, ids=lambda path: path.name)
def test_each_registry_loads_with_its_checks(path):
    """Every entry checked, upstream and mechanism included (the loader raises otherwise)."""
    assert DeviationRegistry.load(path.stem, None, path.parent).headers


def test_every_bug_says_where_it_stands_upstream():
    bugs = [(name, entry) for name, entry in entries() if entry["kind"] == "bug"]
    assert len(bugs) >= 25
    missing = [entry["id"] for _, entry in bugs if "upstream" not in entry]
    assert missing == []
    unreported = [entry["id"] for _, entry in bugs
                  if entry["upstream"]["status"] == "none found"]
    assert "paddle-probability-cross-entropy-gradient-0-over-0" in unreported


def test_one_mechanism_has_one_kind_in_every_library():
    kinds: dict[str, dict[str, str]] = defaultdict(dict)
    for _name, entry in entries():
        if "mechanism" in entry:
            kinds[entry["mechanism"]][entry["id"]] = entry["kind"]
    assert len(kinds) >= 3
    mixed = {mechanism: by_id for mechanism, by_id in kinds.items()
             if len(set(by_id.values())) > 1}
    assert mixed == {}
    # the tags that link twins in several libraries are among them (a tag may also name a
    # mechanism one library shows so far: a forward-mode transform a compiler refuses)
    libraries = {mechanism: {ident.split("-")[0] for ident in by_id}
                 for mechanism, by_id in kinds.items()}
    assert len(libraries["inf-minus-inf-at-an-infinite-logit"]) > 1
    assert len(libraries["class-label-out-of-range"]) > 1


@pytest.mark.parametrize(("ident", "kind"), [
    # a class label outside [0, C) is invalid input, as the probability path files it
    ("keras-sparse-logits-negative-index-zero-row", "out-of-contract"),
    ("keras-sparse-logits-function-negative-index-zero-row", "out-of-contract"),
    ("keras-jax-sparse-logits-index-out-of-range-zero-row", "out-of-contract"),
    ("keras-jax-sparse-logits-function-index-out-of-range-zero-row", "out-of-contract"),
    # inf - inf at an infinite logit: IEEE evaluation of the right formula, as for torch
    ("paddle-bce-logits-infinite-logit-nan", "precision"),
    ("paddle-softmax-positive-infinite-logit-nan", "precision"),
    # an error below e^-64 in absolute terms, inside the entry's own stated bound
    ("paddle-softmax-clips-shifted-logits-at-minus-64-gradient", "precision"),
])
def test_the_entries_once_filed_as_bugs_have_the_kind_the_rules_give(ident, kind):
    found = {entry["id"]: entry["kind"] for _, entry in entries()}
    assert found[ident] == kind

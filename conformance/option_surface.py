"""The option surface of a binding, checked from both sides.

A library's API has parameters; the suite exercises those its cases pass. In the spirit of
PyTorch OpInfo's dtype check, both claims are held to the truth:

- every parameter of every callable the binding declares (``Binding.surface``) is passed by
  some case the suite runs on the binding, or is declared out of scope with a reason
  (``Binding.out_of_scope``);
- every out-of-scope declaration names a real parameter, and one that no case passes.

What "passed" means is read off the calls themselves: each call source the suite renders for
the binding is parsed, and its arguments are bound to the callable's real signature
(``inspect.signature``; a documented parameter list where there is none), so a positional
operand counts as the parameter it lands in. A compiled call,
``torch.compile(f, ...)(x)``, calls the compiler with ``f`` and ``f`` with ``x``
(``adapters.compiled``). The call sources are those of every named case
the binding can express (as ``conformance.restate`` restates them) and, for every reduction it
offers, a case setting every option it declares, which is what ``regular_cases`` draws.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable, Mapping
from functools import reduce

import numpy as np

from adapters import compiled
from adapters.binding import ARRAY_OPTIONS, Binding, Case
from conformance import restate
from conformance.cases import OPTION_EXAMPLES, edge_cases, reduction_cases, stability_cases
from reference.specs import DTYPES, loss_spec

_INSTANCE_CALL = "()"
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def signature(entry: str, binding: Binding, namespace: Mapping[str, object]) -> inspect.Signature:
    """The signature of one surface entry, ``self`` dropped; raises ValueError naming the
    entry when it cannot be resolved or read."""
    if entry in binding.documented_signatures:
        text = binding.documented_signatures[entry]
        try:
            tree = ast.parse(f"def _{text}: pass")
        except SyntaxError as exc:
            raise ValueError(f"{binding.api}: the documented signature of {entry!r} is not a "
                             f"parameter list: {text!r}") from exc
        namespace_ = {}
        exec(compile(tree, "<documented signature>", "exec"), {}, namespace_)
        return inspect.signature(namespace_["_"])
    path = entry.removesuffix(_INSTANCE_CALL)
    try:
        target = reduce(getattr, path.split(".")[1:], namespace[path.split(".")[0]])
    except (KeyError, AttributeError) as exc:
        raise ValueError(f"{binding.api}: surface entry {entry!r} does not resolve in the "
                         f"adapter's modules ({exc})") from exc
    if entry.endswith(_INSTANCE_CALL):
        target = getattr(target, "forward", None) or target.__call__
    try:
        found = inspect.signature(target)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{binding.api}: {entry!r} has no introspectable signature; give its "
                         "documented parameter list in documented_signatures") from exc
    parameters = list(found.parameters.values())
    if entry.endswith(_INSTANCE_CALL) and parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    return found.replace(parameters=parameters)


def parameters(signature_: inspect.Signature) -> tuple[str, ...]:
    """The named parameters (``*args`` and ``**kwargs`` pass nothing a case could name)."""
    return tuple(p.name for p in signature_.parameters.values() if p.kind not in _VARIADIC)


def passed(entry: str, signature_: inspect.Signature, source: str) -> set[str]:
    """The parameters of ``entry`` that the calls to it in ``source`` pass."""
    path = entry.removesuffix(_INSTANCE_CALL)
    found = set()
    for node in ast.walk(ast.parse(source, mode="eval")):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        if isinstance(callee, ast.Call) and callee.args and ast.unparse(callee.args[0]) == path:
            callee = callee.args[0]  # compiled: torch.compile(path, ...)(arguments)
        elif entry.endswith(_INSTANCE_CALL):
            if not isinstance(callee, ast.Call):
                continue
            callee = callee.func
        if ast.unparse(callee) != path:
            continue
        positional = [None] * len(node.args)
        keywords = {k.arg: None for k in node.keywords if k.arg is not None}
        try:
            bound = signature_.bind_partial(*positional, **keywords)
        except TypeError as exc:
            raise ValueError(f"the call {ast.unparse(node)} does not fit the signature of "
                             f"{entry} {signature_}: {exc}") from exc
        found |= {name for name in bound.arguments
                  if signature_.parameters[name].kind not in _VARIADIC}
    return found


def call_sources(binding: Binding) -> set[str]:
    """Every call source the suite renders for ``binding`` (see the module docstring)."""
    named = [n.case for n in (*edge_cases(binding.loss), *reduction_cases(binding.loss))]
    named += [n.case for dtype in DTYPES for n in stability_cases(binding.loss, dtype)]
    sources = set()
    for case in named:
        case = restate.fit(binding, case)
        if binding.supports(case) is None:
            sources.add(binding.call_source(case))
    sources |= {binding.call_source(case) for case in _every_option(binding)}
    return {compiled.spelled_out(source) for source in sources}


def _every_option(binding: Binding) -> Iterable[Case]:
    """One case per offered reduction with every option the binding declares set (the shapes
    do not matter to the call source, only which options are present)."""
    spec = loss_spec(binding.loss)
    inputs = spec.example()
    if spec.family == "categorical" and "indices" in binding.targets:
        inputs["target"] = np.array([2, 0])
    options = {}
    for name in (*binding.options, *binding.operand_options):
        value = OPTION_EXAMPLES[name]
        (inputs if name in ARRAY_OPTIONS else options)[name] = value
    for reduction in binding.reductions:
        yield Case(binding.loss, inputs, {**options, "reduction": reduction})


def problems(binding: Binding, namespace: Mapping[str, object]) -> list[str]:
    """What is wrong with the binding's option surface, one sentence each (none: [])."""
    if binding.surface is None:
        return [f"{binding.api}: declares no surface (the public callables its expression "
                "calls; () for a formula)"]
    found, exercised_anywhere, every_parameter = [], set(), set()
    sources = call_sources(binding)
    for entry in binding.surface:
        signature_ = signature(entry, binding, namespace)
        names = parameters(signature_)
        exercised = set().union(*(passed(entry, signature_, s) for s in sources))
        if not exercised:
            found.append(f"{binding.api}: no call the suite makes calls {entry}")
        exercised_anywhere |= {f"{entry}:{n}" for n in exercised} | exercised
        every_parameter |= {f"{entry}:{n}" for n in names} | set(names)
        for name in names:
            if name in exercised:
                continue
            if name in binding.out_of_scope or f"{entry}:{name}" in binding.out_of_scope:
                continue
            found.append(f"{binding.api}: parameter {name!r} of {entry} is neither passed by "
                         "any case nor declared out of scope with a reason")
    for name, reason in binding.out_of_scope.items():
        if name not in every_parameter:
            found.append(f"{binding.api}: out_of_scope names {name!r}, which no surface "
                         "callable has")
        elif name in exercised_anywhere:
            found.append(f"{binding.api}: out_of_scope names {name!r}, which a case passes")
        elif not reason.strip():
            found.append(f"{binding.api}: out_of_scope gives no reason for {name!r}")
    return found

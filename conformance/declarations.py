"""What an adapter declares, checked before the first case runs.

A misspelt declaration is not an error Python sees: ``reductions={"avg": ...}`` offers no
reduction the suite knows, so the binding silently meets 4 cases instead of 60;
``dtypes=("float32", "f64")`` drops float64; an option name no strategy draws fails mid-run; an
expression that does not compile, or names a function that does not exist, raises in every
case. These checks say so at once, one line per mistake, naming the adapter's file, the binding
and the field, with the likely spelling:

    adapters/example/adapter.py: binding 'tinyloss.softmax_cross_entropy': reductions: 'avg' is
    not a reduction of the oracle (none, sum, mean, sum_over_batch_size, weighted_mean)

``binding_problems`` reads the declarations only and imports no library; ``unresolved_names``
looks up, in the imported modules, every name the rendered expressions use.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import re
import string
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from adapters import declaration_problems
from adapters.binding import ARRAY_OPTIONS, DIRECTIONAL_CHECKS, Binding, Case
from conformance.cases import OPTION_EXAMPLES
from reference.specs import DTYPES, LOSS_SPECS, REDUCTIONS, LossSpec

#: the names an expression gives the case's arrays
OPERANDS = ("input", "target", *ARRAY_OPTIONS)
#: what ``Binding.call_source`` fills in per case
PLACEHOLDERS = ("options", "call_options", "reduction", "dtype")
TARGET_KINDS = ("indices", "probabilities")
#: the arguments the suite takes gradients with respect to
GRADIENTS = ("input", "target")
#: oracle keywords a binding never declares as options, and why
_SET_BY_THE_SUITE = {
    "input": "an operand: the expression names it",
    "target": "an operand: the expression names it",
    "reduction": "each case sets it: declare the library's spellings in reductions",
    "validate": "the suite's own switch: its invalid-input cases rely on the oracle's checks",
}
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_SURFACE_ENTRY = re.compile(_DOTTED.pattern + r"(\(\))?")


def adapter_file(adapter) -> str:
    """The file of the adapter's class: relative to the current folder when it is under it."""
    module = sys.modules.get(type(adapter).__module__)
    path = getattr(module, "__file__", None)
    if path is None:
        return type(adapter).__module__
    path, here = Path(path).resolve(), Path.cwd().resolve()
    return (path.relative_to(here) if path.is_relative_to(here) else path).as_posix()


def binding_problems(adapter) -> list[str]:
    """Every mistake in the adapter's declarations, one line each ([]: none); no library is
    imported."""
    where = adapter_file(adapter)
    found = [f"{where}: {problem}" for problem in declaration_problems(adapter)]
    if not adapter.library or not adapter.bindings:
        return found
    for binding in adapter.bindings:
        found += [f"{where}: binding {binding.api!r}: {problem}"
                  for problem in _field_problems(binding)]
    return found


def unresolved_names(adapter) -> list[str]:
    """Each name the rendered expressions use that the imported library does not give, one
    line each ([]: none, or the library does not import, which availability reports)."""
    try:
        namespace = adapter.namespace()
    except Exception:  # not importable here: reported as unavailable, not as a declaration
        return []
    where = adapter_file(adapter)
    found = []
    for binding in adapter.bindings:
        problems = {}
        if _kind_problems(binding):  # binding_problems reports them
            continue
        for _, source in _renderings(binding):
            try:
                tree = ast.parse(source, mode="eval")
            except SyntaxError:  # binding_problems reports it
                continue
            problems.update(dict.fromkeys(_missing_names(tree, namespace)))
        found += [f"{where}: binding {binding.api!r}: {problem}" for problem in problems]
    return found


# --- the fields of one binding -----------------------------------------------------------------


def _field_problems(binding: Binding) -> list[str]:
    """"field: what is wrong" for each mistake; the expression is rendered and compiled only
    when the declarations it is rendered from are sound."""
    kinds = _kind_problems(binding)
    if kinds:  # every other check reads these fields
        return kinds
    spec = LOSS_SPECS.get(binding.loss)  # an unknown loss: declaration_problems says so
    placeholders = _placeholder_problems(binding)
    rendering = [*placeholders, *(_template_problems(binding, spec) if spec else ()),
                 *(_option_problems(binding, spec) if spec else ())]
    found = [
        *rendering,
        # a reduction's spelling means what the placeholders say
        *_reduction_problems(binding, spellings=not placeholders),
        *_choice_problems("dtypes", binding.dtypes, DTYPES, "a dtype"),
        *(_target_problems(binding, spec) if spec else ()),
        *_rank_problems(binding.ranks),
        *_choice_problems("gradients", binding.gradients, GRADIENTS,
                          "an argument the suite differentiates", empty_is_fine=True),
        *_mode_problems(binding.mode),
        *_surface_problems(binding.surface),
        *_no_derivative_problems(binding),
    ]
    if spec and not rendering:
        found += _compile_problems(binding)
    return found


def _no_derivative_problems(binding: Binding) -> list[str]:
    """``no_derivatives`` names derivative checks, each with a reason, of a differentiable API."""
    value = binding.no_derivatives
    if not isinstance(value, Mapping):
        return [f"no_derivatives: {value!r} is not a mapping (check -> why it is not offered)"]
    found = [_not_among("no_derivatives", check, DIRECTIONAL_CHECKS, "a derivative check")
             for check in value if check not in DIRECTIONAL_CHECKS]
    found += [f"no_derivatives: {check!r} gives no reason (say why the API cannot take it)"
              for check, reason in value.items()
              if not (isinstance(reason, str) and reason.strip())]
    if value and not binding.gradients:
        found.append("no_derivatives: the API declares no gradients, so it takes no "
                     "derivative at all: leave no_derivatives out")
    return found


def _suggestion(word, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return close[0] if close else None


def _not_among(field: str, value, choices: Iterable[str], what: str) -> str:
    """"field: 'x' is not <what> (a, b, c); did you mean 'y'?"."""
    choices = list(choices)
    close = _suggestion(value, choices)
    return (f"{field}: {value!r} is not {what} ({', '.join(choices)})"
            + (f"; did you mean {close!r}?" if close else ""))


def _kind_problems(binding: Binding) -> list[str]:
    """The expression is a string and the mappings are mappings."""
    found = [] if isinstance(binding.expression, str) else [
        f"expression: {binding.expression!r} is not Python source (a string)"]
    return found + [
        f"{field}: {value!r} is not a mapping (oracle name -> how the library says it)"
        for field in ("options", "operand_options", "reductions", "fixed_options")
        if not isinstance(value := getattr(binding, field), Mapping)]


def _entries(field: str, value) -> tuple[list[str], tuple]:
    """A tuple field's entries; a bare string, which would be read letter by letter, is one
    entry and a mistake."""
    if isinstance(value, str):
        return [f"{field}: {value!r} is a string, not a tuple: write ({value!r},)"], (value,)
    if value is None:
        return [f"{field}: None is not a tuple: write () for none"], ()
    if not isinstance(value, Iterable):
        return [f"{field}: {value!r} is not a tuple: write ({value!r},)"], (value,)
    return [], tuple(value)


def _choice_problems(field: str, value, choices, what: str, *,
                     empty_is_fine: bool = False) -> list[str]:
    found, entries = _entries(field, value)
    if not entries and not found and not empty_is_fine:
        found.append(f"{field}: none declared, so no case runs")
    return found + [_not_among(field, entry, choices, what)
                    for entry in entries if entry not in choices]


def _placeholder_problems(binding: Binding) -> list[str]:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(binding.expression)
                  if name is not None]
    except ValueError as exc:  # a lone { or }
        return [f"expression: {exc}; write a literal brace as {{{{ or }}}}"]
    found = []
    for name in dict.fromkeys(fields):
        if name not in PLACEHOLDERS:
            close = _suggestion(name, PLACEHOLDERS)
            found.append(f"expression: {{{name}}} is not a placeholder "
                         f"({', '.join('{' + p + '}' for p in PLACEHOLDERS)}); "
                         + (f"did you mean {{{close}}}?" if close
                            else "write a literal brace as {{ or }}"))
    return found


def _template_problems(binding: Binding, spec: LossSpec) -> list[str]:
    """The spellings of the options: an array option names its operand as written; a scalar
    one, and an operand replacement, format the case's value into their "{}" (an option that
    is no oracle keyword is reported as such, whatever its spelling)."""
    found, keywords = [], _oracle_keywords(spec)
    for name, template in binding.options.items():
        if name not in keywords:
            continue
        if name in ARRAY_OPTIONS:
            if (not isinstance(template, str) or "{" in template
                    or not re.search(rf"\b{name}\b", template)):
                found.append(f"options: {name!r} is an array option, written as given: name "
                             f"its operand ({name}={name}), not {template!r}")
        else:
            found += _format_problems("options", name, template)
    for name, replacement in binding.operand_options.items():
        if name not in keywords:
            continue
        if not (isinstance(replacement, tuple) and len(replacement) == 2):
            found.append(f"operand_options: {name!r} maps to {replacement!r}, not to "
                         "(operand, template)")
            continue
        operand, template = replacement
        if operand not in OPERANDS:
            found.append(_not_among("operand_options", operand, OPERANDS, "an operand"))
        elif not re.search(rf"\b{operand}\b", binding.expression):
            found.append(f"operand_options: {name!r} replaces {operand}, which the expression "
                         "does not name")
        found += _format_problems("operand_options", name, template)
    return found


def _format_problems(field: str, name: str, template) -> list[str]:
    """A spelling that ``str.format`` fills with the case's value: exactly one "{}"."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except (ValueError, TypeError) as exc:
        return [f"{field}: {name!r} is spelled {template!r}: {exc}"]
    if fields != [""]:
        return [f"{field}: {name!r} is spelled {template!r}, which needs exactly one {{}} for "
                "the case's value"]
    return []


def _option_problems(binding: Binding, spec: LossSpec) -> list[str]:
    """The option names, and whether the expression has a place for the options declared."""
    found = [*_option_name_problems("options", binding.options, spec, varied=True),
             *_option_name_problems("operand_options", binding.operand_options, spec,
                                    varied=True),
             *_option_name_problems("fixed_options", binding.fixed_options, spec, varied=False)]
    at_call = [n for n in _entries("call_options", binding.call_options)[1]
               if n in binding.options]
    at_constructor = [n for n in binding.options if n not in at_call]
    if at_constructor and "{options}" not in binding.expression:
        found.append(f"options: {at_constructor[0]!r} is declared, but the expression has no "
                     "{options}, so no case would pass it")
    if at_call and "{call_options}" not in binding.expression:
        found.append(f"call_options: {at_call[0]!r} is declared, but the expression has no "
                     "{call_options}, so no case would pass it")
    for name in binding.fixed_options:
        if binding.offers(name):
            found.append(f"fixed_options: {name!r} is also an option: a fixed keyword does "
                         "not vary")
    options = list(binding.options)
    found += _subset_problems("call_options", binding.call_options, options)
    found += _subset_problems("required", binding.required,
                              [*options, *binding.operand_options])
    return found


def _oracle_keywords(spec: LossSpec) -> list[str]:
    """The oracle's keywords a binding may declare: its options, read off its signature."""
    return [name for name in spec.parameters if name not in _SET_BY_THE_SUITE]


def _option_name_problems(field: str, names: Mapping, spec: LossSpec, *,
                          varied: bool) -> Iterator[str]:
    keywords = _oracle_keywords(spec)
    for name in names:
        if name in _SET_BY_THE_SUITE:
            yield f"{field}: {name!r} is not an option: {_SET_BY_THE_SUITE[name]}"
        elif name not in keywords:
            close = _suggestion(name, keywords)
            yield (f"{field}: {name!r} is not a keyword of the oracle's {spec.name}"
                   + (f" (did you mean {close!r}?)" if close else ""))
        elif varied and name not in OPTION_EXAMPLES:
            yield (f"{field}: {name!r} is an oracle keyword the suite does not vary: state its "
                   "value in fixed_options")


def _subset_problems(field: str, value, options: list[str]) -> list[str]:
    found, entries = _entries(field, value)
    return found + [_not_among(field, name, options, "one of the binding's options")
                    for name in entries if name not in options]


def _reduction_problems(binding: Binding, *, spellings: bool) -> list[str]:
    if not binding.reductions:
        return ["reductions: none declared, so no case runs"]
    found = [_not_among("reductions", name, REDUCTIONS, "a reduction of the oracle")
             for name in binding.reductions if name not in REDUCTIONS]
    for name, spelling in binding.reductions.items():
        if spellings and not _reduction_spelled(binding, spelling):
            found.append(f"reductions: {name!r} is spelled {spelling!r}; without {{reduction}} "
                         "in the expression it is the function the call is wrapped in, a "
                         "dotted name (np.mean), or \"\" for none")
    return found


def _reduction_spelled(binding: Binding, spelling) -> bool:
    """A reduction's spelling is a string; without {reduction}, "" or a dotted name."""
    if not isinstance(spelling, str):
        return False
    return "{reduction}" in binding.expression or not spelling or bool(
        _DOTTED.fullmatch(spelling))


def _target_problems(binding: Binding, spec: LossSpec) -> list[str]:
    found = _choice_problems("targets", binding.targets, TARGET_KINDS, "a target kind")
    _, entries = _entries("targets", binding.targets)
    return found + [f"targets: {kind!r} is not a target kind of the oracle's {spec.name} "
                    f"({', '.join(spec.targets)})"
                    for kind in entries if kind in TARGET_KINDS and kind not in spec.targets]


def _rank_problems(ranks) -> list[str]:
    found, entries = _entries("ranks", ranks)
    if not entries:
        return found or ["ranks: none declared, so no case runs"]
    return found + [f"ranks: {rank!r} is not an input rank (a non-negative integer)"
                    for rank in entries
                    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0]


def _mode_problems(mode) -> list[str]:
    if isinstance(mode, str) and mode.strip():
        return []
    return [f"mode: {mode!r} is not a mode: \"eager\", or the compiler the expression calls "
            "the API through (\"torch.compile\")"]


def _surface_problems(surface) -> list[str]:
    if surface is None:  # not declared: the option-surface check reports it
        return []
    found, entries = _entries("surface", surface)
    return found + [f"surface: {entry!r} is not a dotted path, optionally ending in \"()\" "
                    "(torch.nn.CrossEntropyLoss())"
                    for entry in entries
                    if not (isinstance(entry, str) and _SURFACE_ENTRY.fullmatch(entry))]


# --- the rendered expression -------------------------------------------------------------------


def _renderings(binding: Binding) -> Iterator[tuple[str, str]]:
    """(which case, call source) for each reduction whose spelling is sound, with every option
    set and with only the required ones: what the suite's calls look like. A binding whose
    declarations cannot be rendered gives none (``binding_problems`` says why)."""
    spec = LOSS_SPECS.get(binding.loss)
    if spec is None:
        return
    every = {name: OPTION_EXAMPLES.get(name, 1)
             for name in (*binding.options, *binding.operand_options)}
    _, names = _entries("required", binding.required)
    required = {name: value for name, value in every.items() if name in names}
    dtype = next((d for d in _entries("dtypes", binding.dtypes)[1] if d in DTYPES), "float64")
    variants = [(", every option", every), (", no option", required)] if every else [("", {})]
    seen = set()
    for reduction, spelling in binding.reductions.items():
        if not _reduction_spelled(binding, spelling):
            continue
        for label, options in variants:
            try:
                source = binding.call_source(_case(spec, reduction, options, dtype))
            except Exception:  # a declaration that cannot be rendered: binding_problems
                continue
            if source not in seen:
                seen.add(source)
                yield f"reduction={reduction!r}{label}", source


def _case(spec: LossSpec, reduction: str, options: Mapping, dtype: str) -> Case:
    arrays = {name: value for name, value in options.items() if name in ARRAY_OPTIONS}
    scalars = {name: value for name, value in options.items() if name not in ARRAY_OPTIONS}
    return Case(spec.name, {**spec.example(), **arrays}, {**scalars, "reduction": reduction},
                dtype)


def _compile_problems(binding: Binding) -> list[str]:
    """The first rendered call that does not compile (one mistake usually breaks them all)."""
    for label, source in _renderings(binding):
        try:
            compile(source, f"<binding {binding.api}>", "eval")
        except SyntaxError as exc:
            line = (exc.text or source).strip()
            return [f"expression: {exc.msg} at line {exc.lineno}, column {exc.offset} of the "
                    f"call rendered for {label}: {line}"]
    return []


# --- names, after the library imports ----------------------------------------------------------


class _Names(ast.NodeVisitor):
    """The names an expression loads, the names it binds itself (lambda parameters,
    comprehension targets), and its attribute chains as far as they are static."""

    def __init__(self):
        self.loaded: list[str] = []
        self.bound: set[str] = set()
        self.chains: list[list[str]] = []

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load):
            self.loaded.append(node.id)
        else:
            self.bound.add(node.id)

    def visit_arg(self, node: ast.arg):
        self.bound.add(node.arg)

    def visit_Attribute(self, node: ast.Attribute):
        chain = _static_chain(node)
        if chain is None:  # rooted at a call or a subscript: its static part is further in
            self.generic_visit(node)
            return
        self.loaded.append(chain[0])
        self.chains.append(chain)


def _static_chain(node: ast.Attribute) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None when a call or subscript comes before the name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def _missing_names(tree: ast.AST, namespace: Mapping[str, object]) -> Iterator[str]:
    names = _Names()
    names.visit(tree)
    known = {*OPERANDS, *names.bound, *dir(builtins), *namespace}
    for name in dict.fromkeys(names.loaded):
        if name not in known:
            close = _suggestion(name, [*namespace, *OPERANDS])
            yield (f"the expression names {name}, which is not an operand, a builtin or one of "
                   f"the adapter's names ({', '.join(n for n in namespace if '.' not in n)})"
                   + (f"; did you mean {close}?" if close else ""))
    for chain in names.chains:
        if chain[0] in namespace and chain[0] not in names.bound:
            problem = _unresolved_link(chain, namespace[chain[0]])
            if problem:
                yield problem


def _unresolved_link(chain: list[str], obj) -> str | None:
    """The first attribute of ``chain`` that ``obj`` does not have, as a sentence."""
    for i, attribute in enumerate(chain[1:], start=1):
        path, parent = ".".join(chain[:i + 1]), ".".join(chain[:i])
        try:
            obj = getattr(obj, attribute)
        except AttributeError:
            close = _suggestion(attribute, dir(obj))
            return (f"the expression names {path}, which does not exist"
                    + (f" (did you mean {parent}.{close}?)" if close else ""))
        except Exception as exc:  # a lazy module that fails to load, a raising property
            return f"the expression names {path}, which raises {type(exc).__name__}: {exc}"
    return None

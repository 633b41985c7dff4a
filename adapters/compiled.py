"""Compiled execution modes: each eager binding's twin, called through its framework's compiler.

A compiler turns the library's call into other code (fused kernels, other decompositions, other
reduction orders), so a compiled call is an API of its own, judged against the oracle like every
binding and, by the equivalence category, against its eager twin. One rule per framework derives
the twin from the eager declaration: the expression ``CALLEE(ARGS)`` becomes
``COMPILE(CALLEE)(ARGS)`` (the callee is the library's function, or the loss object the
expression constructs), and everything else (options, reductions, dtypes, ranks, gradients,
library) is the eager twin's, so the library's deviation registry applies to both:

- torch: ``torch.compile(CALLEE, fullgraph=True, dynamic=False)(ARGS)``: TorchDynamo captures the
  whole call (``fullgraph``: a graph break raises instead of running part of it eagerly) and
  Inductor compiles it to C++ on the CPU; gradients go through the compiled backward graph
  (AOTAutograd). ``dynamic=False`` specialises each graph to its shapes, as a fixed-shape
  training step does: one compile per (shape, dtype, options), held in memory on the function's
  code object and on disk in Inductor's FX graph cache (``TORCHINDUCTOR_CACHE_DIR``).
- JAX: ``jax.jit(CALLEE, static_argnames=...)(ARGS)``: XLA compiles the call; the keyword
  arguments the expression passes as Python constants (``axis=1``) are static, as jit requires of
  an axis. ``jax.jit`` caches the traced function on ``CALLEE``, so a new wrapper of the same
  function reuses it; gradients are ``jax.grad`` of the jitted call.
- TensorFlow (``tf.nn`` and Keras 3 on TensorFlow): ``tf.function(CALLEE, jit_compile=True)``, XLA
  again; a new ``tf.function`` object traces and compiles anew, so the expression calls
  ``xla(CALLEE)``, a ``tf.function`` memoised per callee, defined by ``XLA_HELPER`` in the
  adapter's namespace and in every reproducer. Gradients are ``tf.GradientTape`` over the
  compiled call (its gradient function is compiled with it).

What a user wraps around the call stays as in the eager twin: the ``jnp.mean`` / ``tf.reduce_mean``
of the reductions ``tf.nn`` and optax leave to the user runs eagerly, so a difference is the
compiled API's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping

from adapters.binding import ARRAY_OPTIONS, Binding

#: names the expressions give their tensors (never a compile-time constant)
_OPERANDS = frozenset({"input", "target", *ARRAY_OPTIONS})

#: the memoised XLA compile the TensorFlow twins call: one ``tf.function`` per callee, as a user
#: defines it once (a new ``tf.function`` object retraces and recompiles)
XLA_HELPER = ("import functools",
              "xla = functools.cache(functools.partial(tf.function, jit_compile=True))")

# The compile entry points' parameters that no twin passes, with the reason.
_TORCH_COMPILE_OUT = {
    "torch.compile:backend": "the default, Inductor, the compiler this mode judges",
    "torch.compile:mode": "autotuning and CUDA-graph presets; on the CPU they pick among the same "
                          "decompositions",
    "torch.compile:options": "Inductor's internal settings, not a user's contract",
    "torch.compile:name": "a label for logs and caches",
    "torch.compile:disable": "True runs the eager twin",
    "torch.compile:recompile_limit": "when to stop compiling new shapes; the adapter raises "
                                     "the limit process-wide and fails rather than fall back",
    "torch.compile:isolate_recompiles": "cache bookkeeping between compiled wrappers",
    "torch.compile:shapes_spec": "dynamic-shape hints; dynamic=False specialises every shape",
}
_JAX_JIT_OUT = {
    "jax.jit:in_shardings": "one CPU device: no sharding",
    "jax.jit:out_shardings": "one CPU device: no sharding",
    "jax.jit:static_argnums": "the static arguments are named (static_argnames)",
    "jax.jit:donate_argnums": "buffer donation changes memory reuse, not values",
    "jax.jit:donate_argnames": "buffer donation changes memory reuse, not values",
    "jax.jit:keep_unused": "keeps unused arguments alive; every argument is used",
    "jax.jit:device": "deprecated; the CPU platform is the only one",
    "jax.jit:backend": "deprecated; the CPU platform is the only one",
    "jax.jit:inline": "inlines into an enclosing jit; the twin is called at top level",
    "jax.jit:compiler_options": "XLA's internal flags, not a user's contract",
}
_TF_FUNCTION_OUT = {
    "tf.function:input_signature": "tracing per shape and dtype, as without a signature",
    "tf.function:autograph": "converts Python control flow; the loss functions have none that "
                             "depends on tensors",
    "tf.function:reduce_retracing": "relaxes shapes to reuse traces; XLA still compiles per shape",
    "tf.function:experimental_implements": "names a composite op for other runtimes",
    "tf.function:experimental_autograph_options": "autograph's feature switches",
    "tf.function:experimental_attributes": "graph attributes for other runtimes",
    "tf.function:experimental_relax_shapes": "deprecated alias of reduce_retracing",
    "tf.function:experimental_compile": "deprecated alias of jit_compile",
    "tf.function:experimental_follow_type_hints": "tracing by annotations; the losses have none "
                                                  "on tensors",
}


def split_call(expression: str) -> tuple[str, str]:
    """``"CALLEE(ARGS)"`` -> ``("CALLEE", "(ARGS)")``: the expression's last top-level call."""
    if not expression.endswith(")"):
        raise ValueError(f"not a call: {expression!r}")
    depth = 0
    for i in range(len(expression) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(expression[i], 0)
        if depth == 0:
            if i == 0:
                raise ValueError(f"no callee: {expression!r}")
            return expression[:i], expression[i:]
    raise ValueError(f"unbalanced parentheses: {expression!r}")


def _constant_keywords(arguments: str) -> tuple[str, ...]:
    """The keyword arguments of ``(ARGS)`` given a literal value (``axis=1``): neither an operand
    nor a per-case placeholder."""
    return tuple(name for name, value in re.findall(r"(\w+)=([^,(){}]+)", arguments)
                 if value.strip() not in _OPERANDS)


def _twin(binding: Binding, api: str, expression: str, entry: str,
          out_of_scope: Mapping[str, str], note: str, mode: str | None = None) -> Binding:
    surface = None if binding.surface is None else (*binding.surface, entry)
    return dataclasses.replace(
        binding, api=api, expression=expression, surface=surface, mode=mode or entry,
        out_of_scope={**binding.out_of_scope, **out_of_scope},
        notes=(note + " " + binding.notes).strip())


def torch_compiled(binding: Binding) -> Binding:
    callee, arguments = split_call(binding.expression)
    return _twin(binding, f"torch.compile({binding.api})",
                 f"torch.compile({callee}, fullgraph=True, dynamic=False){arguments}",
                 "torch.compile", _TORCH_COMPILE_OUT,
                 "Inductor on the CPU, one graph per shape (dynamic=False); gradients through "
                 "the compiled backward.")


def jax_jitted(binding: Binding) -> Binding:
    callee, arguments = split_call(binding.expression)
    static = _constant_keywords(arguments)
    extra = f", static_argnames={static!r}" if static else ""
    out = _JAX_JIT_OUT if static else {
        **_JAX_JIT_OUT, "jax.jit:static_argnames": "every argument is an array: none is static"}
    return _twin(binding, f"jax.jit({binding.api})", f"jax.jit({callee}{extra}){arguments}",
                 "jax.jit", out,
                 "XLA via jax.jit" + (f" ({', '.join(static)} static)" if static else "") + ".")


def tf_xla(binding: Binding) -> Binding:
    callee, arguments = split_call(binding.expression)
    return _twin(binding, f"tf.function({binding.api}, jit_compile=True)",
                 f"xla({callee}){arguments}", "tf.function", _TF_FUNCTION_OUT,
                 "XLA via tf.function(jit_compile=True), memoised per callee (xla).",
                 mode="tf.function(jit_compile=True)")


def twins(bindings: Iterable[Binding], rule) -> tuple[Binding, ...]:
    """The compiled twin, by the framework's ``rule``, of each binding that calls a function:
    a loss object is compiled the same way as its function form."""
    return tuple(rule(b) for b in bindings if not b.calls_an_object)


# --- what the adapters add to their namespace and reproducers -----------------------------------


def configure_torch(torch) -> None:
    """Dynamo stops compiling a function after ``recompile_limit`` graphs (8) and then runs it
    eagerly, silently: the suite meets hundreds of shapes, so the limits are raised, and reaching
    them raises instead of judging the eager twin under the compiled name. Neither setting
    changes what a graph computes (both are ``compile_ignored`` in ``torch/_dynamo/config.py``)."""
    torch._dynamo.config.recompile_limit = 1 << 20
    torch._dynamo.config.accumulated_recompile_limit = 1 << 20
    torch._dynamo.config.fail_on_recompile_limit_hit = True


#: the setting the torch adapter runs with (``adapters.torch.framework``) that changes what Inductor
#: generates: in deterministic mode it keeps an expanded input's materialisation boundary
#: rather than fuse through it, which changes a reduction's rounding (``expand`` in
#: ``torch/_inductor/lowering.py``: "fusing through expanded inputs can change reduction
#: numerics"); eager CPU kernels are the same either way, so only compiled reproducers state it
TORCH_SETUP = ("torch.use_deterministic_algorithms(True)",)


def with_torch_setup(reproducer: str, source: str) -> str:
    """``reproducer`` with ``TORCH_SETUP`` after its imports when ``source`` compiles."""
    return _after_imports(reproducer, TORCH_SETUP) if "torch.compile(" in source else reproducer


def spelled_out(source: str) -> str:
    """``source`` with the ``xla`` helper written as what it calls: ``xla(f)(x)`` is
    ``tf.function(f, jit_compile=True)(x)`` (for the option-surface check)."""
    return re.sub(r"\bxla\(([\w.]+)\)", r"tf.function(\1, jit_compile=True)", source)


def define_xla(namespace: dict) -> None:
    """``xla`` in the namespace, from the same source the reproducers print."""
    exec("\n".join(XLA_HELPER), namespace)  # our own constant source, as printed


def with_xla_helper(reproducer: str, source: str) -> str:
    """``reproducer`` with ``XLA_HELPER`` after its imports when ``source`` calls ``xla``."""
    return _after_imports(reproducer, XLA_HELPER) if re.search(r"\bxla\(", source) else reproducer


def _after_imports(reproducer: str, setup: tuple[str, ...]) -> str:
    lines = reproducer.splitlines()
    last_import = max(i for i, line in enumerate(lines) if line.startswith("import "))
    return "\n".join([*lines[:last_import + 1], *setup, *lines[last_import + 1:]]) + "\n"


# --- a compiled mode as an adapter declares it ---------------------------------------------------


def _as_is(reproducer: str, source: str) -> str:
    return reproducer


def _nothing_to_define(namespace: dict) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class Compiler:
    """A framework's compiled mode as an adapter declares it (``Adapter.compiler``): the rule
    deriving each eager binding's twin, what the call namespace needs before a compiled call,
    and what a reproducer of one adds after its imports."""

    twin: Callable[[Binding], Binding]
    configure: Callable[[dict], None] = _nothing_to_define
    reproducer: Callable[[str, str], str] = _as_is

    def twins(self, bindings: Iterable[Binding]) -> tuple[Binding, ...]:
        return twins(bindings, self.twin)


TORCH_COMPILE = Compiler(torch_compiled, lambda namespace: configure_torch(namespace["torch"]),
                         with_torch_setup)
JAX_JIT = Compiler(jax_jitted)
TF_XLA = Compiler(tf_xla, define_xla, with_xla_helper)

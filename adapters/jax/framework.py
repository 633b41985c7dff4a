"""JAX as the adapters compute with it: the CPU platform, 64-bit types (without them a float64
request silently gives float32), the highest matmul precision; gradients by
``jax.value_and_grad``, directional derivatives by ``jax.jvp`` (forward mode) and ``jax.jvp`` of
``jax.grad`` (forward-over-reverse Hessian-vector products, the idiom of JAX's autodiff
cookbook).
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from adapters.framework import Framework, numpy_to_float64


class Jax(Framework):
    name = "jax"
    modules = MappingProxyType({"jax": "jax", "jnp": "jax.numpy"})
    source_spelling = ("jnp.asarray", "jnp.zeros", "jnp.{dtype}")
    list_spelling = "{name}.astype(jnp.float64).tolist()"
    derivatives = MappingProxyType({"jvp": "jax.jvp",
                                    "hvp": "jax.jvp(jax.grad(f), (x,), (v,))"})
    # read by jax at import; configure() sets the same in case jax was imported before
    environment = MappingProxyType({"JAX_PLATFORMS": "cpu", "JAX_ENABLE_X64": "1",
                                    "JAX_DEFAULT_MATMUL_PRECISION": "highest"})

    def configure(self, jax):
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_default_matmul_precision", "highest")
        jax.config.update("jax_platforms", "cpu")
        # without x64, jax silently makes float32 of a float64 request
        if jax.numpy.asarray(0.0, dtype=jax.numpy.float64).dtype != jax.numpy.float64:
            raise RuntimeError("jax_enable_x64 did not take effect: no float64 arrays")

    def tensor(self, array, dtype, *, index=False):
        jnp = self.imported().numpy
        if index:
            return jnp.asarray(np.asarray(array), dtype=jnp.int64)
        return jnp.asarray(np.asarray(array, dtype=np.float64), dtype=getattr(jnp, dtype))

    def to_numpy(self, value):
        return numpy_to_float64(np.asarray(value))

    def value_with_gradient(self, call, operands, wrt):
        jax = self.imported()

        def total(x):
            value = call({**operands, wrt: x})
            return jax.numpy.sum(value), value

        # one evaluation gives both: the value rides along as auxiliary output
        (_, value), gradient = jax.value_and_grad(total, has_aux=True)(operands[wrt])
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"gradient = jax.grad(lambda {wrt}: jnp.sum({call_source}))({wrt})",
                f"result = {to_list('gradient')}"]

    def value_with_jvp(self, call, operands, wrt, direction):
        jax = self.imported()
        # forward mode proper: the value and its tangent come out of one pass
        return jax.jvp(lambda x: call({**operands, wrt: x}), (operands[wrt],), (direction,))

    def value_with_hvp(self, call, operands, wrt, direction):
        jax = self.imported()

        def total(x):
            value = call({**operands, wrt: x})
            return jax.numpy.sum(value), value

        # forward over reverse: the jvp of the gradient along v is H v; the value rides along
        # as the gradient's auxiliary output (its tangent is the jvp, not asked for)
        (_, value), (hvp, _) = jax.jvp(jax.grad(total, has_aux=True), (operands[wrt],),
                                       (direction,))
        return value, hvp

    def derivative_source(self, check, call_source, wrt, to_list):
        if check == "jvp":
            return [f"_, jvp = jax.jvp(lambda {wrt}: {call_source}, ({wrt},), (direction,))",
                    f"result = {to_list('jvp')}"]
        return [f"gradient = jax.grad(lambda {wrt}: jnp.sum({call_source}))",
                f"_, hvp = jax.jvp(gradient, ({wrt},), (direction,))",
                f"result = {to_list('hvp')}"]


JAX = Jax()

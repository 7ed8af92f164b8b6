"""Maps between a parameter's natural value and the unconstrained space the optimisers work in."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from ..parameters import PARAMETER_INFO

__all__ = ["Transform"]


@dataclasses.dataclass(frozen=True)
class Transform:
    """Maps a parameter to the unconstrained optimisation space and back.

    `kind`: `"log"` for positive and non-negative parameters, `"logit"` for fractions,
    `"scale"` for signed ones (divided by `scale`, the starting magnitude in the parameter's
    units, so that the optimiser sees values of order 1).
    """

    kind: str  # "log", "logit" or "scale"
    scale: float = 1.0

    @classmethod
    def for_parameter(cls, name: str, value: float) -> Transform:
        constraint = PARAMETER_INFO[name][0]
        if constraint in ("positive", "nonnegative"):
            return cls("log")
        if constraint == "fraction":
            return cls("logit")
        return cls("scale", abs(value) if value != 0 else 1.0)

    def forward(self, x):
        if self.kind == "log":
            return jnp.log(x)
        if self.kind == "logit":
            return jnp.log(x) - jnp.log1p(-x)
        return x / self.scale

    def inverse(self, z):
        if self.kind == "log":
            return jnp.exp(z)
        if self.kind == "logit":
            return jax.nn.sigmoid(z)
        return z * self.scale

    def derivative(self, z):
        """dx/dz at z (for the delta method)."""
        return jax.grad(lambda zz: self.inverse(zz))(z)

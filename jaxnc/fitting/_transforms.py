"""Maps between a parameter's natural value and the unconstrained space the optimisers (and the
sampler) work in: log for positive values, logit for fractions, a scale for signed ones."""

from __future__ import annotations

import abc
import dataclasses

import jax
import jax.numpy as jnp

from ..parameters import PARAMETER_INFO

__all__ = ["Transform", "LogTransform", "LogitTransform", "ScaleTransform"]


@dataclasses.dataclass(frozen=True)
class Transform(abc.ABC):
    """Maps a parameter to the unconstrained optimisation space (`forward`) and back
    (`inverse`). [`Transform.for_parameter`][jaxnc.fitting.Transform.for_parameter] picks the
    one a parameter's constraint calls for: [`LogTransform`][] for positive and non-negative
    values, [`LogitTransform`][] for fractions, [`ScaleTransform`][] for signed ones.

    **Class attribute:** `name`, what messages call it.
    """

    name = "identity"

    @classmethod
    def for_parameter(cls, name: str, value: float) -> Transform:
        """The transform of parameter `name` starting at `value` (natural units)."""
        constraint = PARAMETER_INFO[name][0]
        if constraint in ("positive", "nonnegative"):
            return LogTransform()
        if constraint == "fraction":
            return LogitTransform()
        return ScaleTransform(abs(value) if value != 0 else 1.0)

    @abc.abstractmethod
    def forward(self, x):
        """Natural value -> optimisation space."""

    @abc.abstractmethod
    def inverse(self, z):
        """Optimisation space -> natural value."""

    def derivative(self, z):
        """dx/dz at z (for the delta method)."""
        return jax.grad(lambda zz: self.inverse(zz))(z)


@dataclasses.dataclass(frozen=True)
class LogTransform(Transform):
    """`z = log x`: a positive value."""

    name = "log"

    def forward(self, x):
        return jnp.log(x)

    def inverse(self, z):
        return jnp.exp(z)


@dataclasses.dataclass(frozen=True)
class LogitTransform(Transform):
    """`z = log x - log(1 - x)`: a fraction in (0, 1)."""

    name = "logit"

    def forward(self, x):
        return jnp.log(x) - jnp.log1p(-x)

    def inverse(self, z):
        return jax.nn.sigmoid(z)


@dataclasses.dataclass(frozen=True)
class ScaleTransform(Transform):
    """`z = x / scale`: a signed value, `scale` its starting magnitude in its units, so that the
    optimiser sees values of order 1."""

    scale: float = 1.0
    name = "scale"

    def forward(self, x):
        return x / self.scale

    def inverse(self, z):
        return z * self.scale

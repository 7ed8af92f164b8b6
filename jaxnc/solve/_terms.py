"""The diffrax terms jaxnc integrates, and what they tell a linearly implicit solver: the
vector field of a model ([`ModelTerm`][]), that field with its forward sensitivities
([`SensitivityTerm`][]), and for either the linear system of a step, `W = I - a J`, as the
model's declared Jacobian structure builds it ([`linearise`][jaxnc.solve.linearise])."""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..errors import ParameterError
from ..models import AbstractModel, DenseJacobian, dense_system

__all__ = ["ModelTerm", "SensitivityTerm", "linearise"]


class ModelTerm(diffrax.ODETerm):
    """`model.vector_field` as a diffrax `ODETerm` (per hour), carrying `model`.

    Any diffrax solver integrates it as an `ODETerm`; the Rosenbrock-W solvers
    ([`ROS34PW2`][], [`ROS34PW2AF`][], [`ROS2AF`][]) also ask it for the linear system of a
    step, which the model's declared Jacobian structure (`model.jacobian`) builds.

    With `unravel` (the inverse of `jax.flatten_util.ravel_pytree` on a `State`) the term
    works on the state flattened into one vector: diffrax then carries one array through its
    step-size control, interpolation and saving instead of four, which halves the traced and
    compiled program of a small system. A flat term's `W` is the dense one.

    **Fields:** `model`, an [`AbstractModel`][]; `vector_field`, its `vector_field` (on the
    flat vector when `unravel` is given); `flat`, whether it is.
    """

    model: AbstractModel
    flat: bool

    def __init__(self, model: AbstractModel, unravel=None):
        if not isinstance(model, AbstractModel):
            raise ParameterError(f"ModelTerm needs a jaxnc model, got {type(model).__name__}")
        self.model = model
        self.flat = unravel is not None
        if unravel is None:
            self.vector_field = model.vector_field
        else:
            def flat_vector_field(t, y, args):
                return ravel_pytree(model.vector_field(t, unravel(y), args))[0]

            self.vector_field = flat_vector_field

    def linearise(self, t0, t1, y0, args, gamma):
        """The step's linear system, as the model's Jacobian structure builds it (dense on a
        flat term)."""
        jacobian = DenseJacobian() if self.flat else self.model.jacobian
        return jacobian.linearise(self, t0, t1, y0, args, gamma)


class SensitivityTerm(ModelTerm):
    """The model's vector field with its forward sensitivities, on states `Y = [y | S]` of
    shape `(n, 1 + P)`: column 0 the flattened state, columns 1.. its derivatives with respect
    to P parameters, `dS/dt = J_y S + df/dp`.

    `args` is `(co, co_tangents)`: the step's `Coefficients` and their derivatives, a pytree
    of the same structure with a leading axis of length P.

    **Fields:** as [`ModelTerm`][], plus `flat_field`, the model's vector field on the
    flattened state alone.
    """

    flat_field: Callable

    def __init__(self, model: AbstractModel, unravel):
        super().__init__(model, unravel)
        flat_field = self.vector_field

        def augmented(t, big_y, args):
            co, co_tangents = args
            y, sens = big_y[:, 0], big_y[:, 1:]

            def column(s, dco):
                return jax.jvp(lambda yy, cc: flat_field(t, yy, cc), (y, co), (s, dco))[1]

            ds = jax.vmap(column, in_axes=(1, 0), out_axes=1)(sens, co_tangents)
            return jnp.concatenate([flat_field(t, y, co)[:, None], ds], axis=1)

        self.vector_field = augmented
        self.flat_field = flat_field

    def linearise(self, t0, t1, y0, args, gamma):
        """`W = I - a J_y` for every column, `J_y` at the state column of `y0`.

        The augmented system's exact Jacobian is block lower triangular: `J_y` on the diagonal
        of every column and second derivatives `d(J_y S_i + df/dp_i)/dy` below it. A W-method
        may drop those (ROS34PW2 is third order for any `W`), and dropping them keeps one
        `n x n` LU per step and a program without second derivatives. (Keeping them, with the
        sensitivities in the error control, cost 0.8 s more compilation on one curve.)
        """
        co, _ = args

        def state_jacobian(x):
            return jax.jacfwd(lambda yy: self.flat_field(t0, yy, co))(x[:, 0])

        return dense_system(self.vector_field, t0, y0, args, gamma * (t1 - t0),
                            jacobian=state_jacobian, flat=False)


def linearise(terms, t0, t1, y0, args, gamma):
    """The linear system of a Rosenbrock-W step of `terms` (diffrax wraps a term in its own
    time-direction wrappers; the innermost is asked): a jaxnc term's own
    ([`ModelTerm.linearise`][jaxnc.solve.ModelTerm.linearise]), the dense one of any other
    term (`jax.jacfwd` of its vector field)."""
    term = terms
    while not hasattr(term, "linearise") and isinstance(getattr(term, "term", None),
                                                        diffrax.AbstractTerm):
        term = term.term
    if hasattr(term, "linearise"):
        return term.linearise(t0, t1, y0, args, gamma)
    return DenseJacobian().linearise(terms, t0, t1, y0, args, gamma)

"""The diffrax term of a jaxnc model: its vector field, and the model itself for solvers that
integrate its split (local kinetics + transport) rather than the whole vector field."""

from __future__ import annotations

import diffrax
from jax.flatten_util import ravel_pytree

from ..errors import ParameterError
from ..models import AbstractModel

__all__ = ["ModelTerm", "model_of"]


class ModelTerm(diffrax.ODETerm):
    """`model.vector_field` as a diffrax `ODETerm` (per hour), carrying `model`.

    Any diffrax solver integrates it as an `ODETerm`; the factorised Rosenbrock-W solvers
    ([`ROS34PW2AF`][], [`ROS2AF`][]) read `model.local_rates` and `model.transport_rate` from
    it, so the model a solver integrates is always the term's.

    With `unravel` (the inverse of `jax.flatten_util.ravel_pytree` on a `State`) the term
    works on the state flattened into one vector: diffrax then carries one array through its
    step-size control, interpolation and saving instead of four, which halves the traced and
    compiled program of a small system (`solve_at` does this for every solver but the
    factorised ones, which need the state's parts).

    **Fields:** `model`, an [`AbstractModel`][]; `vector_field`, its `vector_field` (on the
    flat vector when `unravel` is given).
    """

    model: AbstractModel

    def __init__(self, model: AbstractModel, unravel=None):
        if not isinstance(model, AbstractModel):
            raise ParameterError(f"ModelTerm needs a jaxnc model, got {type(model).__name__}")
        self.model = model
        if unravel is None:
            self.vector_field = model.vector_field
        else:
            def flat_vector_field(t, y, args):
                return ravel_pytree(model.vector_field(t, unravel(y), args))[0]

            self.vector_field = flat_vector_field


def model_of(terms, solver: str) -> AbstractModel:
    """The model of the [`ModelTerm`][] that `solver` (its name, for the message) was given.

    diffeqsolve hands solvers each term wrapped in its own time-direction wrapper, whose `term`
    is the one passed in (diffrax's Langevin solvers unwrap it the same way).

    **Raises:** `TypeError` for any other term: a solver that integrates a model's split
    cannot take it from a plain vector field.
    """
    term = terms
    while not isinstance(term, ModelTerm) and isinstance(getattr(term, "term", None),
                                                         diffrax.AbstractTerm):
        term = term.term
    if not isinstance(term, ModelTerm):
        raise TypeError(f"{solver} integrates a jaxnc model's split (local kinetics and "
                        f"transport), so it needs the model's term: pass "
                        f"jaxnc.solve.ModelTerm(model), not {type(term).__name__}")
    return term.model

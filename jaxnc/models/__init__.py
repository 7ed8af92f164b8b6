"""Models layer: processes composed into a vector field over a state pytree, and the structure
of its Jacobian that the linearly implicit solvers use."""

from ._base import AbstractModel
from ._jacobian import (
    AbstractJacobian,
    DenseJacobian,
    DenseSystem,
    LocalTransportJacobian,
    dense_system,
)
from ._state import Cells, Coefficients, State
from .field import FieldModel
from .mean_field import MeanFieldModel

MODELS = {"field": FieldModel, "mean_field": MeanFieldModel}
"""Model name -> class: the names `simulate(model=...)` and `fit(model=...)` accept."""


def get_model(model) -> AbstractModel:
    """A model instance from its name (`"field"`, `"mean_field"`) or an instance."""
    from ..errors import ParameterError

    if isinstance(model, AbstractModel):
        return model
    if model not in MODELS:
        raise ParameterError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return MODELS[model]()


__all__ = ["AbstractModel", "Cells", "Coefficients", "State", "FieldModel", "MeanFieldModel",
           "MODELS", "get_model", "AbstractJacobian", "DenseJacobian", "LocalTransportJacobian",
           "DenseSystem", "dense_system"]

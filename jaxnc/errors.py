"""Exceptions of jaxnc and a helper to validate only values that are known now."""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["JaxncError", "ParameterError", "ProtocolError", "SolverError", "DataError",
           "ResourceError"]


class JaxncError(Exception):
    """Base class of every error jaxnc raises on purpose; the CLI prints its message alone."""


class ParameterError(JaxncError, ValueError):
    """An impossible parameter or geometry value (negative rate, coverage outside [0, 1], ...)."""


class ProtocolError(JaxncError, ValueError):
    """A protocol string or step that cannot be understood."""


class SolverError(JaxncError, RuntimeError):
    """The ODE solver did not reach the end of a protocol step."""


class DataError(JaxncError, ValueError):
    """A data file that cannot be read as PLQY data."""


class ResourceError(JaxncError, RuntimeError):
    """The machine ran out of a resource (device memory) for a valid request; the message
    says what to make smaller."""


def is_concrete(value) -> bool:
    """True when `value` holds numbers now (not a tracer inside `jit`/`grad`/`vmap`)."""
    try:
        jax.tree_util.tree_map(np.asarray, value)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        return False
    return True


def runtime_error_message(err: Exception) -> str:
    """An `eqx.EquinoxRuntimeError`'s own message in one line, without the traceback equinox
    puts before it."""
    text = str(err)
    marker = "EquinoxRuntimeError: "
    if marker in text:
        text = text.split(marker, 1)[1]
    paragraph = text.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split()) or type(err).__name__

"""jaxnc's own table of solver outcomes, keyed by the public members of `diffrax.RESULTS`.

A protocol step reports an integer code (0: success) so that batched and scanned solves can
carry it as an array; `result_code` maps a diffrax result to it inside `jit`, and `message`
turns it into one line for the user. Members that an installed diffrax does not have are
skipped, so the table works across diffrax versions.
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp

__all__ = ["result_code", "message", "RESULT_NAMES"]

_MESSAGES = {
    "successful": "success",
    "max_steps_reached": "the maximum number of solver steps was reached (raise max_steps)",
    "dt_min_reached": "the step size fell below the solver's minimum",
    "max_steps_rejected": "too many rejected steps in a row",
    "nonlinear_max_steps_reached": "the implicit stage's nonlinear solve did not converge",
    "nonlinear_divergence": "the implicit stage's nonlinear solve diverged",
    "nonfinite": "non-finite (NaN or inf) values appeared in the solve",
    "nonfinite_input": "a linear solve received non-finite (NaN or inf) input",
    "singular": "a linear solve met a singular matrix or returned non-finite output",
    "breakdown": "an iterative linear solve broke down",
    "stagnation": "an iterative linear solve stagnated",
    "conlim": "a linear solve's condition number exceeded its limit",
    "event_occurred": "an event stopped the solve",
    "internal_error": "diffrax reported an internal error",
}

RESULT_NAMES = tuple(name for name in _MESSAGES if hasattr(diffrax.RESULTS, name))
_UNKNOWN = len(RESULT_NAMES)


_NONFINITE = RESULT_NAMES.index("nonfinite") if "nonfinite" in RESULT_NAMES else _UNKNOWN


def result_code(result, ys=None) -> jnp.ndarray:
    """Integer code of a diffrax result (traceable): its index in `RESULT_NAMES`, 0 for
    success, `len(RESULT_NAMES)` for a member this table does not know.

    With the solve's saved states `ys`, a success whose states are not all finite is reported
    as `nonfinite`: with `EQX_ON_ERROR=nan` (the command line's mode) a failed runtime check
    inside a step returns NaN instead of raising, and the step may still report success.
    """
    code = jnp.asarray(_UNKNOWN, dtype=jnp.int32)
    for index, name in enumerate(RESULT_NAMES):
        code = jnp.where(result == getattr(diffrax.RESULTS, name), index, code)
    if ys is not None:
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(ys)]))
        code = jnp.where((code == 0) & ~finite, _NONFINITE, code)
    return code


def message(code: int) -> str:
    """One line saying what the solver outcome `code` means."""
    code = int(code)
    if 0 <= code < _UNKNOWN:
        return _MESSAGES[RESULT_NAMES[code]]
    return f"an unrecognised solver outcome (code {code})"

"""Design metrics: scalar figures of merit read from one simulated protocol.

Every metric is a smooth function of the saved PLQY and ligand totals, so `jax.grad`/`jacfwd`
through the solver give its derivative with respect to the assembly geometry. Crossing times
(`t90_activation_h`, `dark_half_life_h`) are read off the saved curve by cubic Hermite
interpolation between the two saved times that bracket the crossing, with the slopes dPLQY/dt
taken from the model's vector field at the saved states. The interpolant is C1 in time, so the
crossing time is a continuously differentiable function of the parameters (a piecewise-linear
read-out has derivative jumps wherever the crossing moves to the next bracket), and its error
falls as the fourth power of the save spacing.

Where a metric is undefined for a point (no dark step, no second cycle, no rise) it is NaN with
a flag; the sweep turns flags into the `reason` column.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ..errors import ParameterError
from ..protocol import Protocol

__all__ = ["Metric", "METRICS", "DEFAULT_METRICS", "check_metrics", "supported_metrics",
           "save_grid", "evaluate"]


@dataclasses.dataclass(frozen=True)
class Metric:
    """A design metric: its name (with unit), what it measures, and which way is better."""

    name: str
    unit: str
    description: str
    goal: str  # "max", "min" or "zero" (best at 0, either sign worse)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("plqy_activated", "fraction",
           "PLQY at the end of the first light step", "max"),
    Metric("t90_activation_h", "h",
           "time into the first light step at which PLQY has made 90 % of that step's change "
           "(NaN where it changes by less than 1 point)", "min"),
    Metric("plqy_retained", "fraction",
           "PLQY at the end of the first dark step after the first light step", "max"),
    Metric("dark_half_life_h", "h",
           "time into that dark step at which PLQY has fallen half-way back to its value before "
           "the light (beyond the step: the pseudo-second-order law through its end; NaN "
           "without 1 point of activation)", "max"),
    Metric("cycle_repeatability", "fraction",
           "mean difference of successive light-step PLQY maxima (0: cycles repeat; negative: "
           "each cycle reaches less)", "zero"),
    Metric("ligand_lost_fraction", "fraction",
           "ligand escaped from the assembly by the protocol's end, over the ligand it started "
           "with", "min"),
    Metric("pl_peak_nm", "nm",
           "PL peak wavelength at the end of the first light step (coupling, downhill transfer "
           "and reabsorption; 'max' is only a convention: give the goal a colour calls for)",
           "max"),
)}
"""Metric name -> `Metric`: every design metric `sweep` and `optimize_design` can compute."""
DEFAULT_METRICS = tuple(m for m in METRICS if m != "pl_peak_nm")
"""Every metric but `pl_peak_nm` (on request: a spectrum per point costs more than the rest):
what a sweep computes by default."""

# Flags per metric (decoded by `reason`).
OK, EXTRAPOLATED, UNDEFINED = 0, 1, 2
# A rise below one PLQY point (fraction 0.01) under light is no activation: t90 and the dark
# half-life of such a rise would time noise-sized changes (the paper's PLQY spread is ±2.2
# points), so they are NaN there.
NO_ACTIVATION = 0.01


def check_metrics(metrics, protocol: Protocol) -> tuple[str, ...]:
    """Validate metric names against `METRICS` and the protocol's steps.

    **Raises:** `ParameterError` naming an unknown metric, or one the protocol cannot give.
    """
    metrics = tuple(metrics)
    if not metrics:
        raise ParameterError("metrics is empty; choose from " + ", ".join(METRICS))
    for m in metrics:
        if m not in METRICS:
            raise ParameterError(f"unknown metric {m!r}; choose from {', '.join(METRICS)}")
    if len(set(metrics)) != len(metrics):
        raise ParameterError(f"metrics repeat a name: {list(metrics)}")
    for m in metrics:
        why = _unsupported(m, protocol)
        if why:
            raise ParameterError(why)
    return metrics


def supported_metrics(protocol: Protocol) -> tuple[str, ...]:
    """The metrics, in `METRICS` order, that `protocol` has the steps for."""
    return tuple(m for m in METRICS if not _unsupported(m, protocol))


def _unsupported(metric: str, protocol: Protocol) -> str:
    """Why the protocol cannot give `metric` ("" if it can)."""
    kinds = protocol.kinds
    if "light" not in kinds:
        return (f"protocol {protocol} has no light step; every design metric is read from "
                f"the first light step")
    first = kinds.index("light")
    if metric in ("plqy_retained", "dark_half_life_h") and "dark" not in kinds[first + 1:]:
        return (f"{metric} needs a dark step after the first light step; protocol {protocol} "
                f"has none (e.g. 'light 3h; dark 100h')")
    if metric == "cycle_repeatability" and kinds.count("light") < 2:
        return (f"cycle_repeatability needs two light steps; protocol {protocol} has one "
                f"(e.g. 'light 3h; dark 100h; light 3h')")
    return ""


def save_grid(protocol: Protocol, saves_per_step: int):
    """Saved times `(n_steps, K)` from each step's start (h), denser early in each step.

    Spaced quadratically, `duration * u**2`: PLQY changes fastest right after the light goes on
    or off, and crossing times are interpolated between neighbouring saves.
    """
    u = jnp.linspace(0.0, 1.0, int(saves_per_step))
    return protocol.duration_h[:, None] * u[None, :] ** 2


_NEWTON_ITERATIONS = 6


def _crossing(t, f, df_dt):
    """First time at which `f` (sampled at `t`, slopes `df_dt`) reaches 0 from below; and
    whether it does within the samples.

    The bracketing pair of samples is found on the samples; inside it the cubic Hermite
    interpolant is solved by Newton's method from the linear estimate (unrolled, so that
    derivatives flow through it).
    """
    hit = f >= 0.0
    reached = jnp.any(hit)
    i = jnp.maximum(jnp.argmax(hit), 1)
    t0, t1, f0, f1 = t[i - 1], t[i], f[i - 1], f[i]
    dt = t1 - t0
    m0, m1 = df_dt[i - 1] * dt, df_dt[i] * dt  # slopes per unit of s = (t - t0) / dt
    span = f1 - f0
    s = jnp.clip(-f0 / jnp.where(span > 0, span, 1.0), 0.0, 1.0)
    for _ in range(_NEWTON_ITERATIONS):
        h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
        h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
        value = h00 * f0 + h10 * m0 + h01 * f1 + h11 * m1
        slope = ((6 * s**2 - 6 * s) * f0 + (3 * s**2 - 4 * s + 1) * m0
                 + (6 * s - 6 * s**2) * f1 + (3 * s**2 - 2 * s) * m1)
        step = value / jnp.where(slope > 0, slope, jnp.maximum(span, 1e-300))
        s = jnp.clip(s - step, 0.0, 1.0)
    t_cross = jnp.where(hit[0], t[0], t0 + s * dt)
    return t_cross, reached


def evaluate(metrics: tuple[str, ...], kinds: tuple[str, ...], local_times_h, obs,
             plqy_rate_per_h):
    """Metric values and flags from one solve.

    **Arguments:**

    - `metrics`: names (checked with [`check_metrics`][]).
    - `kinds`: the protocol's step kinds.
    - `local_times_h`: `(n_steps, K)` saved times from each step's start (h).
    - `obs`: observables as returned by `solve_at`, leaves `(n_steps, K)`; with
      `pl_peak_nm` among the metrics, also `obs["pl_peak_nm"]`, the peak at the end of the
      first light step (a scalar, from the caller).
    - `plqy_rate_per_h`: dPLQY/dt at the saved states, `(n_steps, K)` (1/h).

    **Returns:** `(values, flags)`, arrays of shape `(len(metrics),)`; flags are `OK`,
    `EXTRAPOLATED` or `UNDEFINED` (value NaN).
    """
    plqy = obs["plqy"]
    a = kinds.index("light")
    dark_after = [k for k in range(a + 1, len(kinds)) if kinds[k] == "dark"]
    d = dark_after[0] if dark_after else None
    lights = [k for k, kind in enumerate(kinds) if kind == "light"]
    before = plqy[a, 0]
    activated = plqy[a, -1]
    change = activated - before
    no_change = jnp.abs(change) < NO_ACTIVATION
    nan = jnp.asarray(jnp.nan)
    values, flags = [], []
    for name in metrics:
        flag = jnp.asarray(OK)
        if name == "plqy_activated":
            value = activated
        elif name == "t90_activation_h":
            sign = jnp.where(change >= 0, 1.0, -1.0)
            value, _ = _crossing(local_times_h[a], sign * (plqy[a] - before - 0.9 * change),
                                 sign * plqy_rate_per_h[a])
            value = jnp.where(no_change, nan, value)
            flag = jnp.where(no_change, UNDEFINED, OK)
        elif name == "plqy_retained":
            value = plqy[d, -1]
        elif name == "dark_half_life_h":
            # Excess over the pre-light PLQY; half-life: time for it to halve in the dark.
            excess = plqy[d] - before
            x0, x_end = excess[0], excess[-1]
            sign = jnp.where(x0 >= 0, 1.0, -1.0)
            t_half, reached = _crossing(local_times_h[d], sign * (0.5 * x0 - excess),
                                        -sign * plqy_rate_per_h[d])
            # Second order, x = x0 / (1 + k x0 t): the half-life is 1 / (k x0) = T / (x0/x_T - 1).
            ratio = x0 / jnp.where(x_end != 0, x_end, 1.0)
            decays = (ratio > 1.0) & (x_end != 0) & ~no_change
            duration = local_times_h[d, -1]
            t_pso = duration / jnp.where(decays, ratio - 1.0, 1.0)
            value = jnp.where(reached, t_half, jnp.where(decays, t_pso, nan))
            value = jnp.where(no_change, nan, value)
            flag = jnp.where(no_change | (~reached & ~decays), UNDEFINED,
                             jnp.where(reached, OK, EXTRAPOLATED))
        elif name == "cycle_repeatability":
            maxima = jnp.stack([jnp.max(plqy[k]) for k in lights])
            value = (maxima[-1] - maxima[0]) / (len(lights) - 1)
        elif name == "pl_peak_nm":
            value = obs["pl_peak_nm"]
        elif name == "ligand_lost_fraction":
            total0 = (obs["ligand_adsorbed"][0, 0] + obs["ligand_free"][0, 0]
                      + obs["ligand_lost"][0, 0])
            value = obs["ligand_lost"][-1, -1] / total0
        else:  # check_metrics rejects it first
            raise ParameterError(f"unknown metric {name!r}")
        values.append(jnp.asarray(value, dtype=float))
        flags.append(jnp.asarray(flag, dtype=jnp.int32))
    return jnp.stack(values), jnp.stack(flags)


def reason(metrics, flags: np.ndarray) -> str:
    """Human-readable notes for one point's flags ("" when every metric is plain)."""
    notes = []
    for name, flag in zip(metrics, np.asarray(flags), strict=True):
        if flag == EXTRAPOLATED:
            notes.append(f"{name} extrapolated beyond the dark step (pseudo-second-order)")
        elif flag == UNDEFINED:
            why = ("PLQY changed by less than 1 point under light"
                   if name == "t90_activation_h"
                   else "less than 1 PLQY point of activation, or no decay in the dark")
            notes.append(f"{name} undefined: {why}")
    return "; ".join(notes)

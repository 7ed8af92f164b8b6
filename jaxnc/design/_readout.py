"""What the design metrics read from one simulated protocol, and how they read crossing times.

Every metric is a smooth function of the saved PLQY and ligand totals, so `jax.grad`/`jacfwd`
through the solver give its derivative with respect to the assembly geometry. Crossing times
are read off the saved curve by cubic Hermite interpolation between the two saved times that
bracket the crossing, with the slopes dPLQY/dt taken from the model's vector field at the
saved states. The interpolant is C1 in time, so the crossing time is a continuously
differentiable function of the parameters (a piecewise-linear read-out has derivative jumps
wherever the crossing moves to the next bracket), and its error falls as the fourth power of
the save spacing.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..protocol import Protocol

__all__ = ["Reading", "save_grid", "crossing", "OK", "EXTRAPOLATED", "UNDEFINED",
           "NO_ACTIVATION"]

OK = 0
"""A metric's flag at a point: read as is."""
EXTRAPOLATED = 1
"""A metric's flag at a point: extrapolated beyond its step (the dark half-life by the
pseudo-second-order law)."""
UNDEFINED = 2
"""A metric's flag at a point: undefined there (NaN), e.g. no activation to time."""
NO_ACTIVATION = 0.01
"""A rise below one PLQY point (fraction 0.01) under light is no activation: t90 and the dark
half-life of such a rise would time noise-sized changes (the paper's PLQY spread is ±2.2
points), so they are NaN there."""

_NEWTON_ITERATIONS = 6


def save_grid(protocol: Protocol, saves_per_step: int):
    """Saved times `(n_steps, K)` from each step's start (h), denser early in each step.

    Spaced quadratically, `duration * u**2`: PLQY changes fastest right after the light goes on
    or off, and crossing times are interpolated between neighbouring saves.
    """
    u = jnp.linspace(0.0, 1.0, int(saves_per_step))
    return protocol.duration_h[:, None] * u[None, :] ** 2


@dataclasses.dataclass(frozen=True)
class Reading:
    """One solve as the metrics see it.

    **Fields:** `kinds` (the protocol's step kinds); `local_times_h` (`(n_steps, K)` saved
    times from each step's start, h); `obs` (observables as `solve_at` returns them, leaves
    `(n_steps, K)`; with a spectral metric also `pl_peak_nm`, the peak at the end of the first
    light step, a scalar); `plqy_rate_per_h` (dPLQY/dt at the saved states, `(n_steps, K)`,
    1/h).
    """

    kinds: tuple
    local_times_h: object
    obs: dict
    plqy_rate_per_h: object

    @property
    def plqy(self):
        return self.obs["plqy"]

    @property
    def light(self) -> int:
        """The first light step."""
        return self.kinds.index("light")

    @property
    def dark(self) -> int | None:
        """The first dark step after the first light step (None without one)."""
        after = [k for k in range(self.light + 1, len(self.kinds)) if self.kinds[k] == "dark"]
        return after[0] if after else None

    @property
    def lights(self) -> list[int]:
        return [k for k, kind in enumerate(self.kinds) if kind == "light"]

    @property
    def before(self):
        """PLQY before the first light."""
        return self.plqy[self.light, 0]

    @property
    def change(self):
        """PLQY change over the first light step."""
        return self.plqy[self.light, -1] - self.before

    @property
    def no_activation(self):
        """Whether the first light step changed the PLQY by less than `NO_ACTIVATION`."""
        return jnp.abs(self.change) < NO_ACTIVATION


def crossing(t, f, df_dt):
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

"""Design metrics: scalar figures of merit read from one simulated protocol, one class each.

A metric says which protocols it can be read from (`unsupported`), reads its value and a flag
from a [`Reading`][jaxnc.design.Reading] (`read`), and says which way is better (`goal`, a
[`Goal`][jaxnc.design.Goal]). Where a metric is undefined for a point (no rise, no decay) it
is NaN with a flag; the sweep turns flags into the `reason` column. Names are checked once,
at the boundary ([`check_metrics`][jaxnc.design.check_metrics]), and name their `Metric` in
[`METRICS`][jaxnc.design.METRICS].
"""

from __future__ import annotations

import abc
import dataclasses
import enum

import jax.numpy as jnp
import numpy as np

from ..errors import ParameterError
from ..protocol import Protocol
from ._readout import EXTRAPOLATED, OK, UNDEFINED, Reading, crossing

__all__ = ["Goal", "Metric", "METRICS", "DEFAULT_METRICS", "check_metrics",
           "supported_metrics", "evaluate", "reason"]


class Goal(enum.Enum):
    """Which way a metric is better: larger (`MAX`), smaller (`MIN`), or nearest zero
    (`ZERO`, either sign worse)."""

    MAX = "max"
    MIN = "min"
    ZERO = "zero"

    @classmethod
    def parse(cls, text: str) -> Goal:
        try:
            return cls(text)
        except ValueError:
            raise ParameterError(f"goal must be one of {', '.join(g.value for g in cls)}, got "
                                 f"{text!r}") from None

    def score(self, values):
        """`values` turned so that larger is better."""
        if self is Goal.MAX:
            return values
        return -values if self is Goal.MIN else -np.abs(values)


@dataclasses.dataclass(frozen=True)
class Metric(abc.ABC):
    """A design metric: its name (with unit), what it measures, which way is better, and how
    it is read from a solve. Concrete metrics are the subclasses in [`METRICS`][]."""

    name: str
    unit: str
    description: str
    goal: Goal
    #: Whether reading it needs the PL spectrum at the end of the first light step (a
    #: spectrum per point costs more than every other metric together).
    needs_spectrum: bool = False

    def unsupported(self, protocol: Protocol) -> str:
        """Why `protocol` cannot give this metric ("" if it can)."""
        if "light" not in protocol.kinds:
            return (f"protocol {protocol} has no light step; every design metric is read "
                    f"from the first light step")
        return ""

    @abc.abstractmethod
    def read(self, r: Reading):
        """`(value, flag)` from one solve; flag `OK`, `EXTRAPOLATED` or `UNDEFINED`."""

    def undefined_because(self) -> str:
        """Why the value can be undefined (the `reason` column)."""
        return "less than 1 PLQY point of activation, or no decay in the dark"


@dataclasses.dataclass(frozen=True)
class _NeedsDark(Metric):
    def unsupported(self, protocol: Protocol) -> str:
        why = super().unsupported(protocol)
        kinds = protocol.kinds
        if not why and "dark" not in kinds[kinds.index("light") + 1:]:
            why = (f"{self.name} needs a dark step after the first light step; protocol "
                   f"{protocol} has none (e.g. 'light 3h; dark 100h')")
        return why


@dataclasses.dataclass(frozen=True)
class PLQYActivated(Metric):
    def read(self, r: Reading):
        return r.plqy[r.light, -1], OK


@dataclasses.dataclass(frozen=True)
class T90Activation(Metric):
    def read(self, r: Reading):
        a, change = r.light, r.change
        sign = jnp.where(change >= 0, 1.0, -1.0)
        value, _ = crossing(r.local_times_h[a], sign * (r.plqy[a] - r.before - 0.9 * change),
                            sign * r.plqy_rate_per_h[a])
        value = jnp.where(r.no_activation, jnp.nan, value)
        return value, jnp.where(r.no_activation, UNDEFINED, OK)

    def undefined_because(self) -> str:
        return "PLQY changed by less than 1 point under light"


@dataclasses.dataclass(frozen=True)
class PLQYRetained(_NeedsDark):
    def read(self, r: Reading):
        return r.plqy[r.dark, -1], OK


@dataclasses.dataclass(frozen=True)
class DarkHalfLife(_NeedsDark):
    def read(self, r: Reading):
        d, nan = r.dark, jnp.asarray(jnp.nan)
        # Excess over the pre-light PLQY; half-life: time for it to halve in the dark.
        excess = r.plqy[d] - r.before
        x0, x_end = excess[0], excess[-1]
        sign = jnp.where(x0 >= 0, 1.0, -1.0)
        t_half, reached = crossing(r.local_times_h[d], sign * (0.5 * x0 - excess),
                                   -sign * r.plqy_rate_per_h[d])
        # Second order, x = x0 / (1 + k x0 t): the half-life is 1 / (k x0) = T / (x0/x_T - 1).
        ratio = x0 / jnp.where(x_end != 0, x_end, 1.0)
        decays = (ratio > 1.0) & (x_end != 0) & ~r.no_activation
        duration = r.local_times_h[d, -1]
        t_pso = duration / jnp.where(decays, ratio - 1.0, 1.0)
        value = jnp.where(reached, t_half, jnp.where(decays, t_pso, nan))
        value = jnp.where(r.no_activation, nan, value)
        flag = jnp.where(r.no_activation | (~reached & ~decays), UNDEFINED,
                         jnp.where(reached, OK, EXTRAPOLATED))
        return value, flag


@dataclasses.dataclass(frozen=True)
class CycleRepeatability(Metric):
    def unsupported(self, protocol: Protocol) -> str:
        why = super().unsupported(protocol)
        if not why and protocol.kinds.count("light") < 2:
            why = (f"cycle_repeatability needs two light steps; protocol {protocol} has one "
                   f"(e.g. 'light 3h; dark 100h; light 3h')")
        return why

    def read(self, r: Reading):
        lights = r.lights
        maxima = jnp.stack([jnp.max(r.plqy[k]) for k in lights])
        return (maxima[-1] - maxima[0]) / (len(lights) - 1), OK


@dataclasses.dataclass(frozen=True)
class LigandLostFraction(Metric):
    def read(self, r: Reading):
        obs = r.obs
        total0 = (obs["ligand_adsorbed"][0, 0] + obs["ligand_free"][0, 0]
                  + obs["ligand_lost"][0, 0])
        return obs["ligand_lost"][-1, -1] / total0, OK


@dataclasses.dataclass(frozen=True)
class PLPeak(Metric):
    def read(self, r: Reading):
        return r.obs["pl_peak_nm"], OK


METRICS: dict[str, Metric] = {m.name: m for m in (
    PLQYActivated("plqy_activated", "fraction",
                  "PLQY at the end of the first light step", Goal.MAX),
    T90Activation("t90_activation_h", "h",
                  "time into the first light step at which PLQY has made 90 % of that step's "
                  "change (NaN where it changes by less than 1 point)", Goal.MIN),
    PLQYRetained("plqy_retained", "fraction",
                 "PLQY at the end of the first dark step after the first light step",
                 Goal.MAX),
    DarkHalfLife("dark_half_life_h", "h",
                 "time into that dark step at which PLQY has fallen half-way back to its "
                 "value before the light (beyond the step: the pseudo-second-order law "
                 "through its end; NaN without 1 point of activation)", Goal.MAX),
    CycleRepeatability("cycle_repeatability", "fraction",
                       "mean difference of successive light-step PLQY maxima (0: cycles "
                       "repeat; negative: each cycle reaches less)", Goal.ZERO),
    LigandLostFraction("ligand_lost_fraction", "fraction",
                       "ligand escaped from the assembly by the protocol's end, over the "
                       "ligand it started with", Goal.MIN),
    PLPeak("pl_peak_nm", "nm",
           "PL peak wavelength at the end of the first light step (coupling, downhill "
           "transfer and reabsorption; 'max' is only a convention: give the goal a colour "
           "calls for)", Goal.MAX, needs_spectrum=True),
)}
"""Metric name -> `Metric`: every design metric `sweep` and `optimize_design` can compute."""
DEFAULT_METRICS = tuple(m for m in METRICS if not METRICS[m].needs_spectrum)
"""Every metric but `pl_peak_nm` (on request: a spectrum per point costs more than the rest):
what a sweep computes by default."""


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
        why = METRICS[m].unsupported(protocol)
        if why:
            raise ParameterError(why)
    return metrics


def supported_metrics(protocol: Protocol) -> tuple[str, ...]:
    """The metrics, in `METRICS` order, that `protocol` has the steps for."""
    return tuple(m for m, metric in METRICS.items() if not metric.unsupported(protocol))


def evaluate(metrics, reading: Reading):
    """`(values, flags)` of `metrics` (names or `Metric`s), arrays of shape `(len(metrics),)`,
    from one solve; flags are `OK`, `EXTRAPOLATED` or `UNDEFINED` (value NaN)."""
    values, flags = [], []
    for metric in metrics:
        metric = METRICS[metric] if isinstance(metric, str) else metric
        value, flag = metric.read(reading)
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
            notes.append(f"{name} undefined: {METRICS[name].undefined_because()}")
    return "; ".join(notes)

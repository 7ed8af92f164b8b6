"""From measured data to the model's input: the protocol a curve implies, and where each data
row falls among the solver's save times."""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..protocol import Protocol, Step
from ._dataset import Curve

__all__ = ["protocol_from_curve", "curve_save_grid"]


def protocol_from_curve(curve: Curve, *, irradiance_mw_cm2: float = 10.0,
                        wavelength_nm: float = 468.0) -> Protocol:
    """Protocol implied by a curve's condition columns: `light`, `temperature_k` and, where
    the data have them, the light's `irradiance_mw_cm2` and `excitation_nm` per row (else the
    arguments' values, mW/cm² and nm).

    Consecutive rows with the same conditions form one step. A step ends at the time of its
    last row (the condition is taken to change right after that measurement); the first step
    starts at t = 0.

    **Raises:** `DataError` without a `light` column, or when a step would have no duration.
    """
    if curve.light is None:
        raise DataError(f"sample {curve.sample!r}: no 'light' column; give the protocol "
                        f"explicitly")
    n = len(curve)

    def column(values, default):
        return np.full(n, float(default)) if values is None else np.asarray(values, float)

    temps = column(curve.temperature_k, 298.15)
    irradiance = column(curve.irradiance_mw_cm2, irradiance_mw_cm2)
    wavelength = column(curve.excitation_nm, wavelength_nm)
    lit = np.asarray(curve.light) == 1  # the light's values matter in light rows only
    conditions = np.stack([curve.light, temps, irradiance * lit, wavelength * lit], axis=1)
    steps, start, row = [], 0.0, 0
    while row < n:
        end = row
        while end + 1 < n and np.array_equal(conditions[end + 1], conditions[row]):
            end += 1
        t_end = float(curve.time_h[end])
        if t_end <= start:
            raise DataError(f"sample {curve.sample!r}: the step starting at row {row + 2} has "
                            f"no duration (time {t_end:g} h)")
        if curve.light[row] == 1:
            steps.append(Step.light(t_end - start, wavelength_nm=float(wavelength[row]),
                                    irradiance_mw_cm2=float(irradiance[row]),
                                    temperature_k=float(temps[row])))
        else:
            steps.append(Step.dark(t_end - start, temperature_k=float(temps[row])))
        start, row = t_end, end + 1
    return Protocol(steps)


def curve_save_grid(time_h: np.ndarray, protocol: Protocol):
    """Per-step local save times (h from the step's start, padded with the step's end) and,
    for every data row, its step and its slot among that step's save times."""
    durations = np.asarray(protocol.duration_h)
    bounds = np.concatenate([[0.0], np.cumsum(durations)])
    if time_h.max() > bounds[-1] * (1 + 1e-12):
        raise DataError(f"data run to {time_h.max():g} h, past the protocol's {bounds[-1]:g} h")
    # A time on a boundary belongs to the earlier step.
    step = np.clip(np.searchsorted(bounds, time_h, side="left") - 1, 0, len(durations) - 1)
    per_step = [time_h[step == k] - bounds[k] for k in range(len(durations))]
    width = max(len(p) for p in per_step) + 1
    grid = np.zeros((len(durations), width))
    slots = np.zeros(len(time_h), dtype=int)
    for k, local in enumerate(per_step):
        grid[k, : len(local)] = local
        grid[k, len(local):] = durations[k]
        slots[step == k] = np.arange(len(local))
    return grid, step, slots

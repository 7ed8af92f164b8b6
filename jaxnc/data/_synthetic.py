"""Synthetic data: PLQY curves simulated with known parameters plus noise, for testing fits."""

from __future__ import annotations

import numpy as np

from ..geometry import Assembly
from ..parameters import Parameters
from ..protocol import Protocol
from ._dataset import Curve, Dataset

__all__ = ["synthetic_dataset"]


def synthetic_dataset(
    assembly: Assembly | dict,
    params: Parameters | dict,
    protocols: dict,
    *,
    model: str = "mean_field",
    saves_per_step: int = 31,
    noise: float = 0.01,
    seed: int = 0,
    lifetimes: bool = False,
) -> Dataset:
    """Simulate one curve per sample and add multiplicative Gaussian noise.

    **Arguments:**

    - `assembly`: one [`Assembly`][] for all samples, or `{sample: Assembly}`.
    - `params`: one `Parameters` for all samples, or `{sample: Parameters}` (e.g. a different
      starting coverage per sample).
    - `protocols`: `{sample: Protocol or protocol text}`; their order is the dataset's order.
    - `saves_per_step`: rows per protocol step (evenly spaced, as `simulate` saves them).
    - `noise`: relative standard deviation: `plqy * (1 + noise * N(0, 1))`, clipped to [0, 1].
    - `seed`: NumPy seed of the noise.
    - `lifetimes`: also a `lifetime_ns` column (average lifetime, same relative noise).

    **Returns:** a [`Dataset`][] with `time_h`, `plqy`, `light` and `temperature_k` per curve,
    (and `lifetime_ns`) per curve, as `Dataset.from_csv` would read them.
    """
    from ..solve import simulate

    rng = np.random.default_rng(seed)
    curves = []
    for sample, proto in protocols.items():
        proto = Protocol.parse(proto) if isinstance(proto, str) else proto
        asm = assembly[sample] if isinstance(assembly, dict) else assembly
        p = params[sample] if isinstance(params, dict) else params
        sol = simulate(asm, p, proto, model=model, saves_per_step=saves_per_step)
        clean = np.asarray(sol.plqy)
        y = np.clip(clean * (1 + noise * rng.standard_normal(clean.shape)), 0.0, 1.0)
        temps = np.asarray(proto.temperature_k)[np.asarray(sol.step_index)]
        tau = None
        if lifetimes:
            tau = np.asarray(sol.lifetime_ns)
            tau = tau * (1 + noise * rng.standard_normal(tau.shape))
        curves.append(Curve(sample=str(sample), time_h=np.asarray(sol.time_h, dtype=float),
                            plqy=y, light=np.asarray(sol.light, dtype=float),
                            temperature_k=temps, lifetime_ns=tau))
    return Dataset(curves=tuple(curves), source="synthetic")

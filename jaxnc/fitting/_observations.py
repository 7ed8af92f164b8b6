"""What the model is compared with: every kind of measurement of a curve (PLQY, lifetimes, PL
intensity under the light, spectra), its noise, and the residuals of one sample.

Residuals are in PLQY-equivalent units: each kind's misfit is divided by its noise and
multiplied by the PLQY noise (`reference`), so the loss of a PLQY-only fit is unchanged and a
kind with a smaller noise counts more. The weights are arrays (traced leaves), so fits that
differ only in their noise share one compiled program.

- **PLQY** (fraction): `model - data`.
- **Lifetime** (ns): `model - data`, weight `reference / noise` (or the user's
  `lifetime_weight_per_ns`, a PLQY fraction per ns).
- **PL intensity** (counts under the step's light, any scale): the model's intensity is
  `c * PLQY * photons absorbed per second and cm² of the film at the step's irradiance
  and wavelength`, `c` an unknown collection factor per sample. Residuals are on the log scale
  (relative noise, counts over decades), `log model + log c - log data`; `log c` enters
  linearly, so it is solved exactly at every evaluation (the mean of `log data - log model`
  over the sample's rows: variable projection) and the residuals with it are differentiated
  as they are. A row under no light (a dark step) has no intensity in the model: it is not
  fitted (the fit's notes count them). The PLQY under the activating light is taken as the
  probe's (the same cubes emit; the depth profile of the two lights differs slightly).
- **Spectrum** (counts per wavelength, any scale): each measured spectrum against the
  model's at that time, `a * model - data` over the measured wavelengths, data divided by
  their maximum; the amplitude `a` is solved exactly (least squares) at each evaluation.
  Whole normalised spectra rather than peak and width: the shape carries what separates
  the homogeneous width from the size spread and the reabsorbed blue edge, which two
  numbers per spectrum would not.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ParameterError
from ..solve import spectrum_of_state

__all__ = ["KINDS", "MASKS", "UNITS", "Observed", "Noise", "noise_levels", "kind_weights",
           "observed_group"]

KINDS = ("plqy", "lifetime", "intensity", "spectrum")
MASKS = {"plqy": "plqy_mask", "lifetime": "lifetime_mask", "intensity": "intensity_mask",
         "spectrum": "spectrum_mask"}  # the `Observed` field saying what of each is measured
UNITS = {"plqy": "fraction", "lifetime": "ns", "intensity": "relative (log)",
         "spectrum": "fraction of the spectrum's maximum"}
# Assumed where the data are too few to estimate a noise (fewer than 5 usable points).
DEFAULT_NOISE = {"plqy": 0.01, "lifetime": 1.0, "intensity": 0.05, "spectrum": 0.02}


class Observed(eqx.Module):
    """One group's measurements (leading axis: samples); a kind absent from every sample of
    the group is None. Rows are the curves' rows, padded (mask 0) to the longest curve;
    spectra are `(samples, R, W)`, `R` spectra at `(spectrum_step, spectrum_slot)`."""

    weights: jax.Array  # (samples, len(KINDS)): PLQY-equivalent weight of each kind
    plqy: jax.Array
    plqy_mask: jax.Array
    lifetime: jax.Array | None = None
    lifetime_mask: jax.Array | None = None
    log_intensity: jax.Array | None = None
    intensity_mask: jax.Array | None = None
    spectrum_nm: jax.Array | None = None
    spectrum_step: jax.Array | None = None
    spectrum_slot: jax.Array | None = None
    spectrum: jax.Array | None = None
    spectrum_mask: jax.Array | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        present = (True, self.lifetime is not None, self.log_intensity is not None,
                   self.spectrum is not None)
        return tuple(k for k, p in zip(KINDS, present, strict=True) if p)

    @property
    def n_extra(self) -> int:
        """Extra outputs after the residuals: the log collection factor with intensities."""
        return int(self.log_intensity is not None)

    def spectrum_of(self, model, assembly):
        """`(state, params) -> (W,)` the model's spectrum at this sample's wavelengths."""
        def read(state, params):
            return spectrum_of_state(model, assembly, params, state.coverage, state.charge,
                                     state.damage, self.spectrum_nm)
        return read

    def residuals(self, values: dict, params, model, assembly, protocol, step):
        """One sample's residuals (PLQY-equivalent), then its extra outputs (`n_extra`).
        `values`: the model at the rows: `plqy`, `lifetime_ns` `(n,)`, `spectrum` `(R, W)`;
        `protocol`: the sample's `StepArrays`; `step`: each row's protocol step."""
        w = self.weights
        parts, extra = [(values["plqy"] - self.plqy) * self.plqy_mask], []
        if self.lifetime is not None:
            parts.append(w[1] * (values["lifetime_ns"] - self.lifetime) * self.lifetime_mask)
        if self.log_intensity is not None:
            m = self.intensity_mask > 0
            photons = model.absorbed_photons_per_step(assembly, params, protocol)[step]
            model_i = jnp.where(m, values["plqy"] * photons, 1.0)  # dark rows: not fitted
            d = jnp.where(m, jnp.log(jnp.maximum(model_i, 1e-300)) - self.log_intensity, 0.0)
            count = jnp.sum(self.intensity_mask)
            log_c = -jnp.sum(d * self.intensity_mask) / jnp.maximum(count, 1.0)
            parts.append(w[2] * (d + log_c) * self.intensity_mask)
            extra.append(log_c[None])
        if self.spectrum is not None:
            m, d, mask = values["spectrum"], self.spectrum, self.spectrum_mask
            a = jnp.sum(mask * m * d, axis=1) / jnp.maximum(jnp.sum(mask * m * m, axis=1),
                                                            1e-300)
            parts.append((w[3] * mask * (a[:, None] * m - d)).ravel())
        return jnp.concatenate(parts + extra)


@dataclasses.dataclass
class Noise:
    """One standard deviation of each kind's measurement noise (`UNITS`), and where it came
    from (`source`: `"estimated"` from the data, `"given"` by the user, or `"assumed"`:
    `DEFAULT_NOISE` where too few points tell)."""

    sigma: dict
    source: dict

    @property
    def estimated(self) -> dict:
        return {k: s == "estimated" for k, s in self.source.items()}

    @property
    def reference(self) -> float:
        """The PLQY noise: the unit of every weighted residual."""
        return self.sigma["plqy"]


def kind_weights(noise: Noise, lifetime_weight_per_ns=None) -> np.ndarray:
    """The weight of each kind (`KINDS` order) that makes its residuals PLQY-equivalent:
    `reference / noise`; lifetimes by `lifetime_weight_per_ns` where given (fraction/ns)."""
    s, ref = noise.sigma, noise.reference
    return np.array([1.0, (ref / s["lifetime"] if lifetime_weight_per_ns is None
                           else float(lifetime_weight_per_ns)),
                     ref / s["intensity"], ref / s["spectrum"]])


def _cubic_scatter(x, y, groups) -> list[float]:
    """Each point against the cubic through its two neighbours on either side (same group,
    increasing `x`), scaled to the noise's deviation: for white noise of deviation `s` the
    difference `y_i - sum_j w_j y_j` (`w_j` the cubic's Lagrange weights at `x_i`) has
    deviation `s sqrt(1 + sum w_j^2)`. A smooth curve cancels to third order, where a straight
    line through the neighbours would read a rise's curvature as noise."""
    x, y, groups = (np.asarray(a, dtype=float) for a in (x, y, groups))
    if x.size < 5:
        return []
    i = np.arange(2, x.size - 2)
    window = i[:, None] + np.arange(-2, 3)  # (points, 5): the point in the middle
    ok = (np.all(groups[window] == groups[i, None], axis=1)
          & np.all(np.diff(x[window], axis=1) > 0, axis=1))
    i, window = i[ok], window[ok]
    idx = window[:, [0, 1, 3, 4]]
    xs, x0 = x[idx], x[i][:, None]
    w = np.ones_like(xs)
    for j in range(4):
        for m in range(4):
            if m != j:
                w[:, j] *= (x0[:, 0] - xs[:, m]) / (xs[:, j] - xs[:, m])
    d = (y[i] - np.sum(w * y[idx], axis=1)) / np.sqrt(1.0 + np.sum(w * w, axis=1))
    return d.tolist()


def _fourth_difference_scatter(x, y) -> list[float]:
    """Fourth differences `y[i-2] - 4 y[i-1] + 6 y[i] - 4 y[i+1] + y[i+2]` over evenly spaced
    `x` (within 1 %), scaled to the noise's deviation (their deviation is `sqrt(70) s`):
    a smooth line shape (a spectrum's peak a few grid steps wide) cancels to fourth order, where
    a straight line through neighbours would read its curvature as noise."""
    out = []
    for i in range(2, len(x) - 2):
        dx = np.diff(x[i - 2: i + 3])
        if dx.min() <= 0 or dx.max() > 1.01 * dx.min():
            continue
        d = y[i - 2] - 4 * y[i - 1] + 6 * y[i] - 4 * y[i + 1] + y[i + 2]
        out.append(d / np.sqrt(70.0))
    return out


def _robust_sd(scaled) -> float:
    """The deviation of `scaled` (NaN for fewer than 5): the root mean square of the values
    within 3.5 deviations of the median-based first guess (`median |d| / 0.6745`). The
    median alone ignores the few points where the curve bends faster than the estimator
    follows, but wastes most of the rest (its efficiency for normal noise is 37 %; over
    ~50 correlated differences it scattered by 15-20 %); the trimmed mean square keeps its
    robustness and uses every point (truncation at 3.5 deviations biases it by 0.1 %)."""
    d = np.asarray(scaled, dtype=float)
    if d.size < 5:
        return float("nan")
    first = np.median(np.abs(d)) / 0.6745
    kept = d[np.abs(d) <= 3.5 * first]
    return float(np.sqrt(np.mean(kept**2))) if kept.size >= 5 else float(first)


def noise_levels(data, given: dict | None = None) -> Noise:
    """Each kind's noise estimated from the data alone, where the user gave none.

    Each point is compared with the cubic through its two neighbours on either side (same
    curve, same light/temperature step, `_cubic_scatter`; a spectrum: fourth differences over
    evenly spaced wavelengths, `_fourth_difference_scatter`), the difference scaled to the
    noise's deviation; their deviation (`_robust_sd`: a mean square trimmed at 3.5 deviations
    of a median-based first guess) is robust to the few points where the curve itself bends
    sharply (a light switching on).
    PLQY and lifetimes: absolute; intensity: on the log scale (relative); spectra: relative to
    each spectrum's maximum. A kind with fewer than 5 such points takes `DEFAULT_NOISE`.
    """
    scatter = {k: [] for k in KINDS}
    for c in data.curves:
        cond = np.zeros(len(c)) if c.light is None else np.asarray(c.light, float)
        if c.temperature_k is not None:
            cond = cond + 1e3 * c.temperature_k
        for kind, values in (("plqy", c.plqy), ("lifetime", c.lifetime_ns),
                             ("intensity", c.intensity)):
            if values is None:
                continue
            ok = np.isfinite(values) & ((values > 0) if kind == "intensity" else True)
            y = np.log(values[ok]) if kind == "intensity" else values[ok]
            scatter[kind] += _cubic_scatter(c.time_h[ok], y, cond[ok])
        if c.spectrum is not None:
            for row in c.spectrum:
                ok = np.isfinite(row)
                if ok.sum() >= 5 and np.nanmax(row) > 0:
                    scatter["spectrum"] += _fourth_difference_scatter(
                        c.spectrum_nm[ok], row[ok] / np.nanmax(row))
    given = dict(given or {})
    unknown = sorted(set(given) - set(KINDS))
    if unknown:
        raise ParameterError(f"noise names unknown kind(s) {unknown}; kinds: {', '.join(KINDS)}")
    sigma, source = {}, {}
    for kind in KINDS:
        s = _robust_sd(scatter[kind])
        if kind in given:
            sigma[kind], source[kind] = float(given[kind]), "given"
        elif np.isfinite(s) and s > 0:
            sigma[kind], source[kind] = s, "estimated"
        else:
            sigma[kind], source[kind] = DEFAULT_NOISE[kind], "assumed"
    bad = [k for k, s in sigma.items() if not (np.isfinite(s) and s > 0)]
    if bad:
        raise ParameterError(f"noise of {bad} must be a positive number, got "
                             f"{[given.get(k) for k in bad]}")
    return Noise(sigma, source)


def _pad(a, n, value=0.0):
    a = np.asarray(a, float)
    return np.pad(a, [(0, n - a.shape[0])] + [(0, 0)] * (a.ndim - 1), constant_values=value)


def observed_group(curves, steps, slots, protocols, kinds, noise: Noise,
                   lifetime_weight_per_ns) -> tuple[Observed, dict]:
    """The `Observed` of a group of curves (`steps`, `slots`: each row's protocol step and
    save slot, from `curve_save_grid`), with the `kinds` of the whole fit present; and counts
    of what was left out (`{"dark intensity": n}`)."""
    n = max(len(c) for c in curves)
    w = kind_weights(noise, lifetime_weight_per_ns)
    fields: dict = dict(weights=np.tile(w, (len(curves), 1)), plqy=[], plqy_mask=[])
    left_out = {"dark intensity": 0}
    for c, step, proto in zip(curves, steps, protocols, strict=True):
        fields["plqy"].append(_pad(np.nan_to_num(c.plqy), n))
        fields["plqy_mask"].append(_pad(np.isfinite(c.plqy), n))
        if "lifetime" in kinds:
            tau = np.full(len(c), np.nan) if c.lifetime_ns is None else c.lifetime_ns
            fields.setdefault("lifetime", []).append(_pad(np.nan_to_num(tau), n))
            fields.setdefault("lifetime_mask", []).append(_pad(np.isfinite(tau), n))
        if "intensity" in kinds:
            y = np.full(len(c), np.nan) if c.intensity is None else c.intensity
            lit = np.asarray(proto.irradiance_mw_cm2)[step] > 0
            ok = np.isfinite(y) & (y > 0)
            left_out["dark intensity"] += int((ok & ~lit).sum())
            ok &= lit
            fields.setdefault("log_intensity", []).append(
                _pad(np.where(ok, np.log(np.where(ok, y, 1.0)), 0.0), n))
            fields.setdefault("intensity_mask", []).append(_pad(ok, n))
    if "spectrum" in kinds:
        _spectra_fields(fields, curves, steps, slots)
    stack = {k: jnp.asarray(np.stack(v)) for k, v in fields.items()}
    for k in ("spectrum_step", "spectrum_slot"):
        if k in stack:
            stack[k] = stack[k].astype(int)
    return Observed(**stack), left_out


def _spectra_fields(fields, curves, steps, slots) -> None:
    """Spectra of a group, padded to the most spectra (R) and wavelengths (W) of a sample;
    each spectrum divided by its maximum."""
    rows = [np.flatnonzero(np.isfinite(c.spectrum).any(axis=1)) if c.spectrum is not None
            else np.zeros(0, int) for c in curves]
    n_r = max(1, max(r.size for r in rows))
    n_w = max(1, max(c.spectrum_nm.size if c.spectrum is not None else 0 for c in curves))
    for c, r, step, slot in zip(curves, rows, steps, slots, strict=True):
        nm = np.full(n_w, 500.0)
        data, mask = np.zeros((n_r, n_w)), np.zeros((n_r, n_w))
        if c.spectrum is not None:
            w = c.spectrum_nm.size
            nm[:w] = c.spectrum_nm
            nm[w:] = c.spectrum_nm[-1]
            spec = c.spectrum[r]
            peak = np.nanmax(spec, axis=1, keepdims=True)
            data[: r.size, :w] = np.nan_to_num(spec / peak)
            mask[: r.size, :w] = np.isfinite(spec)
        fields.setdefault("spectrum_nm", []).append(nm)
        fields.setdefault("spectrum_step", []).append(_pad(step[r], n_r))
        fields.setdefault("spectrum_slot", []).append(_pad(slot[r], n_r))
        fields.setdefault("spectrum", []).append(data)
        fields.setdefault("spectrum_mask", []).append(mask)

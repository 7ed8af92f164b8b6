"""`free="auto"`: which parameters the data can determine, chosen from their sensitivities.

At the starting values, the residuals' Jacobian with respect to every candidate (in the fit's
transformed space: log for rates, logit for the coverage) and the data's own noise level `s`
give the Gauss-Newton standard errors a fit would have. Candidates are taken greedily, the one
with the most information not already carried by those taken first (the column with the
largest norm after projecting out the chosen ones: a column-pivoted QR), and a candidate is
freed only if, with it, every freed parameter would still be determined to better than
`limit` in the transformed space (default 1: a factor e for a rate). A candidate left fixed is
either too weak (alone it moves the curves by less than the noise resolves) or not separable
from one already freed (with it, that one's error would exceed the limit). Because a start far
from the optimum can hide what matters, `fit` repeats the choice at its optimum when the fit
is still above the noise, and refits with the larger set.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._observations import noise_levels

# What light/dark PLQY curves can inform, the earlier fixed default first. Not among them:
# k_radiative_per_ns (PLQY fixes only the ratios of the three decay rates; with a lifetime
# column it is added), activation energies (added when the data span temperatures), the
# geometry- and transport-related constants (the well-mixed model hardly sees them).
CANDIDATES = ("k_desorption_per_h", "k_adsorption_per_h", "k_trap_nonradiative_per_ns",
              "k_nonradiative_per_ns", "charge_enhancement", "coverage_initial",
              "k_trap_per_s", "k_release_per_s")
WITH_LIFETIMES = ("k_radiative_per_ns",)
WITH_TEMPERATURES = ("Ea_desorption_kj_mol", "Ea_adsorption_kj_mol")
# What spectra inform: the emission energies and widths (jaxnc.physics.spectra).
WITH_SPECTRA = ("emission_bulk_ev", "homogeneous_fwhm_mev", "coupling_mev")


def candidates_for(data, per_sample) -> list[str]:
    """The candidates for these data, less the per-sample ones."""
    names = list(CANDIDATES)
    if any(c.lifetime_ns is not None and np.isfinite(c.lifetime_ns).any() for c in data.curves):
        names += WITH_LIFETIMES
    if any(c.spectrum is not None for c in data.curves):
        names += WITH_SPECTRA
    temps = [c.temperature_k for c in data.curves if c.temperature_k is not None]
    if temps and np.ptp(np.concatenate(temps)) > 1.0:
        names += WITH_TEMPERATURES
    return [n for n in names if n not in per_sample]


def noise_level(data) -> float:
    """The PLQY noise (fraction, one standard deviation) estimated from the data alone (NaN
    for too few points): [`noise_levels`][jaxnc.fitting.noise_levels]'s PLQY entry."""
    levels = noise_levels(data)
    return levels.sigma["plqy"] if levels.estimated["plqy"] else float("nan")


@dataclasses.dataclass
class FreeChoice:
    """The parameters chosen, why the others were left fixed, and the evidence.

    **Fields:** `free` (in the order chosen), `fixed` (`{name: reason}`), `noise_plqy` (the
    estimated noise, fraction), `stderr` (the predicted standard error of each freed parameter
    in the transformed space), `limit`, `noise_estimated` (False where the data had too few
    points and 1 PLQY point was assumed).
    """

    free: list[str]
    fixed: dict[str, str]
    noise_plqy: float
    stderr: dict[str, float]
    limit: float
    noise_estimated: bool = True  # False: too few points to estimate, 1 point assumed
    noise_text: str = ""  # the noise of every kind of data, where there is more than PLQY

    def lines(self) -> list[str]:
        how = "" if self.noise_estimated else " assumed: too few points to estimate it"
        noise = self.noise_text or f"noise {self.noise_plqy * 100:.2g} PLQY points{how}"
        out = [f"free (auto; {noise}; predicted "
               f"errors in the fit's log/logit space): "
               + ", ".join(f"{n} (+-{self.stderr[n]:.2g})" for n in self.free)]
        out += [f"  fixed {n}: {why}" for n, why in self.fixed.items()]
        return out

    def to_json(self) -> dict:
        return dict(free=self.free, fixed=self.fixed, noise_plqy=self.noise_plqy,
                    noise_estimated=self.noise_estimated,
                    predicted_stderr_transformed=self.stderr, limit=self.limit)


def choose_free(jac: np.ndarray, names: list[str], noise: float, limit: float = 1.0,
           forced: int = 0) -> FreeChoice:
    """Greedy choice over the columns of `jac` (residuals x candidates, transformed space);
    the first `forced` columns (per-sample parameters the user asked for) are always kept and
    only constrain the others."""
    jac = np.asarray(jac, dtype=float)
    ok = np.all(np.isfinite(jac), axis=0)
    chosen = list(range(forced))
    fixed: dict[str, str] = {names[j]: "the model could not be differentiated with respect "
                             "to it at the start" for j in range(forced, len(names)) if not ok[j]}
    pool = [j for j in range(forced, len(names)) if ok[j]]

    def errors(cols):
        sub = jac[:, cols]
        with np.errstate(all="ignore"):
            gram = sub.T @ sub
            try:
                cov = np.linalg.inv(gram)
            except np.linalg.LinAlgError:
                return np.full(len(cols), np.inf)
        return noise * np.sqrt(np.clip(np.diag(cov), 0.0, np.inf))

    while pool:
        # The candidate with the most information beyond what is chosen (pivoted QR order).
        base = jac[:, chosen]
        if chosen:
            q, _ = np.linalg.qr(base)
            rest = jac[:, pool] - q @ (q.T @ jac[:, pool])
        else:
            rest = jac[:, pool]
        j = pool[int(np.argmax(np.linalg.norm(rest, axis=0)))]
        pool.remove(j)
        alone = noise / max(np.linalg.norm(jac[:, j]), 1e-300)
        if alone > limit:
            fixed[names[j]] = (f"moves these curves too little: alone it would be determined "
                               f"only to +-{alone:.2g} (limit {limit:g})")
            continue
        sd = errors(chosen + [j])
        if np.all(sd < limit):
            chosen.append(j)
            continue
        # The freed parameter it is most confounded with: whose error it multiplies most.
        grown = sd[:-1] / np.maximum(errors(chosen), 1e-300)
        worst = chosen[int(np.argmax(grown))]
        fixed[names[j]] = (f"not separable from {names[worst]} by these data: with both free "
                           f"{names[j]} would be determined to +-{sd[-1]:.2g} and "
                           f"{names[worst]} to +-{sd[chosen.index(worst)]:.2g} (limit {limit:g})")
    sd = errors(chosen) if chosen else np.zeros(0)
    return FreeChoice(free=[names[j] for j in chosen[forced:]], fixed=fixed, noise_plqy=noise,
                      stderr={names[j]: float(s) for j, s in zip(chosen, sd, strict=True)
                              if j >= forced},
                      limit=limit)

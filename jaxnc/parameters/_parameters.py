"""The parameter container: every rate, energy and length the physics needs, units in the names."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..errors import ParameterError, is_concrete

__all__ = ["Parameters", "PARAMETER_INFO"]


def _scalar(value) -> Array:
    return jnp.asarray(value, dtype=float)


PARAMETER_INFO: dict[str, tuple[str, str]] = {
    "k_radiative_per_ns": ("positive", "radiative recombination rate of one cube"),
    "k_nonradiative_per_ns": ("nonnegative", "intrinsic non-radiative rate (fully passivated)"),
    "k_trap_nonradiative_per_ns": (
        "nonnegative",
        "non-radiative rate through surface traps at zero ligand coverage",
    ),
    "traps_per_cube": (
        "positive",
        "mean number of quenching sites on a fully unpassivated cube (exciton optics)",
    ),
    "forster_radius_nm": (
        "nonnegative",
        "Förster radius of exciton transfer between cubes; 0: none (exciton optics)",
    ),
    "charged_trap_quenching": (
        "fraction",
        "quenching by a trap site holding a photo-trapped electron, over an empty site's",
    ),
    "cross_section_400nm_cm2": ("positive", "absorption cross-section of a 9.8 nm cube at 400 nm"),
    "cross_section_size_exponent": ("finite", "sigma scales as (edge / 9.8 nm) ** exponent"),
    "absorption_edge_nm": ("positive", "absorption onset; sigma grows with excess photon energy"),
    "k_trap_per_s": ("nonnegative", "electron trapping rate per exciton into an empty trap site"),
    "k_release_per_s": ("positive", "release (discharge) rate of a trapped electron"),
    "charge_enhancement": (
        "nonnegative",
        "alpha: a charged site adsorbs 1 + alpha times faster (exp(alpha q) for Frumkin)",
    ),
    "k_adsorption_per_h": ("nonnegative", "adsorption rate constant at 298.15 K, uncharged"),
    "k_desorption_per_h": ("nonnegative", "second-order desorption rate constant at 298.15 K"),
    "Ea_adsorption_kj_mol": ("finite", "activation energy of adsorption"),
    "Ea_desorption_kj_mol": ("nonnegative", "activation energy of desorption"),
    "diffusivity_nm2_s": ("nonnegative", "free-ligand diffusivity in an unhindered nanospace"),
    "Ea_diffusion_kj_mol": ("finite", "activation energy of nanospace diffusion"),
    "escape_fraction": ("fraction", "chance that ligand reaching an open face leaves the assembly"),
    "steric_free_nm": ("finite", "free room (gap - ligand) at which desorption is half hindered"),
    "steric_width_nm": (
        "positive",
        "width of the smooth steric, hindrance and confinement switches",
    ),
    "confinement_margin_nm": (
        "finite",
        "gap beyond both ligand shells (gap - 2 ligand) at which a nanospace is half open",
    ),
    "gap_reference_nm": ("positive", "gap at which the free-ligand dilution factor is 1"),
    "coverage_initial": ("fraction", "ligand coverage of trap sites before the protocol"),
    "free_ligand_initial": (
        "nonnegative",
        "free ligand around a fully enclosed cube before the protocol (monolayer equivalents)",
    ),
    "probe_wavelength_nm": ("positive", "excitation wavelength of the PLQY measurement"),
    "emission_bulk_ev": ("positive", "emission energy of an unconfined cube (PL spectra)"),
    "confinement_ev_nm2": (
        "nonnegative",
        "confinement energy times edge squared: E = E_bulk + C / L^2 (PL spectra)",
    ),
    "homogeneous_fwhm_mev": ("positive", "room-temperature PL linewidth of one cube (PL spectra)"),
    "coupling_mev": (
        "nonnegative",
        "electronic coupling of face-sharing cubes across a ligand-filled gap_reference gap",
    ),
    "coupling_decay_nm": ("positive", "decay length of the coupling through the ligand shells"),
    "vacuum_decay_nm": ("positive", "decay length of the coupling through empty gap room"),
    "reabsorption_path_factor": (
        "nonnegative",
        "film thicknesses emitted light travels in the film before it leaves (reabsorption)",
    ),
    "dispersion_free_ligand": (
        "nonnegative",
        "free ligand in solution per cube of a dispersion (monolayer equivalents)",
    ),
    "photodegradation_per_photon": (
        "nonnegative",
        "quenching sites created per absorbed photon, in units of traps_per_cube (ageing)",
    ),
}
"""Every parameter's name (unit in the name) -> (constraint, one-line meaning); the constraint
(`positive`, `nonnegative`, `fraction`, `finite`) is what `Parameters` checks."""


class Parameters(eqx.Module):
    """Physical parameters of the reference model (docs/model.md). All fields are traced scalars.

    Build the calibrated default with [`Parameters.hashimoto2024`][] and change values with
    `params.replace(name=value)`; `Parameters.describe()` lists each value with its unit
    and source. Impossible values raise [`ParameterError`][] naming the field.

    Rates are at the reference temperature 298.15 K; Arrhenius factors use the `Ea_*` fields.
    Ligand amounts are in monolayer equivalents (ML): 1 ML passivates every trap site of one
    cube of the mean edge length.
    """

    k_radiative_per_ns: Float[Array, ""] = eqx.field(converter=_scalar)
    k_nonradiative_per_ns: Float[Array, ""] = eqx.field(converter=_scalar)
    k_trap_nonradiative_per_ns: Float[Array, ""] = eqx.field(converter=_scalar)
    traps_per_cube: Float[Array, ""] = eqx.field(converter=_scalar)
    forster_radius_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    charged_trap_quenching: Float[Array, ""] = eqx.field(converter=_scalar)
    cross_section_400nm_cm2: Float[Array, ""] = eqx.field(converter=_scalar)
    cross_section_size_exponent: Float[Array, ""] = eqx.field(converter=_scalar)
    absorption_edge_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    k_trap_per_s: Float[Array, ""] = eqx.field(converter=_scalar)
    k_release_per_s: Float[Array, ""] = eqx.field(converter=_scalar)
    charge_enhancement: Float[Array, ""] = eqx.field(converter=_scalar)
    k_adsorption_per_h: Float[Array, ""] = eqx.field(converter=_scalar)
    k_desorption_per_h: Float[Array, ""] = eqx.field(converter=_scalar)
    Ea_adsorption_kj_mol: Float[Array, ""] = eqx.field(converter=_scalar)
    Ea_desorption_kj_mol: Float[Array, ""] = eqx.field(converter=_scalar)
    diffusivity_nm2_s: Float[Array, ""] = eqx.field(converter=_scalar)
    Ea_diffusion_kj_mol: Float[Array, ""] = eqx.field(converter=_scalar)
    escape_fraction: Float[Array, ""] = eqx.field(converter=_scalar)
    steric_free_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    steric_width_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    confinement_margin_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    gap_reference_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    coverage_initial: Float[Array, ""] = eqx.field(converter=_scalar)
    free_ligand_initial: Float[Array, ""] = eqx.field(converter=_scalar)
    probe_wavelength_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    emission_bulk_ev: Float[Array, ""] = eqx.field(converter=_scalar)
    confinement_ev_nm2: Float[Array, ""] = eqx.field(converter=_scalar)
    homogeneous_fwhm_mev: Float[Array, ""] = eqx.field(converter=_scalar)
    coupling_mev: Float[Array, ""] = eqx.field(converter=_scalar)
    coupling_decay_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    vacuum_decay_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    reabsorption_path_factor: Float[Array, ""] = eqx.field(converter=_scalar)
    dispersion_free_ligand: Float[Array, ""] = eqx.field(converter=_scalar)
    photodegradation_per_photon: Float[Array, ""] = eqx.field(converter=_scalar)

    def __check_init__(self):
        for name, (constraint, meaning) in PARAMETER_INFO.items():
            value = getattr(self, name)
            if not is_concrete(value):
                continue
            v = float(np.asarray(value))
            ok = np.isfinite(v) and {
                "positive": v > 0,
                "nonnegative": v >= 0,
                "fraction": 0 <= v <= 1,
                "finite": True,
            }[constraint]
            if not ok:
                need = {
                    "positive": "> 0",
                    "nonnegative": ">= 0",
                    "fraction": "in [0, 1]",
                    "finite": "finite",
                }[constraint]
                raise ParameterError(f"Parameters.{name} must be {need} ({meaning}), got {v:g}")

    @classmethod
    def hashimoto2024(cls) -> Parameters:
        """The default set, calibrated to Hashimoto et al., Nanoscale Adv. 2024, 6, 5563.

        Every value's source is in `jaxnc.parameters.HASHIMOTO2024_SOURCES` and printed by
        `Parameters.describe()`.
        """
        from ._sets import HASHIMOTO2024

        return cls(**{k: v for k, (v, _kind, _text) in HASHIMOTO2024.items()})

    @staticmethod
    def names() -> tuple[str, ...]:
        """All parameter names, in field order."""
        return tuple(PARAMETER_INFO)

    def replace(self, **changes) -> Parameters:
        """A copy with some values changed; validated like a new set.

        **Raises:** `ParameterError` for an unknown name or an impossible value.
        """
        unknown = sorted(set(changes) - set(PARAMETER_INFO))
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {unknown}; known: {', '.join(PARAMETER_INFO)}"
            )
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values.update(changes)
        return type(self)(**values)

    @classmethod
    def from_json(cls, source, sample: str | None = None) -> Parameters:
        """The set a JSON file (path) or dict holds: a fit's output (`jaxnc fit --out`,
        `FitResult.to_json()`: every value of the fitted set, per sample where the fit had
        per-sample parameters) or a plain `{name: value}`; names not given keep their default
        (`hashimoto2024`).

        `sample`: which sample's values of a fit with per-sample parameters (needed where it
        has several).

        **Raises:** `ParameterError` for a file that is missing or no JSON, an unknown name or
        impossible value, or an unknown or missing `sample`.
        """
        import json
        from pathlib import Path

        where = "the dict"
        if not isinstance(source, dict):
            where = str(source)
            try:
                source = json.loads(Path(source).read_text())
            except FileNotFoundError:
                raise ParameterError(f"{where}: file not found") from None
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise ParameterError(f"{where}: not a JSON file ({err})") from None
        if not isinstance(source, dict):
            raise ParameterError(f"{where}: expected a JSON object of parameter values")
        values = source
        if "parameters" in source:  # a fit's output
            per_sample = source.get("sample_parameters") or {}
            if sample is not None and sample not in per_sample:
                raise ParameterError(f"{where}: no sample {sample!r} with its own values; "
                                     f"samples: {sorted(per_sample) or 'none'}")
            if sample is None and len(per_sample) > 1:
                raise ParameterError(f"{where}: per-sample values of {sorted(per_sample)}; "
                                     f"say which sample")
            values = (per_sample[sample] if sample is not None else
                      next(iter(per_sample.values())) if per_sample else source["parameters"])
        elif sample is not None:
            raise ParameterError(f"{where}: plain values, no samples to choose from")
        bad = {k: v for k, v in values.items() if not isinstance(v, (int, float))}
        if bad:
            raise ParameterError(f"{where}: values must be numbers, got {bad}")
        return cls.hashimoto2024().replace(**values)

    def to_dict(self) -> dict[str, float]:
        """Plain floats by name (needs concrete values)."""
        return {k: float(np.asarray(getattr(self, k))) for k in PARAMETER_INFO}

    def describe(self) -> str:
        """A table of every value, its meaning and (for the default set) its source."""
        from ._sets import HASHIMOTO2024

        lines = []
        for name, (_c, meaning) in PARAMETER_INFO.items():
            value = float(np.asarray(getattr(self, name)))
            default, _kind, source = HASHIMOTO2024[name]
            src = source if np.isclose(value, default, rtol=1e-12, atol=0) else "user value"
            lines.append(f"{name:30s} {value:12.5g}  {meaning}\n{'':30s} {'':12s}  [{src}]")
        return "\n".join(lines)

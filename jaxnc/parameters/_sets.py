"""Named parameter sets. Each value is paired with where it comes from.

Sources are one of: a number stated in the seed paper (Hashimoto et al., Nanoscale Adv. 2024,
6, 5563, "H2024"), a literature value with its reference, an estimate (said so), or
"calibrated to <target>" — fitted so that the default model reproduces a stated paper number;
`experiments/calibrate_hashimoto2024.py` does that fit (one `jaxnc.fit`) and prints the targets
beside the model.
"""

from __future__ import annotations

from ._sources import SourceKind

__all__ = ["HASHIMOTO2024"]

# name -> (value, kind of source, source)
HASHIMOTO2024: dict[str, tuple[float, SourceKind, str]] = {
    "k_radiative_per_ns": (
        0.031547,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) to the 3D array's "
        "68.3 % maximum and 22.6 ns after light, through photon recycling (the observed "
        "lifetime is the internal one over 1 - eta P); the same rate in the dispersion"
    ),
    "k_nonradiative_per_ns": (
        0.013752,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) with k_radiative to "
        "the lit 3D array's PLQY and lifetime"
    ),
    "k_trap_nonradiative_per_ns": (
        0.35262,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) to the initial PLQYs "
        "(isolated 19.4 %, 2D 18.1 %, 3D 16.0 %) and the 3D dark lifetime 10.5 ns, one start "
        "state for all; k_trap_nr / traps_per_cube is one quenching site's rate",
    ),
    "traps_per_cube": (
        2.0,
        SourceKind.ESTIMATE,
        "estimate (a few quenching sites on a fully unpassivated cube); fixed in the "
        "calibration because the start state shows only traps_per_cube (1 - coverage): fits "
        "with both free slid along that line (1.9 / 0.09 to 3.6 / 0.50)",
    ),
    "forster_radius_nm": (
        8.9137,
        SourceKind.CALIBRATED,
        "fixed at its calibration before reabsorption was modelled (jaxnc.fit to the ordering "
        "of the initial PLQYs isolated > 2D > 3D and the 3D dark lifetime); with reabsorption "
        "free too, the start-state numbers cannot tell the two apart (a fit with both took R0 "
        "to 0 at g = 80); Förster transfer between CsPbBr3 nanocrystals: de Weerd et al., J. "
        "Phys. Chem. C 2016; exciton diffusion in assemblies: Penzo et al., ACS Nano 2020, "
        "10.1021/acsnano.0c01536; no measured R0 for these films"
    ),
    "charged_trap_quenching": (
        0.94426,
        SourceKind.CALIBRATED,
        "fixed at its calibration before reabsorption was modelled (jaxnc.fit to the isolated "
        "cubes' \"trace increase\" under 468 nm light, Fig. 3a, read as one point in 5 h); "
        "left free with reabsorption it went to 1 (no trace) to lower the isolated cubes' "
        "start; trap filling is the assumed mechanism"
    ),
    "cross_section_400nm_cm2": (
        1.0e-13,
        SourceKind.LITERATURE,
        "literature range 5e-14 to 1.5e-13 cm2 for 9.8 nm CsPbBr3 at 400 nm (Maes et al. JPCL "
        "2018; De Roo et al. ACS Nano 2016; Nguyen et al. arXiv 2004.05093), mid value",
    ),
    "cross_section_size_exponent": (
        2.9,
        SourceKind.LITERATURE,
        "sigma ~ L^2.9 above the band edge (Maes et al., JPCL 2018, 10.1021/acs.jpclett.8b01065)",
    ),
    "absorption_edge_nm": (
        513.0,
        SourceKind.PAPER,
        "H2024: PL maximum of isolated NCs 513 nm, taken as the absorption onset; gives "
        "sigma(468)/sigma(400) ~ 1/3 (parameter notes: 2-5x lower)",
    ),
    "k_trap_per_s": (
        1200.0,
        SourceKind.ESTIMATE,
        "estimate: set so that trap charging is half saturated (k_trap n = k_release) in the "
        "dark 3D array under the assumed default light (468 nm, 10 mW/cm2; the paper states no "
        "irradiance), so activation follows the absorbed photons: one long-lived surface "
        "electron per ~1e5 absorbed photons (n = G tau); only its product with the irradiance "
        "is seen by the paper's numbers",
    ),
    "k_release_per_s": (
        5.0e-3,
        SourceKind.ESTIMATE,
        "estimate: trapped surface electrons live minutes in the dark; only needs to be fast "
        "next to the hours of adsorption",
    ),
    "charge_enhancement": (
        1.3e5,
        SourceKind.ESTIMATE,
        "estimate, fixed in the calibration: a site holding a photo-trapped electron adsorbs "
        "the cation 1 + alpha times faster than a neutral one (H2024 Fig. 5 mechanism; "
        "ChargedSiteAdsorption), ~29 kJ/mol of electrostatic stabilisation at 298 K; under "
        "light only alpha k_adsorption is seen (a jaxnc.fit with both free slid along that "
        "product to alpha 3e12, k_adsorption 1e-13 /h at the same loss)",
    ),
    "k_adsorption_per_h": (
        2.5174e-6,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) to 90 % of the 3D "
        "rise in 1.5 h, the 68.3 % maximum after 3 h and its repeat after 600 h of dark "
        "(Fig. 4), with the start the dark state (16.0 % at 0 and after 100 h of dark)",
    ),
    "k_desorption_per_h": (
        3.4183e-3,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) to the ~600 h dark "
        "decay of the 3D array (Fig. 4), read as 90 % of the way back after 600 h",
    ),
    "Ea_adsorption_kj_mol": (
        10.0,
        SourceKind.ESTIMATE,
        "Langmuir 2008, 24, 6562: confined diffusion of amphiphiles at interfaces <= 10 kJ/mol "
        "(estimate for the approach step of adsorption)",
    ),
    "Ea_desorption_kj_mol": (
        40.659,
        SourceKind.CALIBRATED,
        "calibrated (experiments/calibrate_hashimoto2024.py) so that the model's apparent Ea "
        "(pseudo-second-order fits of its own PLQY dark decays at 298-328 K, Arrhenius) is "
        "H2024's 42.1 kJ/mol; with the exciton optics PLQY is not linear in coverage, so "
        "input 42.1 gives an apparent 43.5",
    ),
    "diffusivity_nm2_s": (
        10.0,
        SourceKind.ESTIMATE,
        "estimate: equilibrates free ligand over ~100 nm within an hour; no measured value",
    ),
    "Ea_diffusion_kj_mol": (
        10.0,
        SourceKind.LITERATURE,
        "Langmuir 2008, 24, 6562: confined interfacial diffusion",
    ),
    "escape_fraction": (
        1.0e-7,
        SourceKind.CALIBRATED,
        "calibrated to repeatable light/dark cycles of the sealed 3D array (Fig. 4): losses "
        "over three cycles stay below the cycle-to-cycle spread",
    ),
    "steric_free_nm": (
        0.5,
        SourceKind.ESTIMATE,
        "estimate: desorption needs about a chain's width of room beside the 1.6 nm DDAB "
        "(H2024: desorption happens at ~3 nm gaps)",
    ),
    "steric_width_nm": (
        0.2, SourceKind.ESTIMATE, "estimate: about one CH2 group length (0.13-0.25 nm)"
    ),
    "confinement_margin_nm": (
        0.5,
        SourceKind.ESTIMATE,
        "estimate: a free DDAB chain (~0.5 nm wide) slips out once the gap exceeds both 1.6 nm "
        "ligand shells by its width (H2024: ligand held in ~3 nm nanospaces, lost from "
        "isolated cubes)",
    ),
    "gap_reference_nm": (3.0, SourceKind.PAPER, "H2024: typical inter-cube distance ~3 nm (TEM)"),
    "coverage_initial": (
        0.13207,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) with "
        "k_trap_nonradiative and forster_radius to the initial PLQYs (isolated 19.4 %, 2D "
        "18.1 %, 3D 16.0 %) and the 3D dark lifetime 10.5 ns: one start state for every "
        "preparation",
    ),
    "free_ligand_initial": (
        11.991,
        SourceKind.CALIBRATED,
        "fixed (from the quasi-static calibration): free ligand around an enclosed cube at the "
        "start; only its product with k_adsorption is seen by the stated numbers",
    ),
    "probe_wavelength_nm": (450.0, SourceKind.PAPER, "H2024: PLQY measured with 450 nm excitation"),
    "emission_bulk_ev": (
        2.3550,
        SourceKind.CALIBRATED,
        "calibrated (experiments/calibrate_hashimoto2024.py): 9.8 +- 1.1 nm isolated cubes "
        "emit at 513 nm (H2024) with confinement_ev_nm2; near the ~2.36 eV band gap of bulk "
        "CsPbBr3 less its ~30 meV exciton binding (recalled, not checked: Protesescu et al., "
        "Nano Lett. 2015, 15, 3692)"
    ),
    "confinement_ev_nm2": (
        6.0,
        SourceKind.ESTIMATE,
        "estimate: the effective-mass particle in a cube gives 3 (hbar pi)^2 / (2 mu) = 8.9 eV "
        "nm2 for mu = 0.126 m0 (recalled, Protesescu et al. 2015), less in intermediate "
        "confinement (Coulomb energy; Bohr diameter ~7 nm); to be calibrated (issue 13)",
    ),
    "homogeneous_fwhm_mev": (
        80.0,
        SourceKind.ESTIMATE,
        "estimate within the 70-120 meV room-temperature linewidths of single CsPbBr3 "
        "nanocrystals (Rainò et al., Nat. Commun. 2022, 13, 2587, 10.1038/s41467-022-30016-0)",
    ),
    "coupling_mev": (
        13.173,
        SourceKind.CALIBRATED,
        "calibrated (experiments/calibrate_hashimoto2024.py) to the 2D array's 519 nm (H2024): "
        "the paper's 'mini-band' explanation; for comparison, clean CsPbBr3 superlattices show "
        "10-15 meV of coupling red shift (Baranov et al., J. Phys. Chem. Lett. 2019, "
        "10.1021/acs.jpclett.9b00178, abstract)"
    ),
    "coupling_decay_nm": (
        0.23,
        SourceKind.ESTIMATE,
        "estimate: tunnelling through alkyl chains decays as exp(-beta d) in conductance "
        "(~ t^2) with beta ~ 0.8-0.9 per Angstrom (recalled, not checked here: Wang, Lee and "
        "Reed, Phys. Rev. B 2003, 68, 035416, alkanethiol monolayers), so t decays over "
        "2/beta ~ 0.23 nm",
    ),
    "vacuum_decay_nm": (
        0.092,
        SourceKind.ESTIMATE,
        "estimate: WKB amplitude decay hbar / sqrt(2 m phi) through a 4.5 eV barrier (the "
        "vacuum level of an empty gap)",
    ),
    "reabsorption_path_factor": (
        6.5612,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) with the kinetics: "
        "the start PLQYs and lifetimes see the films' photon recycling (+- 5.1, weakly "
        "determined); light guided in the film travels ~7 film thicknesses before it leaves"
    ),
    "dispersion_free_ligand": (
        2.7864e4,
        SourceKind.CALIBRATED,
        "calibrated (experiments/calibrate_hashimoto2024.py) to the dispersion's PLQY 64.9 % "
        "(H2024): free DDAB far in excess in the solution (the film's confined-adsorption "
        "rate constants, read in solution, need it)"
    ),
    "photodegradation_per_photon": (
        3.4948e-12,
        SourceKind.CALIBRATED,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py) to ~60 % after "
        "6000 h of continuous light (H2024 Fig. S8); the mechanism (photons leaving quenching "
        "sites ligand cannot passivate, in a film sealed from oxygen) is an assumption",
    ),
}

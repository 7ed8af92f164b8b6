"""Named parameter sets. Each value is paired with where it comes from.

Sources are one of: a number stated in the seed paper (Hashimoto et al., Nanoscale Adv. 2024,
6, 5563, "H2024"), a literature value with its reference, an estimate (said so), or
"calibrated to <target>" — fitted so that the default model reproduces a stated paper number;
`experiments/calibrate_core.py` does that fit and prints the targets beside the model.
"""

from __future__ import annotations

__all__ = ["HASHIMOTO2024", "INITIAL_COVERAGE"]

HASHIMOTO2024: dict[str, tuple[float, str]] = {
    "k_radiative_per_ns": (
        0.030221,
        "H2024: PLQY 68.3 % with average lifetime 22.6 ns in the lit 3D array (k_r = PLQY/tau)",
    ),
    "k_nonradiative_per_ns": (
        0.013580,
        "calibrated to the 68.3 % maximum (Fig. 4): sets PLQY at full coverage to 0.690",
    ),
    "k_trap_nonradiative_per_ns": (
        0.15989,
        "calibrated (experiments/calibrate_core.py) to the initial PLQYs 3D 16.0 % / isolated "
        "19.4 % with one shared starting state; only k_trap_nr (1 - coverage) is seen, so it "
        "stays fixed when the starting coverage is fitted per sample",
    ),
    "traps_per_cube": (
        4.0,
        "estimate (a few quenching sites per unpassivated cube); used only by the exciton "
        "optics (jaxnc.physics.excitons.ExcitonFieldOptics), which are not the default until "
        "they are calibrated (issue 12); k_trap_nr / traps_per_cube is one site's rate",
    ),
    "forster_radius_nm": (
        8.0,
        "estimate; Förster transfer between CsPbBr3 nanocrystals is reported by de Weerd et "
        "al., J. Phys. Chem. C 2016 (\"Energy Transfer between Inorganic Perovskite "
        "Nanocrystals\") and Penzo et al., ACS Nano 2020, 10.1021/acsnano.0c01536 (exciton "
        "diffusion in 2D assemblies); used only by the exciton optics, not yet calibrated",
    ),
    "cross_section_400nm_cm2": (
        1.0e-13,
        "literature range 5e-14 to 1.5e-13 cm2 for 9.8 nm CsPbBr3 at 400 nm (Maes et al. JPCL "
        "2018; De Roo et al. ACS Nano 2016; Nguyen et al. arXiv 2004.05093), mid value",
    ),
    "cross_section_size_exponent": (
        2.9,
        "sigma ~ L^2.9 above the band edge (Maes et al., JPCL 2018, 10.1021/acs.jpclett.8b01065)",
    ),
    "absorption_edge_nm": (
        513.0,
        "H2024: PL maximum of isolated NCs 513 nm, taken as the absorption onset; gives "
        "sigma(468)/sigma(400) ~ 1/3 (parameter notes: 2-5x lower)",
    ),
    "k_trap_per_s": (
        2.3479e6,
        "estimate: ~1 % of the ~1.7e8 /s trap-capture rate (k_trap_nonradiative) leaves a "
        "long-lived surface electron; makes trap charging saturate within a minute of light",
    ),
    "k_release_per_s": (
        5.0e-3,
        "estimate: trapped surface electrons live minutes in the dark; only needs to be fast "
        "next to the hours of adsorption",
    ),
    "charge_enhancement": (
        11.284,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py)"
        " to the 3D array's 68.3 % maximum "
        "after ~3 h and its repeat in the next cycle (Fig. 4): Frumkin factor exp(alpha q) of "
        "photo-induced adsorption (H2024 Fig. 5 mechanism; Joos 1995 form)",
    ),
    "k_adsorption_per_h": (
        3.3394e-6,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py)"
        ": the starting state is the dark "
        "adsorption equilibrium (16.0 % at 0 and after 100 h dark) and 90 % of the rise in 1.5 h",
    ),
    "k_desorption_per_h": (
        2.7562e-3,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py)"
        " to the ~600 h dark decay of the 3D "
        "array (Fig. 4), read as 90 % of the way back after 600 h",
    ),
    "Ea_adsorption_kj_mol": (
        10.0,
        "Langmuir 2008, 24, 6562: confined diffusion of amphiphiles at interfaces <= 10 kJ/mol "
        "(estimate for the approach step of adsorption)",
    ),
    "Ea_desorption_kj_mol": (42.1, "H2024: pseudo-second-order Arrhenius fit of the dark decay"),
    "diffusivity_nm2_s": (
        10.0,
        "estimate: equilibrates free ligand over ~100 nm within an hour; no measured value",
    ),
    "Ea_diffusion_kj_mol": (10.0, "Langmuir 2008, 24, 6562: confined interfacial diffusion"),
    "escape_fraction": (
        1.0e-7,
        "calibrated to repeatable light/dark cycles of the sealed 3D array (Fig. 4): losses "
        "over three cycles stay below the cycle-to-cycle spread",
    ),
    "steric_free_nm": (
        0.5,
        "estimate: desorption needs about a chain's width of room beside the 1.6 nm DDAB "
        "(H2024: desorption happens at ~3 nm gaps)",
    ),
    "steric_width_nm": (0.2, "estimate: about one CH2 group length (0.13-0.25 nm)"),
    "confinement_margin_nm": (
        0.5,
        "estimate: a free DDAB chain (~0.5 nm wide) slips out once the gap exceeds both 1.6 nm "
        "ligand shells by its width (H2024: ligand held in ~3 nm nanospaces, lost from "
        "isolated cubes)",
    ),
    "gap_reference_nm": (3.0, "H2024: typical inter-cube distance ~3 nm (TEM)"),
    "coverage_initial": (
        0.092302,
        "calibrated by jaxnc.fit (experiments/calibrate_hashimoto2024.py)"
        " to the 3D array's initial PLQY "
        "16.0 % (H2024 text); isolated cubes start at INITIAL_COVERAGE['isolated']",
    ),
    "free_ligand_initial": (
        11.991,
        "calibrated (experiments/calibrate_core.py): dark adsorption equilibrium for an "
        "enclosed cube; only its product with k_adsorption is seen by the stated numbers",
    ),
    "probe_wavelength_nm": (450.0, "H2024: PLQY measured with 450 nm excitation"),
}

# Starting trap coverage of the paper's other preparations, fitted per sample together with the
# default set (experiments/calibrate_hashimoto2024.py); the default `coverage_initial` is the
# 3D array's. The 2D array's 18.1 % (sd 7.6, n 13) comes with no other number and is not fitted.
INITIAL_COVERAGE: dict[str, tuple[float, str]] = {
    "supercrystal": (HASHIMOTO2024["coverage_initial"][0], "H2024: 3D array 16.0 %"),
    "isolated": (0.30027, "jaxnc.fit per-sample coverage to the isolated cubes' 19.4 % (H2024)"),
}

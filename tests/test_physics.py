"""Closed-form limits of each process: pseudo-second-order decay, Arrhenius, Langmuir
equilibrium, trap-charging steady state, diffusion eigenmodes, Beer–Lambert attenuation."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxnc
from jaxnc.models import FieldModel, State
from jaxnc.physics import adsorption, generation, optics

R_KJ = 8.314462618e-3
# Closed forms are checked at tight tolerance on the fifth-order dense path (ROS2, the field
# default, is checked against that path in test_split.py).
TIGHT = dict(rtol=1e-10, atol=1e-13, solver="kvaerno5")


def _state(cov, charge, free, lost=0.0):
    f = lambda a: jnp.asarray(a, dtype=float).reshape(1, 1, 1)  # noqa: E731
    return State(f(cov), f(charge), f(free), jnp.asarray(lost, dtype=float))


@pytest.mark.parametrize("temperature_k", [298.15, 318.0])
def test_dark_decay_without_readsorption_is_pseudo_second_order(params, temperature_k):
    p = params.replace(k_adsorption_per_h=0.0)
    asm = jaxnc.Assembly.isolated(1)
    theta0 = 0.9
    sol = jaxnc.simulate(asm, p, f"dark 500h at {temperature_k}K", model="field",
                         initial_state=_state(theta0, 0.0, 0.0), **TIGHT)
    # k(T) = k_d(298.15) exp(-Ea/R (1/T - 1/298.15)) times the steric factor at 3.0/1.6 nm.
    free = 3.0 - 1.6
    steric = 1.0 / (1.0 + np.exp(-(free - 0.5) / 0.2))
    k = float(p.k_desorption_per_h) * steric * np.exp(
        -float(p.Ea_desorption_kj_mol) / R_KJ * (1 / temperature_k - 1 / 298.15))
    t = np.asarray(sol.time_h)
    expected = theta0 / (1.0 + k * theta0 * t)
    theta = np.asarray(sol.coverage)[:, 0, 0, 0]
    # The step end is a solver point (error ~ rtol); saved times in between come from the
    # solver's lower-order dense interpolation (seen: 4e-8), hence the looser bound there.
    assert theta[-1] == pytest.approx(expected[-1], rel=1e-8)
    np.testing.assert_allclose(theta, expected, rtol=1e-6)


def test_arrhenius_ratio():
    ratio = adsorption.arrhenius(1.0, 42.1, 318.0) / adsorption.arrhenius(1.0, 42.1, 298.15)
    assert float(ratio) == pytest.approx(np.exp(42.1 / R_KJ * (1 / 298.15 - 1 / 318.0)))


def test_closed_cube_relaxes_to_the_langmuir_equilibrium(params):
    # Two cubes sharing a face (a nanospace), identical, no escape: the dark steady state
    # solves k_a s c (1 - theta) = k_d s theta^2 with c = L - theta. The steric factor s acts
    # on both directions, so it cancels: the equilibrium is that of k_a, k_d alone.
    p = params.replace(k_adsorption_per_h=0.02, k_desorption_per_h=0.05, escape_fraction=0.0)
    L = 1.3
    two = lambda v: jnp.full((2, 1, 1), v, dtype=float)  # noqa: E731
    y0 = State(two(0.1), two(0.0), two(L - 0.1), jnp.zeros(()))
    sol = jaxnc.simulate(jaxnc.Assembly.supercrystal(2, 1, 1), p, "dark 3000h", model="field",
                         initial_state=y0, **TIGHT)
    ka = 0.02  # dilution factor is 1 at the reference gap 3.0 nm
    kd = 0.05
    a, b, c = ka - kd, -ka * (1 + L), ka * L
    theta_eq = (-b - np.sqrt(b * b - 4 * a * c)) / (2 * a)
    assert 0 < theta_eq < 1
    np.testing.assert_allclose(sol.coverage[-1].ravel(), theta_eq, rtol=1e-7)
    np.testing.assert_allclose(sol.free_ligand[-1].ravel(), L - theta_eq, rtol=1e-7)


@pytest.mark.parametrize("blocks", [False, True])
def test_trap_charge_reaches_its_steady_state_under_light(params, blocks):
    # Freeze the coverage (no adsorption, no desorption): q_ss = a / (a + k_rel) with
    # a = k_t n(q) (times (1-θ) where ligand blocks capture). One
    # isolated cube: n = G sum_N P(N) / k_N, N Poisson with mean traps (1-θ)(1 - (1 - f_q) q)
    # (the charge fills traps), so q_ss is a fixed point.
    from scipy import optimize, stats

    from jaxnc.models import FieldModel
    from jaxnc.physics import SurfaceTrapCharging

    # No ageing either: its damage (~5e-6 here) adds traps and moves q_ss by ~6e-6.
    p = params.replace(k_adsorption_per_h=0.0, k_desorption_per_h=0.0,
                       photodegradation_per_photon=0.0)
    theta = 0.4
    model = FieldModel(trapping=SurfaceTrapCharging(ligand_blocks_capture=blocks))
    # 3 mW/cm2, so that capture and release balance mid-way (q_ss 0.3-0.4).
    sol = jaxnc.simulate(jaxnc.Assembly.isolated(1), p, "light 468nm 3mW/cm2 2h",
                         model=model, initial_state=_state(theta, 0.0, 0.0),
                         solver="kvaerno5", rtol=1e-9, atol=1e-12)
    energy_j = 6.62607015e-34 * 2.99792458e8 / 468e-9
    flux = 3e-3 / energy_j
    # sigma(468) from the spectral law: sigma_400 * excess(468) / excess(400), edge at 513 nm.
    e = lambda nm: 1239.841984 / nm  # noqa: E731
    soft = lambda x: 0.02 * np.log1p(np.exp(x / 0.02))  # noqa: E731
    sigma = 1e-13 * soft(e(468) - e(513)) / soft(e(400) - e(513))
    v = {k: float(getattr(p, k)) for k in p.names()}
    k_q = v["k_trap_nonradiative_per_ns"] / v["traps_per_cube"]
    n = np.arange(200)

    def excitons(q):
        mean = v["traps_per_cube"] * (1 - theta) * (1 - (1 - v["charged_trap_quenching"]) * q)
        tau_ns = np.sum(stats.poisson.pmf(n, mean) / (v["k_radiative_per_ns"]
                                                      + v["k_nonradiative_per_ns"] + n * k_q))
        return sigma * flux * tau_ns * 1e-9

    def balance(q):
        a = v["k_trap_per_s"] * excitons(q) * ((1 - theta) if blocks else 1.0)
        return a * (1 - q) - v["k_release_per_s"] * q

    q_ss = optimize.brentq(balance, 0.0, 1.0, xtol=1e-15, rtol=1e-14)
    assert 0.1 < q_ss < 0.9  # neither empty nor saturated: both rates are seen
    assert float(sol.charge[-1].squeeze()) == pytest.approx(q_ss, rel=1e-8)
    assert float(sol.coverage[-1].squeeze()) == pytest.approx(theta, abs=1e-12)


@pytest.mark.parametrize("mode", [1, 3])
def test_free_ligand_diffusion_decays_as_a_lattice_eigenmode(params, mode):
    # A chain of 16 cubes, no exchange with the surface, no escape: the cosine mode of the
    # cell-centred Neumann Laplacian decays at 2 k_hop (1 - cos(pi m / n)).
    n = 16
    p = params.replace(k_adsorption_per_h=0.0, k_desorption_per_h=0.0, escape_fraction=0.0)
    asm = jaxnc.Assembly.supercrystal(n, 1, 1)
    x = (np.arange(n) + 0.5) / n
    shape = np.cos(np.pi * mode * x)
    c0 = 1.0 + 0.5 * shape
    y0 = State(jnp.zeros((n, 1, 1)), jnp.zeros((n, 1, 1)), jnp.asarray(c0).reshape(n, 1, 1),
               jnp.zeros(()))
    sol = jaxnc.simulate(asm, p, "dark 0.5h", model="field", initial_state=y0, **TIGHT)
    w = 0.2
    free_nm = w * np.log1p(np.exp((3.0 - 1.6) / w))
    d_eff = 10.0 * (free_nm / 3.0) ** 2
    k_hop = 3600 * d_eff / 12.8**2
    rate = 2 * k_hop * (1 - np.cos(np.pi * mode / n))
    t = np.asarray(sol.time_h)
    amplitude = (np.asarray(sol.free_ligand)[:, :, 0, 0] - 1.0) @ shape / (shape @ shape)
    expected = 0.5 * np.exp(-rate * t)
    # Errors are relative to c ~ 1 (rtol 1e-10 per step), not to the decayed amplitude.
    assert amplitude[-1] == pytest.approx(expected[-1], abs=1e-8)
    np.testing.assert_allclose(amplitude, expected, rtol=1e-6, atol=1e-8)  # dense output
    assert rate * t[-1] > 0.5  # the mode decayed measurably


def test_beer_lambert_attenuation_between_layers(params):
    asm = jaxnc.Assembly.supercrystal(2, 2, 5)
    model = FieldModel()
    cells = model.cells(asm, params)
    co = model.coefficients(cells, asm, params, 468.0, 10.0, 298.15)
    g = np.asarray(co.generation_per_s)[0, 0]  # layers z = 0 (bottom) .. 4 (top)
    sigma_nm2 = float(generation.BeerLambertGeneration().cross_section_cm2(468.0, 9.8, params))
    sigma_nm2 *= 1e14
    np.testing.assert_allclose(g[:-1] / g[1:], np.exp(-sigma_nm2 / 12.8**2), rtol=1e-12)
    top = float(generation.photon_flux_cm2_s(10.0, 468.0)) * sigma_nm2 * 1e-14
    assert g[-1] == pytest.approx(top, rel=1e-12)
    assert float(generation.photon_flux_cm2_s(10.0, 468.0)) == pytest.approx(
        10e-3 * 468e-9 / (6.62607015e-34 * 2.99792458e8), rel=1e-8
    )


def test_isolated_cubes_lose_their_free_ligand(params):
    # No nanospace: free ligand leaves at the unhindered hop rate through every face, so
    # desorbed ligand ends up lost instead of re-adsorbing.
    y0 = _state(0.5, 0.0, 0.2)
    sol = jaxnc.simulate(jaxnc.Assembly.isolated(1), params, "dark 1h", model="field",
                         initial_state=y0, **TIGHT)
    assert float(sol.ligand_lost[-1]) > 0.19
    assert float(sol.free_ligand[-1].squeeze()) < 1e-3


def test_plqy_and_lifetime_limits(params):
    kr, knr, kt = (float(params.k_radiative_per_ns), float(params.k_nonradiative_per_ns),
                   float(params.k_trap_nonradiative_per_ns))
    f_q = float(params.charged_trap_quenching)
    assert float(optics.plqy(1.0, params)) == pytest.approx(kr / (kr + knr))
    assert float(optics.plqy(0.0, params)) == pytest.approx(kr / (kr + knr + kt))
    # A fully charged bare surface quenches at f_q of the empty one's rate.
    assert float(optics.plqy(0.0, params, charge=1.0)) == pytest.approx(
        kr / (kr + knr + f_q * kt))
    assert float(optics.lifetime_ns(1.0, params)) == pytest.approx(1 / (kr + knr))
    # Intensity-weighted average of two equal-amplitude lifetimes 2 and 6 ns: (4+36)/(2+6).
    assert float(optics.ensemble_lifetime_ns(jnp.array([2.0, 6.0]), jnp.ones(2))) == 5.0

"""Kinetics analysis on synthetic decays with known parameters."""

import numpy as np
import pytest

from jaxnc.analysis import arrhenius_fit, fit_decay

R = 8.314462618e-3
TEMPS = [298.15, 308.15, 318.15, 328.15, 338.15]


def _pso(t, k, y0=0.68, y_inf=0.16):
    d0 = y0 - y_inf
    return y_inf + d0 / (1 + k * d0 * t)


def _k(temperature_k, ea=42.1, k298=0.0128):
    return k298 * np.exp(-ea / R * (1 / temperature_k - 1 / 298.15))


def test_noise_free_pso_decays_give_back_k_and_ea():
    t = np.linspace(0, 600, 31)
    fits = [fit_decay(t, _pso(t, _k(T)), "pso") for T in TEMPS]
    for T, f in zip(TEMPS, fits, strict=True):
        assert f.k == pytest.approx(_k(T), rel=1e-6)
        assert f.y0 == pytest.approx(0.68, abs=1e-7) and f.y_inf == pytest.approx(0.16, abs=1e-7)
    arr = arrhenius_fit(TEMPS, [f.k for f in fits], [max(f.k_stderr, 1e-9) for f in fits])
    assert arr["Ea_kj_mol"] == pytest.approx(42.1, abs=1e-4)


def test_first_order_decay_is_recovered_and_aic_prefers_the_true_law():
    t = np.linspace(0, 400, 41)
    rng = np.random.default_rng(7)
    y_fo = (0.16 + 0.5 * np.exp(-0.01 * t)) * (1 + 0.005 * rng.standard_normal(t.size))
    fo, pso = fit_decay(t, y_fo, "first-order"), fit_decay(t, y_fo, "pso")
    # 0.5 % noise on 41 points: k is pinned to a few percent; allow 3 standard errors.
    assert abs(fo.k - 0.01) < 3 * fo.k_stderr
    assert fo.aic < pso.aic
    y_pso = _pso(t, 0.02) * (1 + 0.005 * rng.standard_normal(t.size))
    assert fit_decay(t, y_pso, "pso").aic < fit_decay(t, y_pso, "first-order").aic


def test_ea_from_noisy_pso_decays_is_within_1_kj_mol_and_its_stderr_is_honest():
    # 200 synthetic datasets: 5 temperatures, 61 points over each decay (window scaled to the
    # decay rate), 0.5 % multiplicative noise. The bound, 1 kJ/mol, must hold for 95 %
    # of datasets; the reported standard error must cover the truth at 2 sigma as often as a
    # Gaussian would (95 %), less 3 binomial standard deviations for 200 draws (1.5 % each).
    n_sets, errors, covered = 200, [], 0
    for seed in range(n_sets):
        rng = np.random.default_rng(seed)
        ks, ses = [], []
        for T in TEMPS:
            k = _k(T)
            t = np.linspace(0, 600 * _k(298.15) / k, 61)
            y = _pso(t, k) * (1 + 0.005 * rng.standard_normal(t.size))
            f = fit_decay(t, y, "pso")
            ks.append(f.k)
            ses.append(f.k_stderr)
        arr = arrhenius_fit(TEMPS, ks, ses)
        err = arr["Ea_kj_mol"] - 42.1
        errors.append(abs(err))
        covered += abs(err) <= 2 * arr["Ea_stderr_kj_mol"]
    assert np.quantile(errors, 0.95) < 1.0
    assert covered / n_sets >= 0.95 - 3 * 0.015


def test_an_unconverged_fit_is_flagged_and_has_no_standard_error():
    t = np.linspace(0, 600, 31)
    y = _pso(t, 0.0128)
    done = fit_decay(t, y, "pso")
    assert done.converged and np.isfinite(done.k_stderr)
    stopped = fit_decay(t, y, "pso", max_steps=1)  # one iteration from the half-decay guess
    assert not stopped.converged and np.isnan(stopped.k_stderr)

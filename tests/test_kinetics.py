"""Kinetics analysis on synthetic decays with known parameters."""

import numpy as np
import pytest

from jaxnc.fit import arrhenius_fit, fit_decay

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

"""The residuals of every kind of data against given model values, without a solve: the
collection factor and the spectra's amplitudes solved exactly (variable projection), the
weights that put every kind in PLQY-equivalent units, dark rows and padding left out, and the
derivative of the projected residuals against central differences. The same residuals through
the solver and the optimiser: tests/test_lab_fit.py (slow tier)."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxnc
from jaxnc.data import Curve, protocol_from_curve
from jaxnc.fitting import KINDS, Noise, observed_group
from jaxnc.models import get_model

TRUE = jaxnc.Parameters.hashimoto2024()
ASM = jaxnc.Assembly.supercrystal(2, 2, 2)
MODEL = get_model("mean_field")
NM = np.linspace(490.0, 540.0, 11)
NOISE = Noise({"plqy": 0.01, "lifetime": 0.5, "intensity": 0.02, "spectrum": 0.04},
              {k: "given" for k in KINDS})


def _case():
    """A curve of 6 rows (light at 468 nm, light at 405 nm, dark), its model values, its
    `Observed`."""
    t = np.array([0.0, 1.0, 2.0, 3.0, 5.0, 8.0])
    light = np.array([1.0, 1, 1, 1, 0, 0])
    excitation = np.array([468.0, 468, 405, 405, 468, 468])
    model_plqy = np.array([0.2, 0.4, 0.5, 0.6, 0.55, 0.5])
    model_tau = np.array([10.0, 14, 17, 20, 19, 18])
    line = np.exp(-0.5 * ((NM - 515.0) / 9.0) ** 2)
    model_spectra = np.stack([line, np.roll(line, 1)])
    proto = protocol_from_curve(Curve("s", t, model_plqy, light=light, excitation_nm=excitation))
    photons = np.asarray(jax.jit(jax.vmap(lambda irr, nm: MODEL.absorbed_photons_cm2_s(
        ASM, TRUE, irr, nm)))(proto.irradiance_mw_cm2, proto.wavelength_nm))
    step = np.array([0, 0, 1, 1, 2, 2])
    rng = np.random.default_rng(0)
    counts = 3e-10 * model_plqy * photons[step] * np.exp(0.02 * rng.standard_normal(6))
    counts[4] = 5e3  # a count in the dark: not fitted
    spectra = np.full((6, NM.size), np.nan)
    spectra[[0, 5]] = 7.0 * model_spectra + 0.04 * 7 * rng.standard_normal(model_spectra.shape)
    curve = Curve("s", t, np.where(light > 0, model_plqy + 0.01, np.nan), light=light,
                  excitation_nm=excitation, lifetime_ns=model_tau + 0.3, intensity=counts,
                  spectrum_nm=NM, spectrum=spectra)
    observed, left_out = observed_group([curve], [step], [np.array([0, 1, 0, 1, 0, 1])],
                                        [proto], KINDS, NOISE, None)
    values = dict(plqy=jnp.asarray(model_plqy), lifetime_ns=jnp.asarray(model_tau),
                  spectrum=jnp.asarray(model_spectra))
    one = jax.tree.map(lambda a: a[0], observed)
    return one, values, proto.arrays, jnp.asarray(step), counts, spectra, left_out


def test_each_kind_s_residuals_and_the_exact_factors():
    obs, values, proto, step, counts, spectra, left_out = _case()
    r = np.asarray(jax.jit(lambda o, v: o.residuals(v, TRUE, MODEL, ASM, proto, step))(
        obs, values))
    assert left_out == {"dark intensity": 1}
    n = 6
    plqy, tau, inten, spec, log_c = r[:n], r[n:2 * n], r[2 * n:3 * n], r[3 * n:-1], r[-1]
    np.testing.assert_allclose(plqy, [-0.01] * 4 + [0, 0])  # dark rows hold no PLQY
    np.testing.assert_allclose(tau, (0.01 / 0.5) * -0.3)  # weight: PLQY noise / its noise
    # log c: the mean of log data - log model over the lit rows; the residuals about it. The
    # photons absorbed differ between the two lights' steps (cross-section, depth profile).
    photons = np.asarray(jax.jit(jax.vmap(lambda irr, nm: MODEL.absorbed_photons_cm2_s(
        ASM, TRUE, irr, nm)))(proto.irradiance_mw_cm2, proto.wavelength_nm))
    assert photons[2] == 0 and abs(photons[1] / photons[0] - 1) > 0.05
    d = np.log(np.asarray(values["plqy"][:4]) * photons[[0, 0, 1, 1]]) - np.log(counts[:4])
    np.testing.assert_allclose(log_c, -d.mean(), rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_c), 3e-10, rtol=0.05)  # 2 % noise on 4 rows
    np.testing.assert_allclose(inten, np.r_[(0.01 / 0.02) * (d - d.mean()), 0, 0], atol=1e-15)
    # Spectra: each divided by its maximum, the amplitude the least-squares one.
    spec = spec.reshape(2, NM.size) / (0.01 / 0.04)
    for k, row in enumerate((0, 5)):
        data = spectra[row] / spectra[row].max()
        m = np.asarray(values["spectrum"][k])
        a = m @ data / (m @ m)
        np.testing.assert_allclose(spec[k], a * m - data, atol=1e-14)
        assert abs(spec[k] @ m) < 1e-12  # the residual is orthogonal to the model's line


def test_projected_residuals_differentiate_as_central_differences():
    """What the fit's Jacobian carries through the projections (jax.jvp in the fitter):
    derivatives with respect to the model's values and a parameter at once (the absorption
    edge: the ratio of photons absorbed under the two lights, which the factor cannot take)."""
    from jax.flatten_util import ravel_pytree

    obs, values, proto, step, *_ = _case()
    flat, unflatten = ravel_pytree(values)

    def res(x):
        params = TRUE.replace(absorption_edge_nm=x[-1])
        return obs.residuals(unflatten(x[:-1]), params, MODEL, ASM, proto, step)

    x0 = jnp.concatenate([flat, jnp.asarray([float(TRUE.absorption_edge_nm)])])
    jac = np.asarray(jax.jit(jax.jacfwd(res))(x0))
    res = jax.jit(res)
    assert np.abs(jac[12:18, -1]).max() > 1e-4  # the intensities feel the edge
    for i in range(x0.size):
        e = 1e-6 * max(1.0, abs(float(x0[i]))) * np.eye(x0.size)[i]
        h = e[i]
        diff = (np.asarray(res(x0 + e)) - np.asarray(res(x0 - e))) / (2 * h)
        np.testing.assert_allclose(jac[:, i], diff, rtol=1e-6, atol=1e-8)

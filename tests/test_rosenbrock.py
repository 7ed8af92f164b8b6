"""ROS34PW2 with the dense Jacobian (the `mean_field` default) and the forward sensitivities
the fitter integrates with it."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.fitting import fit_problem
from jaxnc.solve import ROS34PW2


def test_third_order_at_the_end_and_in_the_dense_output():
    # y' = -y^2, y(0) = 1: y = 1 / (1 + t). Fixed steps h and h / 2 (traced: one program);
    # saves between the steps come from the cubic Hermite dense output.
    term = diffrax.ODETerm(lambda t, y, args: -(y**2))
    ts = jnp.array([0.37, 1.13, 2.0])  # never on a step boundary below
    exact = 1.0 / (1.0 + np.asarray(ts))

    @jax.jit
    def solve(dt):
        return diffrax.diffeqsolve(term, ROS34PW2(), 0.0, 2.0, dt, jnp.array([1.0]),
                                   stepsize_controller=diffrax.ConstantStepSize(),
                                   saveat=diffrax.SaveAt(ts=ts), max_steps=1000).ys[:, 0]

    err = [np.abs(np.asarray(solve(jnp.asarray(2.0 / n))) - exact) for n in (25, 50, 100)]
    order_end = np.log2(err[1][-1] / err[2][-1])
    assert 2.8 < order_end < 3.2  # third order; the ratio settles to 8 as h -> 0
    # Dense output: a cubic Hermite interpolant is fourth-order locally, so interior saves
    # carry the integration's third-order global error, not an interpolation error of its own.
    order_dense = np.log2(err[1][:2] / err[2][:2])
    assert np.all(order_dense > 2.7), order_dense


@pytest.fixture(scope="module")
def problem():
    """One-curve-per-sample fit problem: a global rate, a per-sample starting coverage and a
    lifetime column, so that every route into the Jacobian is exercised (vector field,
    initial state, PLQY and lifetime observables)."""
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    true = jaxnc.Parameters.hashimoto2024()
    params = {"a": true.replace(coverage_initial=0.2), "b": true.replace(coverage_initial=0.3)}
    data = synthetic_dataset(asm, params, {"a": "light 2h; dark 100h", "b": "light 2h; dark 100h"},
                             saves_per_step=11, noise=0.0, lifetimes=True)
    setup = fit_problem(data, asm, true, ["k_desorption_per_h", "k_trap_per_s"],
                                  ["coverage_initial"], "mean_field", None, 10.0, 0.01, 1e-9,
                                  1e-12)
    assert isinstance(setup.problem.settings.solver, ROS34PW2)  # the sensitivity path
    return setup


@pytest.mark.integration
def test_sensitivities_match_finite_differences_of_the_solve(problem):
    z = np.asarray(problem.z0) + 0.1  # off the truth: residuals and derivatives all nonzero
    r, jac = problem.evaluate(z)
    assert np.all(np.isfinite(jac)) and jac.shape == (r.size, 4)
    residuals = eqx.filter_jit(lambda prob, x: prob.residuals(x))  # the solve alone

    def at(x):
        return np.asarray(residuals(problem.problem, jnp.asarray(x)))

    h = 1e-3
    fd = np.stack([(at(z + h * e) - at(z - h * e)) / (2 * h)
                   for e in np.eye(z.size)], axis=1)
    # Central differences in the transformed (log / logit) space: truncation ~h^2 = 1e-6 of
    # a column, solver noise ~rtol / h = 1e-6; the sensitivities are accurate to ~10 rtol.
    scale = np.abs(fd).max(axis=0)
    assert np.all(scale > 1e-3)  # every column moves the residuals: the check is not blind
    assert np.max(np.abs(jac - fd) / scale) < 1e-4, np.max(np.abs(jac - fd) / scale)
    # Per-sample columns: each sample's coverage moves only its own residuals.
    n = r.size // 2
    assert np.all(jac[:n, 3] == 0) and np.all(jac[n:, 2] == 0)

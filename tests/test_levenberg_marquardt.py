"""The fitter's Levenberg–Marquardt (`jaxnc.fitting.LevenbergMarquardt`) on problems whose
answer is known without it: an exponential decay whose least-squares optimum is fixed by
construction, Rosenbrock's function, a linear problem (its normal equations), and a point
where the model cannot be evaluated."""

import numpy as np
import pytest

from jaxnc.fitting import LevenbergMarquardt

T = np.linspace(0.0, 4.0, 25)


def _decay(z):
    """Residual model `a exp(-k t)` in `z = (log a, log k)`: values and the Jacobian."""
    a, k = np.exp(z)
    f = a * np.exp(-k * T)
    return f, np.column_stack([f, -k * T * f])


def _run(fn, z0, **options):
    lm = LevenbergMarquardt(**{**dict(ftol=1e-15, xtol=1e-15, gtol=1e-14, max_iter=200),
                               **options})
    state = lm.init(fn, np.asarray(z0, dtype=float))
    while not lm.terminate(state):
        state = lm.step(fn, state)
    return state, lm.best(state)


def test_exponential_decay_reaches_its_least_squares_optimum():
    # Data = the model at z* plus noise orthogonal to the Jacobian's columns there: then
    # J(z*)^T r(z*) = 0, so z* is the least-squares optimum exactly, whatever the noise.
    z_star = np.log([0.7, 1.3])
    f_star, jac = _decay(z_star)
    noise = np.random.default_rng(0).normal(0.0, 0.02, T.size)
    q, _ = np.linalg.qr(jac)
    y = f_star + noise - q @ (q.T @ noise)

    def fn(z):
        f, j = _decay(z)
        return f - y, j

    state, (loss, z) = _run(fn, np.log([2.0, 0.3]))  # a factor ~3-4 off in each
    # The optimum to round-off of the normal equations: cond(J)^2 eps ~ 1e-13 relative.
    np.testing.assert_allclose(z, z_star, rtol=0, atol=1e-9)
    r_star = f_star - y
    assert loss == pytest.approx(float(r_star @ r_star), rel=1e-10)
    assert state.converged and state.k < 50


def test_rosenbrock_valley_is_followed_to_the_minimum():
    # f = (1 - x)^2 + 100 (y - x^2)^2 as residuals (10 (y - x^2), 1 - x): minimum 0 at (1, 1),
    # from the classical start (-1.2, 1) along the curved valley.
    def fn(z):
        x, y = z
        return np.array([10 * (y - x**2), 1 - x]), np.array([[-20 * x, 10.0], [-1.0, 0.0]])

    state, (loss, z) = _run(fn, [-1.2, 1.0])
    np.testing.assert_allclose(z, [1.0, 1.0], atol=1e-8)
    assert loss < 1e-16 and state.converged


def test_a_linear_problem_is_solved_by_its_normal_equations():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(30, 3))
    b = rng.normal(size=30)
    exact = np.linalg.lstsq(a, b, rcond=None)[0]
    state, (loss, z) = _run(lambda z: (a @ z - b, a), np.zeros(3))
    np.testing.assert_allclose(z, exact, atol=1e-10)
    assert loss == pytest.approx(float(np.sum((a @ exact - b) ** 2)), rel=1e-12)


def test_a_point_that_cannot_be_evaluated_is_a_rejected_step():
    # r = exp(x) - exp(1.5), minimum at x = 1.5; the model fails (all NaN, as a failed solve
    # reports) beyond x = 1.8. From x = 0 the Gauss-Newton step (+3.5, capped at 2) lands
    # there: it must be rejected like a step that raises the loss, and the minimum reached.
    failed = []

    def fn(z):
        x = z[0]
        if x > 1.8:
            failed.append(x)
            return np.full(1, np.nan), np.full((1, 1), np.nan)
        return np.array([np.exp(x) - np.exp(1.5)]), np.array([[np.exp(x)]])

    state, (loss, z) = _run(fn, [0.0])
    assert failed  # the check is not blind: a trial point did fail
    np.testing.assert_allclose(z, [1.5], atol=1e-10)
    assert np.isfinite(loss) and loss < 1e-20

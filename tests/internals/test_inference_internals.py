"""Internals of the inference layer (see tests/internals/README.md): the sampler's log density,
a closure inside `sample`, and its gradient through the solver."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.fitting import fit_problem
from jaxnc.inference._sample import _posterior_logdensity

pytestmark = pytest.mark.integration  # a whole fit's Jacobian: not in `make test-quick`


def test_posterior_gradient_through_the_solver_matches_finite_differences():
    p = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    data = synthetic_dataset(asm, p, {"a": "light 2h; dark 50h"}, saves_per_step=6, noise=0.02,
                             seed=1)
    setup = fit_problem(data, asm, p, ["k_desorption_per_h", "k_adsorption_per_h"], [],
                        "mean_field", None, 10.0, 0.01, 1e-10, 1e-12)
    n = float(setup.n_points)
    z = jnp.asarray(setup.z0 + np.array([0.05, -0.03]))
    # One program for the value and the gradient (as the sampler calls them).
    f = eqx.filter_jit(lambda ops, zz: jax.value_and_grad(_posterior_logdensity(ops))(zz))
    for noise in (0.0, 0.02):  # integrated out; known (one program: noise is an array)
        ops = (setup.problem, jnp.asarray(setup.z0), jnp.asarray([1.0, 0.25]),
               jnp.asarray(n), jnp.asarray(noise))
        grad = np.asarray(f(ops, z)[1])
        h = 1e-5  # central differences: truncation ~h^2, round-off ~1e-16 |f| / h
        fd = [(float(f(ops, z + h * e)[0]) - float(f(ops, z - h * e)[0])) / (2 * h)
              for e in np.eye(2)]
        # The sensitivities are accurate to ~ the solver tolerance (rtol 1e-10 here).
        np.testing.assert_allclose(grad, fd, rtol=1e-5)

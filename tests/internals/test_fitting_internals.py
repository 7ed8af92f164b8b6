"""Internals of the fitting layer (see tests/internals/README.md): the multi-process path of the
residuals and their Jacobian, reached only with several processes."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.fitting import fit_problem
from jaxnc.fitting._problem import _residuals_and_jacobian
from jaxnc.fitting._sharded import ShardedResiduals

pytestmark = pytest.mark.integration  # a whole fit's Jacobian: not in `make test-quick`


def test_sharded_residuals_equal_the_whole_program():
    """A multi-process fit's path (samples split over a device mesh, blocks all-gathered and
    placed on the host), here on one device, against the one-program path: equal to
    round-off (the vmap width differs), each sample's own columns only. The two-process run
    is in the slow tier (tests/test_distributed.py)."""
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    true = jaxnc.Parameters.hashimoto2024()
    coverage = {"a": 0.15, "b": 0.25, "c": 0.20, "d": 0.30}
    temperature = {"a": 298.15, "b": 298.15, "c": 318.15, "d": 318.15}
    data = synthetic_dataset(asm, {s: true.replace(coverage_initial=v)
                                   for s, v in coverage.items()},
                             {s: f"light 3h; dark 200h at {temperature[s]}K" for s in coverage},
                             saves_per_step=16, noise=0.01, seed=1)
    free = ["k_desorption_per_h", "Ea_desorption_kj_mol", "k_adsorption_per_h"]
    start = true.replace(k_desorption_per_h=2 * true.k_desorption_per_h,
                         Ea_desorption_kj_mol=0.5 * true.Ea_desorption_kj_mol,
                         k_adsorption_per_h=2 * true.k_adsorption_per_h, coverage_initial=0.4)
    setup = fit_problem(data, asm, start, free, ["coverage_initial"], "mean_field", None, 10.0,
                        0.01, None, None)
    z = jnp.asarray(setup.z0)
    r1, j1, c1 = _residuals_and_jacobian(setup.problem, z)
    r2, j2, c2 = ShardedResiduals(setup.problem)(z)
    assert j2.shape == j1.shape == (r1.size, 3 + 4)
    np.testing.assert_allclose(r2, r1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(j2, j1, rtol=1e-12, atol=1e-15)
    assert all(np.array_equal(a, b) for a, b in zip(c1, c2, strict=True))
    assert np.count_nonzero(j2[:, 3:]) == np.count_nonzero(j1[:, 3:]) > 0

"""Internals of the design layer (see tests/internals/README.md): the bisection that isolates a
sweep point whose compiled solve raises, and the augmented-Lagrangian bookkeeping at an
undefined metric."""

import equinox as eqx
import jax
import numpy as np
import pytest

import jaxnc
from jaxnc.design._batching import _isolate_errors
from jaxnc.design._constraints import AugmentedLagrangian, Constraint, feasible, violations


def test_a_point_that_raises_is_isolated_and_marked():
    # A batch that raises (an equinox runtime check inside one member's solve) is bisected;
    # every other point keeps its result.
    bad = {3, 6}

    def run(members):
        if bad & set(members.tolist()):
            raise eqx.EquinoxRuntimeError("Traceback...\n\nequinox.EquinoxRuntimeError: A linear "
                                          "solver received\nnon-finite input.\n\nmore help")
        return [members * 10.0]

    results = list(_isolate_errors(run, np.arange(8)))
    failed = {int(m[0]): msg for m, out, msg in results if msg is not None}
    done = np.concatenate([m for m, out, msg in results if msg is None])
    assert failed == {3: "A linear solver received non-finite input.",
                      6: "A linear solver received non-finite input."}
    assert sorted(done.tolist()) == [0, 1, 2, 4, 5, 7]
    assert len(results) <= 2 * len(bad) * int(np.log2(8)) + 1


def test_a_chunk_out_of_memory_is_one_error_not_a_bisection():
    calls = []

    def run(members):
        calls.append(members.size)
        raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to "
                                         "allocate 12.00GiB")

    with pytest.raises(jaxnc.ResourceError, match="chunk-size"):
        list(_isolate_errors(run, np.arange(64)))
    assert calls == [64]  # not 2 x 64 - 1 runs that fail the same way


def test_an_undefined_constraint_metric_does_not_poison_the_search():
    """A NaN metric (t90 undefined in a locked region) at one start: that start is infeasible
    and gets no penalty gradient; its multiplier keeps its value; the other start is
    untouched."""
    constraints = [Constraint("t90_activation_h", "<=", 2.0)]
    penalty = AugmentedLagrangian(constraints, [0], n_starts=2)
    values = np.array([[np.nan], [3.0]])  # start 0 undefined, start 1 violates by 50 %
    jac = np.array([[[np.nan, np.nan]], [[1.0, -2.0]]])
    viol = violations(constraints, [0], values)
    assert list(feasible(viol)) == [False, False]
    grad = penalty.add_gradient(np.zeros((2, 2)), viol, jac)
    np.testing.assert_allclose(grad, [[0.0, 0.0], [25.0, -50.0]])  # mu 100 x 0.5 x dg
    for _ in range(3):
        penalty.update_multipliers(viol)
    assert penalty.lam[0, 0] == 0.0 and penalty.lam[1, 0] == pytest.approx(150.0)

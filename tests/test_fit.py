"""Parameter recovery: data simulated with known parameters plus 1 % noise, fitted from a start
where each free parameter is off by a factor of 2."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

import jaxnc
from jaxnc.data import Dataset, protocol_from_curve, synthetic_dataset
from jaxnc.fitting import fit, fit_problem, fit_problem_of

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

FREE = ["k_desorption_per_h", "k_adsorption_per_h", "k_trap_nonradiative_per_ns"]


def _synthetic(tmp_path, asm, model, protocol, saves, seed=0):
    true = jaxnc.Parameters.hashimoto2024()
    sol = jaxnc.simulate(asm, true, protocol, model=model, saves_per_step=saves)
    rng = np.random.default_rng(seed)
    y = np.asarray(sol.plqy) * (1 + 0.01 * rng.standard_normal(sol.plqy.shape))
    rows = ["time_h,plqy,light"] + [
        f"{float(t)!r},{float(v)!r},{lt}" for t, v, lt in zip(np.asarray(sol.time_h), y, sol.light,
                                                strict=True)
    ]
    path = tmp_path / "synthetic.csv"
    path.write_text("\n".join(rows) + "\n")
    return true, Dataset.from_csv(path)


def _recovered(value, truth, stderr, name):
    """Within 5 %, or within 2 standard errors where the data cannot pin it that well; and
    the standard error itself not so large that the second branch would pass a fit that never
    moved (all these fits start 1.5-2x off; with 1 % noise on 16+ points per step the
    standard errors seen are 0.4-4 % of the value, so 10 % leaves room without letting a
    fit that says "anything goes" through)."""
    assert abs(value - truth) <= max(0.05 * truth, 2 * stderr), name
    assert stderr < 0.1 * abs(truth), f"{name}: stderr {stderr:g} against {truth:g}"


def _check_recovery(result, true):
    for name in FREE:
        _recovered(result.values[name], float(getattr(true, name)), result.stderr[name], name)
    # 1 % multiplicative noise on PLQY 0.18-0.68: the residual rms must be at noise level.
    assert 0.001 < result.rmse_plqy < 0.01


def test_protocol_is_read_from_the_light_column(tmp_path):
    _, data = _synthetic(tmp_path, jaxnc.Assembly.isolated(1), "mean_field",
                         "light 3h; dark 30h; light 1h", 4)
    proto = protocol_from_curve(data.curves[0])
    assert proto.kinds == ("light", "dark", "light")
    np.testing.assert_allclose(proto.duration_h, [3.0, 30.0, 1.0])


@pytest.mark.parametrize(
    "model, shape, saves",
    [("mean_field", (2, 2, 1), 16),  # the lattice and saves of the tests below: one program
     pytest.param("field", (2, 2, 2), 21, marks=pytest.mark.slow)],
)
def test_fit_recovers_parameters(tmp_path, model, shape, saves):
    asm = jaxnc.Assembly.supercrystal(*shape)
    true, data = _synthetic(tmp_path, asm, model, "light 3h; dark 300h", saves)
    start = true.replace(**{n: 2 * float(getattr(true, n)) for n in FREE})
    result = fit(data, asm, start, FREE, model=model, progress=False)
    _check_recovery(result, true)
    assert result.correlation.shape == (3, 3)
    np.testing.assert_allclose(np.diag(result.correlation), 1.0)
    assert set(result.to_json()) >= {"values", "stderr", "correlation", "loss", "rmse_plqy",
                                     "iterations", "wall_s", "settings"}


def test_a_file_in_other_units_gives_the_same_fit_and_blank_cells_are_left_out(tmp_path):
    # The lattice, steps and saves of test_fit_recovers_parameters: its compiled program.
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    true, data = _synthetic(tmp_path, asm, "mean_field", "light 3h; dark 300h", 16)
    c = data.curves[0]
    rows = ["Time (min);PLQY (%);Light"] + [
        f"{60 * float(t)!r};{100 * float(y)!r};{'on' if lit else 'off'}".replace(".", ",")
        for t, y, lit in zip(c.time_h, c.plqy, c.light, strict=True)]
    (tmp_path / "lab.csv").write_text("\n".join(rows) + "\n")
    lab = Dataset.from_csv(tmp_path / "lab.csv")
    start = true.replace(**{n: 2 * float(getattr(true, n)) for n in FREE})
    a = fit(data, asm, start, FREE, model="mean_field", starts=1, progress=False)
    b = fit(lab, asm, start, FREE, model="mean_field", starts=1, progress=False)
    for name in FREE:  # the data agree to ~1e-15 (unit conversion), the fits to far below 1e-6
        assert b.values[name] == pytest.approx(a.values[name], rel=1e-6), name
    # A blank PLQY cell: that residual and its Jacobian row are zero, the others unchanged,
    # and it is not counted as a data point.
    k = 5
    blank = Dataset((dataclasses.replace(c, plqy=np.where(np.arange(len(c)) == k, np.nan,
                                                          c.plqy)),))
    full_setup = fit_problem_of(data, asm, start, FREE, [], {})
    blank_setup = fit_problem_of(blank, asm, start, FREE, [], {})
    r_full, j_full = full_setup.evaluate(full_setup.z0)
    r_blank, j_blank = blank_setup.evaluate(blank_setup.z0)
    assert blank_setup.n_points == full_setup.n_points - 1
    assert r_blank[k] == 0.0 and not j_blank[k].any() and r_full[k] != 0.0
    keep = np.arange(r_full.size) != k
    np.testing.assert_array_equal(r_blank[keep], r_full[keep])
    np.testing.assert_array_equal(j_blank[keep], j_full[keep])


def _joint_data(asm, noise, seed):
    """Four samples: two dark temperatures x two starting coverages."""
    true = jaxnc.Parameters.hashimoto2024()
    coverage = {"a": 0.15, "b": 0.25, "c": 0.20, "d": 0.30}
    temperature = {"a": 298.15, "b": 298.15, "c": 318.15, "d": 318.15}
    params = {s: true.replace(coverage_initial=v) for s, v in coverage.items()}
    protocols = {s: f"light 3h; dark 200h at {temperature[s]}K" for s in coverage}
    return true, coverage, synthetic_dataset(asm, params, protocols, saves_per_step=16,
                                             noise=noise, seed=seed)


# The joint, batched, multi-start, lifetime and mixed-assembly tests simulate their data on one
# lattice through one step sequence (light, dark; 16 saves), so that program compiles once.
SMALL = (2, 2, 1)


def test_curves_with_light_and_dark_in_another_order_share_one_batch():
    # Four curves of one lattice and two steps, the last dark first: one vmapped batch, whose
    # residuals and Jacobian equal each curve's alone. (The problem structures of
    # test_batched_fit_equals_separate_fits: their compiled programs.)
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    true, _, data = _joint_data(asm, 0.01, 2)
    curves = list(data.curves)
    curves[3] = dataclasses.replace(curves[3], light=1.0 - curves[3].light)
    joint = fit_problem_of(Dataset(tuple(curves)), asm, true, [], ["k_desorption_per_h"], {})
    assert len(joint.problem.groups) == 1 and joint.problem.groups[0].rows == (0, 1, 2, 3)
    assert joint.protocols[3].kinds == ("dark", "light") != joint.protocols[0].kinds
    r, jac = joint.evaluate(joint.z0)
    n = len(curves[0])
    for k, curve in enumerate(curves):
        alone = fit_problem_of(Dataset((curve,)), asm, true, ["k_desorption_per_h"], [], {})
        r_k, jac_k = alone.evaluate(alone.z0)
        # One vmapped batch against one curve: XLA may order floating-point work
        # differently, so equal to round-off, not bitwise.
        np.testing.assert_allclose(r[k * n:(k + 1) * n], r_k, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(jac[k * n:(k + 1) * n, k], jac_k[:, 0], rtol=1e-8,
                                   atol=1e-12)


def test_joint_fit_recovers_global_and_per_sample_parameters():
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    true, coverage, data = _joint_data(asm, 0.01, 1)
    # Same assembly and step kinds: the four curves form one vmapped batch.
    groups = fit_problem(data, asm, true, ["k_desorption_per_h"], [], "mean_field", None,
                         10.0, 0.01, None, None).problem.groups
    assert len(groups) == 1 and groups[0].rows == (0, 1, 2, 3)
    free = ["k_desorption_per_h", "Ea_desorption_kj_mol", "k_adsorption_per_h"]
    start = true.replace(k_desorption_per_h=2 * true.k_desorption_per_h,
                         Ea_desorption_kj_mol=0.5 * true.Ea_desorption_kj_mol,
                         k_adsorption_per_h=2 * true.k_adsorption_per_h, coverage_initial=0.4)
    result = fit(data, asm, start, free, per_sample=["coverage_initial"], progress=False)
    for n in free:
        _recovered(result.values[n], float(getattr(true, n)), result.stderr[n], n)
    for s, truth in coverage.items():
        got, se = result.sample_values[s]["coverage_initial"], result.sample_stderr[s][
            "coverage_initial"]
        _recovered(got, truth, se, s)
        assert float(result.sample_params[s].coverage_initial) == got
    assert result.columns == free + [f"coverage_initial[{s}]" for s in "abcd"]
    assert result.correlation.shape == (7, 7)
    assert 0.001 < result.rmse_plqy < 0.01


def test_sharded_residuals_equal_the_whole_program():
    """A multi-process fit's path (samples split over a device mesh, blocks all-gathered and
    placed on the host; `ShardedResiduals`), here on one device, against the one-program path
    of the test above (same structure, so its programs are reused): equal to round-off (the
    vmap width differs), each sample's own columns only, every solve a success. The
    two-process run is in the slow tier (test_distributed.py)."""
    from jaxnc.fitting import ShardedResiduals

    asm = jaxnc.Assembly.supercrystal(*SMALL)
    true, _, data = _joint_data(asm, 0.01, 1)
    free = ["k_desorption_per_h", "Ea_desorption_kj_mol", "k_adsorption_per_h"]
    start = true.replace(k_desorption_per_h=2 * true.k_desorption_per_h,
                         Ea_desorption_kj_mol=0.5 * true.Ea_desorption_kj_mol,
                         k_adsorption_per_h=2 * true.k_adsorption_per_h, coverage_initial=0.4)
    setup = fit_problem(data, asm, start, free, ["coverage_initial"], "mean_field", None, 10.0,
                        0.01, None, None)
    r1, j1 = setup.evaluate(setup.z0)
    r2, j2, codes = ShardedResiduals(setup.problem)(jnp.asarray(setup.z0))
    assert j2.shape == j1.shape == (r1.size, 3 + 4)
    np.testing.assert_allclose(r2, r1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(j2, j1, rtol=1e-12, atol=1e-15)
    assert all(np.all(np.asarray(c) == 0) for c in codes)
    assert np.count_nonzero(j2[:, 3:]) == np.count_nonzero(j1[:, 3:]) > 0


def test_batched_fit_equals_separate_fits():
    """With only per-sample parameters the joint problem splits into independent ones."""
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    true, _, data = _joint_data(asm, 0.01, 2)
    start = true.replace(k_desorption_per_h=2 * true.k_desorption_per_h)
    joint = fit(data, asm, start, [], per_sample=["k_desorption_per_h"], progress=False)
    for curve in data.curves:
        alone = fit(Dataset((curve,)), asm, start, ["k_desorption_per_h"], progress=False)
        # Both stop when a step changes the loss by < ftol = 1e-10 relative: at a quadratic
        # minimum that leaves parameters within ~sqrt(1e-10) = 1e-5 relative of it.
        assert joint.sample_values[curve.sample]["k_desorption_per_h"] == pytest.approx(
            alone.values["k_desorption_per_h"], rel=1e-4)
        # Same Jacobian column; only the residual variance differs (pooled over the four
        # curves in the joint fit, with one degree of freedom per sample spent).
        s2_joint = joint.loss / (joint.n_points - 4)
        s2_alone = alone.loss / (alone.n_points - 1)
        assert joint.sample_stderr[curve.sample]["k_desorption_per_h"] == pytest.approx(
            alone.stderr["k_desorption_per_h"] * np.sqrt(s2_joint / s2_alone), rel=1e-3)


def test_joint_fit_of_different_assemblies():
    """Supercrystal and isolated cubes share the rate constants; each is its own batch."""
    true = jaxnc.Parameters.hashimoto2024()
    assemblies = {"sc": jaxnc.Assembly.supercrystal(*SMALL), "iso": jaxnc.Assembly.isolated(2)}
    data = synthetic_dataset(assemblies, true, {s: "light 3h; dark 100h" for s in assemblies},
                             saves_per_step=16, seed=6)
    groups = fit_problem(data, assemblies, true, ["k_desorption_per_h"], [], "mean_field",
                         None, 10.0, 0.01, None, None).problem.groups
    assert len(groups) == 2
    free = ["k_desorption_per_h", "k_adsorption_per_h"]
    start = true.replace(**{n: 2 * float(getattr(true, n)) for n in free})
    result = fit(data, assemblies, start, free, progress=False)
    for n in free:
        _recovered(result.values[n], float(getattr(true, n)), result.stderr[n], n)
    with pytest.raises(jaxnc.DataError, match="no assembly given for sample"):
        fit(data, {"sc": assemblies["sc"]}, start, free, progress=False)


def test_multi_start_keeps_the_best_start():
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    true, _, data = _joint_data(asm, 0.01, 3)
    free = ["k_desorption_per_h", "k_adsorption_per_h"]
    result = fit(data, asm, true, free, starts=3, seed=5, progress=False)
    assert len(result.starts) == 3
    assert result.loss == pytest.approx(min(s["loss"] for s in result.starts), rel=1e-12)
    again = fit(data, asm, true, free, starts=3, seed=5, progress=False)
    assert [s["loss"] for s in again.starts] == [s["loss"] for s in result.starts]


def test_lifetimes_pin_the_overall_rate_scale(tmp_path):
    """PLQY fixes only ratios of k_r, k_nr, k_trap_nr; the lifetime column fixes their scale.
    (With trap charging saturated: below saturation the trapped charge follows the carriers
    n = G tau, whose absolute lifetime the PLQY curve then sees too.)"""
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    true = jaxnc.Parameters.hashimoto2024().replace(k_trap_per_s=1e7)
    data = synthetic_dataset(asm, true, {"s": "light 3h; dark 100h"}, saves_per_step=16,
                             noise=0.01, seed=4, lifetimes=True)
    path = tmp_path / "with_lifetimes.csv"
    data.to_csv(path)
    data = Dataset.from_csv(path)  # the column survives the CSV round trip
    free = ["k_radiative_per_ns", "k_nonradiative_per_ns", "k_trap_nonradiative_per_ns"]
    start = true.replace(**{n: 1.5 * float(getattr(true, n)) for n in free})
    result = fit(data, asm, start, free, progress=False)
    for n in free:
        _recovered(result.values[n], float(getattr(true, n)), result.stderr[n], n)
        assert result.stderr[n] < 0.05 * float(getattr(true, n)), n  # pinned, not just covered
    # 1 % noise on lifetimes of 6-23 ns: rms misfit at noise level.
    assert 0.02 < result.rmse_lifetime_ns < 0.3
    # Weighted by their own noise, estimated from the data: 1 % of 6-23 ns.
    assert result.settings["lifetime_weight_per_ns"] is None
    assert result.goodness["lifetime"]["noise_source"] == "estimated"
    assert 0.06 * 0.5 < result.goodness["lifetime"]["noise"] < 0.23 * 1.5
    # Without the lifetimes the scale is free: the standard errors say so.
    blind = fit(data, asm, start, free, progress=False, lifetime_weight_per_ns=0.0)
    assert blind.rmse_lifetime_ns is None
    assert all(blind.stderr[n] > blind.values[n] for n in free)
    # ... and name the parameters left undetermined (JSON null, not Infinity).
    assert result.undetermined == [] and sorted(blind.undetermined) == sorted(free)
    assert all(blind.to_json()["stderr"][n] is None for n in free)
    # The free combination is the overall scale: equal weights on the three log-rates.
    (scale,) = blind.degenerate
    assert sorted(scale) == sorted(free)
    np.testing.assert_allclose(list(scale.values()), 1 / np.sqrt(3), rtol=1e-3)


@pytest.mark.slow  # ~40 s alone: the reverse-mode gradient compiles slowly
def test_adam_lbfgs_reaches_the_levenberg_marquardt_optimum():
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    true = jaxnc.Parameters.hashimoto2024()
    data = synthetic_dataset(asm, true, {"s": "light 2h; dark 100h"}, saves_per_step=11, seed=7)
    free = FREE[:2]
    start = true.replace(**{n: 2 * float(getattr(true, n)) for n in free})
    lm = fit(data, asm, start, free, progress=False)
    optax_fit = fit(data, asm, start, free, method="adam-lbfgs", progress=False)
    assert optax_fit.method == "adam-lbfgs" and optax_fit.iterations > 30  # warm-up + L-BFGS
    # Same minimum: the losses agree to the optimisers' stopping tolerances.
    assert optax_fit.loss == pytest.approx(lm.loss, rel=1e-6)
    for n in free:
        assert optax_fit.values[n] == pytest.approx(lm.values[n], rel=1e-3)


def test_unknown_free_parameter_is_refused(tmp_path):
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    _, data = _synthetic(tmp_path, asm, "mean_field", "light 3h; dark 100h", 16)
    with pytest.raises(jaxnc.ParameterError, match="k_typo"):
        fit(data, asm, jaxnc.Parameters.hashimoto2024(), ["k_typo"])
    zero = jaxnc.Parameters.hashimoto2024().replace(escape_fraction=0.0)
    with pytest.raises(jaxnc.ParameterError, match="escape_fraction starts at 0"):
        fit(data, asm, zero, ["escape_fraction"])


def test_a_checkpoint_resumes_only_the_fit_that_wrote_it(tmp_path):
    # The structure of test_fit_recovers_parameters (its compiled program); one iteration.
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    true, data = _synthetic(tmp_path, asm, "mean_field", "light 3h; dark 300h", 16)
    start = true.replace(**{n: 2 * float(getattr(true, n)) for n in FREE})
    ckpt = tmp_path / "fit.npz"
    fit(data, asm, start, FREE, progress=False, max_iter=1, checkpoint=ckpt)
    again = fit(data, asm, start, FREE, progress=False, max_iter=1, checkpoint=ckpt,
                resume=True)
    assert again.iterations == 1  # resumed at its end, not started over
    changed = Dataset((dataclasses.replace(data.curves[0],
                                           plqy=data.curves[0].plqy * (1 + 1e-9)),))
    others = [(changed, asm, "mean_field"), (data, asm.replace(gap_nm=2.0), "mean_field"),
              (data, asm, "field")]
    for other_data, other_asm, model in others:
        with pytest.raises(jaxnc.DataError, match="another fit"):
            fit(other_data, other_asm, start, FREE, model=model, progress=False, max_iter=1,
                checkpoint=ckpt, resume=True)


INTERRUPTED_RUN = """
import os, signal, sys
import jaxnc
from jaxnc.data import Dataset
from jaxnc.fitting import fit
data = Dataset.from_csv(sys.argv[1])
true = jaxnc.Parameters.hashimoto2024()
free = {free!r}
start = true.replace(**{{n: 2 * float(getattr(true, n)) for n in free}})

def interrupt(iteration, loss):
    if iteration == 3:  # three Levenberg-Marquardt iterations in
        os.kill(os.getpid(), signal.SIGINT)

fit(data, jaxnc.Assembly.supercrystal(2, 2, 1), start, free, progress=False,
    checkpoint=sys.argv[2], checkpoint_every=1000, callback=interrupt)
"""


@pytest.mark.slow
def test_fit_interrupted_by_sigint_resumes_to_the_same_loss(tmp_path):
    import subprocess
    import sys

    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    free = FREE[:2]
    true, data = _synthetic(tmp_path, asm, "mean_field", "light 2h; dark 100h", 11)
    start = true.replace(**{n: 2 * float(getattr(true, n)) for n in free})
    whole = fit(data, asm, start, free, progress=False)

    ckpt = tmp_path / "fit.npz"
    script = tmp_path / "run.py"
    script.write_text(INTERRUPTED_RUN.format(free=free))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "synthetic.csv"),
                           str(ckpt)], capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr
    assert ckpt.exists()  # written on the interrupt, although the period was never reached
    resumed = fit(data, asm, start, free, progress=False, checkpoint=ckpt, resume=True)
    assert len(resumed.history) == len(whole.history)
    assert resumed.loss == pytest.approx(whole.loss, rel=1e-8)
    for n in free:
        assert resumed.values[n] == pytest.approx(whole.values[n], rel=1e-8)

"""Design sweeps and design optimisation: gradients against finite differences, the physics of
the map, failure isolation, checkpoint/resume, sharding, and the metric read-outs against
closed forms.

Every sweep here uses the same structure (the default 4x4x4 mean-field supercrystal, default
protocol and metrics, batches of 8) so that the module-level compiled batch is built once.
"""

import csv
import json
import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import jaxnc
from jaxnc.cli import main
from jaxnc.design import (
    EXTRAPOLATED,
    METRICS,
    OK,
    Constraint,
    Reading,
    evaluate,
    optimize_design,
    sweep,
)

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

# Batches of 8 points solved 2 at a time: the 4-device run below then has the same lockstep
# groups (2 points per device) as the one-device runs, so their results agree to round-off.
CHUNK = 8  # experiments/design_map.py --quick uses the same two (its test shares programs)
WIDTH = 2


# The steep flank of the steric switch, the paper's geometry, and (slow tier: the same code
# path a third time, 12 s) a longer ligand.
@pytest.mark.parametrize("gap, lig", [(2.2, 1.6), (3.0, 1.6),
                                      pytest.param(3.4, 2.0, marks=pytest.mark.slow)])
def test_sweep_gradients_match_central_differences(params, gap, lig):
    # Fourth-order central differences, h = 5e-3 nm: truncation ~ (h / 0.2 nm)^4 ~ 4e-7 of the
    # derivative at the sharpest switch (width 0.2 nm); solver error at rtol 1e-8 contributes
    # ~ 1e-9 / h. The bar is 1e-4 relative; measured worst 2.3e-6.
    h = 5e-3
    stencil = np.array([1.0, -8.0, 0.0, 8.0, -1.0]) / (12 * h)
    # One line along each axis through (gap, lig), of CHUNK points (the stencil's five
    # and three more), so that every sweep here runs the one compiled batch of CHUNK.
    line = h * np.arange(-2, CHUNK - 2)
    lines = {"gap_nm": dict(gap_nm=gap + line, ligand_nm=[lig]),
             "ligand_nm": dict(gap_nm=[gap], ligand_nm=lig + line)}
    for axis, grid in lines.items():
        r = sweep("supercrystal", params, **grid, rtol=1e-8, atol=1e-11, chunk_size=CHUNK,
                  vector_width=WIDTH, progress=False)
        assert (r.status == "ok").all(), r.reason
        for m in r.metrics:
            got = r.gradients[f"d_{m}_d_{axis}"].ravel()[2]
            expected = stencil @ r.values[m].ravel()[:5]
            assert got == pytest.approx(expected, rel=1e-4), (gap, lig, m, axis)


@pytest.fixture(scope="module")
def physics_map(params):
    return sweep("supercrystal", params, gap_nm=[1.5, 2.0, 3.0, 4.0, 5.0],
                 ligand_nm=[1.6, 2.4], chunk_size=CHUNK, vector_width=WIDTH,
                 progress=False)


def test_sweep_map_shows_locked_working_and_lost_regimes(physics_map, params):
    r = physics_map
    gap, lig = list(r.axes["gap_nm"]), list(r.axes["ligand_nm"])

    def at(metric, g, lg):
        return float(r.values[metric][gap.index(g), lig.index(lg)])

    def start(g, lg):  # each geometry's own start: the gap moves exciton transfer
        asm = jaxnc.Assembly.supercrystal(gap_nm=g, ligand_nm=lg)
        return float(jaxnc.simulate(asm, params, "dark 1h", model="mean_field",
                                    saves_per_step=2).plqy[0])

    # Paper geometry (3.0 / 1.6 nm): activates to ~68 %, fades in the dark, keeps its ligand.
    assert at("plqy_activated", 3.0, 1.6) > 0.6
    assert at("plqy_retained", 3.0, 1.6) < at("plqy_activated", 3.0, 1.6) - 0.1
    assert at("ligand_lost_fraction", 3.0, 1.6) < 0.01
    # Wide gap (5.0 nm > 2 x 1.6 nm + 0.5 nm): the nanospace is open, like isolated cubes -
    # the free ligand leaves and there is no activation (t90 undefined, status partial), only
    # the trace that trap filling gives any lit film (isolated cubes: < 2 points, the paper's
    # "trace increase"; ~1 point here).
    assert at("ligand_lost_fraction", 5.0, 1.6) > 0.9
    assert at("plqy_activated", 5.0, 1.6) - start(5.0, 1.6) < 0.02
    assert np.isnan(at("t90_activation_h", 5.0, 1.6))
    assert np.isnan(r["d_t90_activation_h_d_gap_nm"][gap.index(5.0), lig.index(1.6)])
    assert r.status[gap.index(5.0), lig.index(1.6)] == "partial"
    assert "t90_activation_h undefined" in r.reason[gap.index(5.0), lig.index(1.6)]
    # Gap closed on the ligand (1.5 nm around 2.4 nm): adsorption and desorption both nearly
    # locked (the steric factor is 1e-3 there, so light's charge boost still moves a little):
    # the rise under light and the fall in the dark are below 5 % of the paper geometry's.
    rise = at("plqy_activated", 3.0, 1.6) - start(3.0, 1.6)
    fall = at("plqy_activated", 3.0, 1.6) - at("plqy_retained", 3.0, 1.6)
    assert at("plqy_activated", 1.5, 2.4) - start(1.5, 2.4) < 0.05 * rise
    assert abs(at("plqy_activated", 1.5, 2.4) - at("plqy_retained", 1.5, 2.4)) < 0.05 * fall
    assert at("ligand_lost_fraction", 1.5, 2.4) < 1e-3
    # Bounds everywhere: PLQY within (0, 1), lost fraction within [0, 1].
    for m in ("plqy_activated", "plqy_retained"):
        assert np.all((r.values[m] > 0) & (r.values[m] < 1))
    assert np.all((r.values["ligand_lost_fraction"] >= 0) & (r.values["ligand_lost_fraction"]
                                                             <= 1))


def test_sweep_csv_has_one_row_per_point(physics_map, tmp_path):
    path = tmp_path / "sweep.csv"
    physics_map.to_csv(path)
    rows = path.read_text().splitlines()
    header = rows[0].split(",")
    assert header[:2] == ["gap_nm", "ligand_nm"] and header[-2:] == ["status", "reason"]
    assert set(physics_map.metrics) == set(METRICS) - {"pl_peak_nm"}  # on request only
    for m in physics_map.metrics:
        assert {m, f"d_{m}_d_gap_nm", f"d_{m}_d_ligand_nm"} <= set(header)
    assert len(rows) == 1 + 10
    best = physics_map.best("plqy_activated")
    assert best["plqy_activated"] == pytest.approx(np.nanmax(physics_map["plqy_activated"]))
    steady = physics_map.best("cycle_repeatability")  # best at 0, not at its maximum
    assert abs(steady["cycle_repeatability"]) == pytest.approx(
        np.nanmin(np.abs(physics_map["cycle_repeatability"])))


def test_interrupted_sweep_resumes_from_finished_chunks(params, physics_map, tmp_path):
    ckpt = tmp_path / "sweep.npz"
    kw = dict(gap_nm=[1.5, 2.0, 3.0, 4.0, 5.0], ligand_nm=[1.6, 2.4], chunk_size=CHUNK,
              vector_width=WIDTH, progress=False, checkpoint=ckpt)

    def stop_after_first(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep("supercrystal", params, callback=stop_after_first, **kw)
    assert ckpt.exists()
    calls = []
    resumed = sweep("supercrystal", params, resume=True,
                    callback=lambda done, total: calls.append(done), **kw)
    assert calls == [2]  # only the second of two chunks was solved again
    for m in physics_map.metrics:
        np.testing.assert_array_equal(resumed.values[m], physics_map.values[m])
        np.testing.assert_array_equal(resumed[f"d_{m}_d_gap_nm"], physics_map[f"d_{m}_d_gap_nm"])
    with pytest.raises(jaxnc.DataError, match="another sweep"):
        sweep("supercrystal", params.replace(k_desorption_per_h=1e-3), resume=True, **kw)


@pytest.mark.slow
def test_a_failing_point_in_a_sweep_does_not_lose_the_others(params):
    # 1e300 mW/cm2 overflows the carrier generation, so that point's solve runs out of steps
    # (ROS34PW2, the mean-field default, integrates even 1e9 mW/cm2 in ~270 steps).
    r = sweep("supercrystal", params, gap_nm=[3.0], ligand_nm=[1.6],
              irradiance_mw_cm2=[10.0, 1e300], max_steps=400, progress=False)
    assert list(r.status.ravel()) == ["ok", "failed"]
    assert "maximum number of solver steps" in r.reason.ravel()[1]
    assert np.isnan(r.values["plqy_activated"].ravel()[1])
    assert r.values["plqy_activated"].ravel()[0] > 0.6


def test_metrics_need_the_protocol_steps_they_read(params):
    with pytest.raises(jaxnc.ParameterError, match="plqy_retained.*dark step"):
        sweep("supercrystal", params, "light 3h", gap_nm=[3.0], ligand_nm=[1.6],
              metrics=["plqy_retained"], progress=False)
    with pytest.raises(jaxnc.ParameterError, match="cycle_repeatability needs two light"):
        sweep("supercrystal", params, "light 3h; dark 10h", gap_nm=[3.0], ligand_nm=[1.6],
              metrics=["cycle_repeatability"], progress=False)
    with pytest.raises(jaxnc.ParameterError, match="unknown metric 'brightness'"):
        sweep("supercrystal", params, gap_nm=[3.0], ligand_nm=[1.6], metrics=["brightness"])
    with pytest.raises(jaxnc.ParameterError, match="gap_nm must be positive"):
        sweep("supercrystal", params, gap_nm=[-1.0], ligand_nm=[1.6])
    with pytest.raises(jaxnc.ParameterError, match="needs an assembly factory"):
        sweep(jaxnc.Assembly.supercrystal(2, 2, 2), params, gap_nm=[3.0], ligand_nm=[1.6],
              layers=[1, 2])


def test_read_outs_match_closed_forms():
    # Light: P = P0 + A (1 - exp(-t / tau)) for T = 3 h; 90 % of the step's change,
    # 0.9 A (1 - exp(-T / tau)), is reached at t90 = -tau ln(1 - 0.9 (1 - exp(-T / tau))).
    # Dark: the excess decays by the pseudo-second-order law x = x0 / (1 + k x0 t) ->
    # half-life 1 / (k x0), read inside the step when it is reached and extrapolated through
    # the step's end when it is not.
    p0, amp, tau = 0.16, 0.5, 0.7
    for dark_h, k in [(100.0, 0.2), (10.0, 0.05)]:
        x0 = amp * (1 - np.exp(-3.0 / tau))
        light_t = 3.0 * np.linspace(0, 1, 21) ** 2
        dark_t = dark_h * np.linspace(0, 1, 21) ** 2
        light = p0 + amp * (1 - np.exp(-light_t / tau))
        dark = p0 + x0 / (1 + k * x0 * dark_t)
        rate = np.stack([amp / tau * np.exp(-light_t / tau),
                         -k * x0**2 / (1 + k * x0 * dark_t) ** 2])
        obs = dict(plqy=jnp.asarray(np.stack([light, dark])))
        rate, times = jnp.asarray(rate), jnp.asarray(np.stack([light_t, dark_t]))
        names = ("t90_activation_h", "dark_half_life_h", "plqy_activated", "plqy_retained")
        values, flags = evaluate(names, Reading(("light", "dark"), times, obs, rate))
        t90, half, act, ret = np.asarray(values)
        # Cubic Hermite error: |P - H| <= max|4th derivative of P| dt^4 / 384 over the bracket
        # (dt at most the last spacing), which moves a crossing by that over |dP/dt| there.
        t90_exact = -tau * np.log(1 - 0.9 * (1 - np.exp(-3.0 / tau)))
        dt = light_t[-1] - light_t[-2]
        bound = amp / tau**4 * dt**4 / 384 / (amp / tau * np.exp(-t90_exact / tau))
        assert abs(t90 - t90_exact) <= bound
        half_exact = 1 / (k * x0)
        reached = half_exact < dark_h
        if reached:
            dt = dark_t[-1] - dark_t[-2]
            slope = k * x0**2 / (1 + k * x0 * half_exact) ** 2
            assert abs(half - half_exact) <= 24 * x0 * (k * x0) ** 4 * dt**4 / 384 / slope
        else:  # the extrapolation is the PSO law itself: exact to round-off
            assert half == pytest.approx(half_exact, rel=1e-12)
        assert list(np.asarray(flags))[1] == (OK if reached else EXTRAPOLATED)
        assert act == pytest.approx(light[-1]) and ret == pytest.approx(dark[-1])


def test_design_map_quick_optimum_beats_the_grid_under_its_constraint(run_quick, physics_map):
    """`experiments/design_map.py --quick` (the gallery's design map): its sweep and search
    run in chunks of CHUNK points, WIDTH at a time, as `physics_map`, so they reuse its
    compiled batch."""
    out = run_quick("design_map")
    res = json.loads((out / "design.json").read_text())
    assert res["feasible"] and res["constraints"][0]["value"] >= 0.6 * (1 - 1e-3)
    with open(out / "sweep.csv") as fh:
        grid = list(csv.DictReader(fh))
    assert len(grid) == 8 * 4
    feasible = [float(r["plqy_retained"]) for r in grid if float(r["plqy_activated"]) >= 0.6]
    assert feasible and res["value"] >= max(feasible) - 1e-3
    assert res["metrics"]["plqy_retained"] == res["value"]
    assert set(res["gradient"]) == {"gap_nm", "ligand_nm"}


def test_constraint_text_is_checked(params):
    with pytest.raises(jaxnc.ParameterError, match="best at 0; constrain it"):
        optimize_design("supercrystal", params, objective="cycle_repeatability")
    assert Constraint.parse(" t90_activation_h <= 2 ") == Constraint("t90_activation_h", "<=",
                                                                     2.0)
    for bad in ("plqy_activated>0.5", "brightness>=1", "plqy_activated>=x"):
        with pytest.raises(jaxnc.ParameterError):
            Constraint.parse(bad)


def test_sharded_sweep_equals_single_device(physics_map, tmp_path):
    # Four host CPU devices stand in for GPUs; the batch axis is sharded over a Mesh. The
    # single-device reference is `physics_map`, the same sweep in this (one-device) process.
    out = tmp_path / "sharded.npz"
    script = textwrap.dedent(f"""
        import jax, numpy as np, jaxnc
        from jaxnc.design import sweep
        assert jax.device_count() == 4
        r = sweep("supercrystal", jaxnc.Parameters.hashimoto2024(),
                  gap_nm=[1.5, 2.0, 3.0, 4.0, 5.0], ligand_nm=[1.6, 2.4], chunk_size=8,
                  vector_width=2, progress=False)
        assert r.settings["devices"] == 4
        np.savez({str(out)!r}, **r.values, **r.gradients)
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert physics_map.settings["devices"] == 1
    with np.load(out) as sharded:
        # The partitioned program is compiled on its own and XLA may order floating-point
        # operations differently, so equality is to round-off, not bit for bit: seen 1 ulp
        # (2e-16) on one metric value and 1e-12 relative on the smallest gradients. (With
        # different lockstep widths the values differed at 2e-13: the widths match here.)
        # A metric that is a difference of PLQYs (~0.2-0.7) carries their absolute round-off
        # (~1e-16 each) whatever its size: seen 2.8e-17 on a value of -1.7e-3 (1.6e-14
        # relative), so values near zero are held to 1e-15 absolute.
        for m in physics_map.metrics:
            np.testing.assert_allclose(sharded[m], physics_map.values[m], rtol=1e-14,
                                       atol=1e-15)
        for k, v in physics_map.gradients.items():
            np.testing.assert_allclose(sharded[k], v, rtol=1e-10, atol=0)


def test_sweep_command_writes_one_row_per_point_and_plot(tmp_path, capsys):
    out, png = tmp_path / "sweep.csv", tmp_path / "sweep.png"
    # --vector-width 2: the compiled batch of the sweeps above, reused.
    assert main(["sweep", "--gap-nm", "1.5:5:4", "--ligand-nm", "1.6,2.4", "--out", str(out),
                 "--plot", str(png), "--vector-width", "2"]) == 0
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert {"gap_nm", "ligand_nm", "plqy_retained", "d_plqy_retained_d_gap_nm",
            "d_plqy_retained_d_ligand_nm", "status", "reason"} <= set(rows[0])
    assert {r["status"] for r in rows} <= {"ok", "partial"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "sweep.csv.partial.npz").exists()  # removed once finished
    assert "grid best" in capsys.readouterr().out


def test_design_command_writes_the_optimum(tmp_path):
    out = tmp_path / "design.json"
    assert main(["design", "--constraint", "plqy_activated>=0.6", "--steps", "3", "--out",
                 str(out), "--quiet", "--vector-width", "2"]) == 0
    result = json.loads(out.read_text())
    assert {"optimum", "value", "gradient", "constraints", "feasible", "starts"} <= set(result)
    assert 1.5 <= result["optimum"]["gap_nm"] <= 5.0
    assert len(result["starts"]) == 8


@pytest.mark.slow  # ~40 s: its own compiled batch (a spectrum per point); the default-run
# stand-in is tests/test_spectra.py's gradient check of the same spectrum_of_state.
def test_sweep_pl_peak_is_the_solution_peak_and_its_gradient_the_differences(params):
    h = 2e-3
    r = sweep("supercrystal", params, gap_nm=[2.9 - h, 2.9, 2.9 + h], ligand_nm=[1.4],
              metrics=["pl_peak_nm"], rtol=1e-8, atol=1e-11, progress=False)
    assert (r.status == "ok").all(), r.reason
    peaks = r.values["pl_peak_nm"].ravel()
    sol = jaxnc.simulate(jaxnc.Assembly.supercrystal(4, 4, 4, gap_nm=2.9, ligand_nm=1.4),
                         params, "light 3h; dark 100h; light 3h", model="mean_field", rtol=1e-8,
                         atol=1e-11)
    light_end = sol.step_slice(0).stop - 1
    assert peaks[1] == pytest.approx(float(sol.pl_peak_nm[light_end]), abs=1e-4)
    fd = (peaks[2] - peaks[0]) / (2 * h)  # ~1e-5 nm read-out noise / 4e-3 nm: 1e-2 relative
    assert abs(fd) > 0.05
    assert r.gradients["d_pl_peak_nm_d_gap_nm"].ravel()[1] == pytest.approx(fd, rel=2e-2)

"""The default parameter set against the paper's statements, conservation, bounds, the model
hierarchy, gradients, and failure reporting."""

import jax
import numpy as np
import pytest

import jaxnc

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

CYCLE = "light 468nm 3h; dark 600h"
# Conservation, the closed assembly and the field/mean-field comparisons share one lattice
# shape and one step sequence (light, dark, light), so their programs are compiled once.
SMALL = (4, 4, 3)
RELIGHT = "light 3h; dark {dark_h}h; light {light_h}h"


def _rise(sol, k=0):
    pl = np.asarray(sol.plqy)[sol.step_slice(k)]
    return pl


@pytest.fixture(scope="module")
def supercrystal_cycle(params):
    return jaxnc.simulate(jaxnc.Assembly.supercrystal(), params, CYCLE, model="field")


def test_supercrystal_matches_the_paper(supercrystal_cycle):
    sol = supercrystal_cycle
    light = _rise(sol, 0)
    start, peak, at_3h = light[0], light.max(), light[-1]
    assert 0.13 <= start <= 0.19  # 16.0 +- 3 %
    assert 0.653 <= peak <= 0.713  # 68.3 +- 3 %
    assert at_3h - start >= 0.9 * (peak - start)  # maximum within ~3 h
    end_dark = np.asarray(sol.plqy)[-1]
    assert peak - end_dark >= 0.8 * (peak - start)  # back >= 80 % after 600 h of dark
    # Lifetime of the lit array (paper: 22.6 ns) follows from k_r and the 68.3 % maximum.
    assert float(np.asarray(sol.lifetime_ns)[sol.step_slice(0)].max()) == pytest.approx(
        22.6, rel=0.05
    )


def test_isolated_cubes_barely_respond(params):
    # The same start state as the arrays (paper: 19.4 %), only a trace increase under light.
    sol = jaxnc.simulate(jaxnc.Assembly.isolated(16), params, "light 468nm 5h", model="field")
    pl = np.asarray(sol.plqy)
    assert 0.179 <= pl[0] <= 0.209  # 19.4 +- 1.5 %
    assert 0.0 < pl[-1] - pl[0] < 0.02


def test_monolayer_activates(params):
    sol = jaxnc.simulate(jaxnc.Assembly.monolayer(8, 8), params, "light 468nm 3h",
                         model="field")
    pl = np.asarray(sol.plqy)
    assert 0.15 <= pl[0] <= 0.21  # 18.1 +- 3 %
    assert pl.max() - pl[0] > 0.10


@pytest.mark.parametrize(
    "model", ["mean_field", pytest.param("field", marks=pytest.mark.slow)]
)
def test_three_cycles_reach_the_same_maximum(params, model):
    proto = "; ".join([CYCLE] * 3)
    sol = jaxnc.simulate(jaxnc.Assembly.supercrystal(), params, proto, model=model)
    maxima = [np.asarray(sol.plqy)[sol.step_slice(k)].max() for k in (0, 2, 4)]
    assert max(maxima) - min(maxima) < 0.01
    assert float(sol.ligand_lost[-1]) > 0  # open faces do leak, slowly


def test_ligand_is_conserved_and_bounded_through_a_relit_cycle(params):
    asm = jaxnc.Assembly.supercrystal(
        *SMALL, vacancy_fraction=0.15, edge_sd_nm=1.1, key=jax.random.PRNGKey(3)
    )
    # A leaky assembly: about a sixth of the ligand escapes, so all three pools are sizeable.
    p = params.replace(escape_fraction=3e-6)
    sol = jaxnc.simulate(asm, p, RELIGHT.format(dark_h=600, light_h=3), model="field")
    assert float(sol.time_h[-1]) == pytest.approx(606.0)
    total = np.asarray(sol.ligand_total)
    assert np.max(np.abs(total - total[0])) <= 1e-9 * total[0]
    lost = np.asarray(sol.ligand_lost)
    assert 0.05 * total[0] < lost[-1] < 0.5 * total[0]
    assert np.all(np.diff(lost) >= -1e-12 * total[0])  # lost only grows
    cov = np.asarray(sol.coverage)[:, np.asarray(asm.mask) > 0]
    # Bounds hold for the exact flow; the solver may undershoot by ~atol.
    assert cov.min() >= -1e-9 and cov.max() <= 1 + 1e-9
    assert np.asarray(sol.free_ligand).min() >= -1e-9
    q = np.asarray(sol.charge)
    assert q.min() >= -1e-9 and q.max() <= 1 + 1e-9


def test_closed_assembly_loses_nothing(params):
    p = params.replace(escape_fraction=0.0)
    sol = jaxnc.simulate(jaxnc.Assembly.supercrystal(*SMALL), p,
                         RELIGHT.format(dark_h=600, light_h=3), model="field")
    assert float(np.abs(sol.ligand_lost).max()) == 0.0


def test_field_agrees_with_mean_field_when_transport_is_fast(params):
    # Uniform lattice, fast transport, no escape: each layer of `field` is one well-mixed pool.
    p = params.replace(diffusivity_nm2_s=1e4, escape_fraction=0.0)
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    proto = RELIGHT.format(dark_h=100, light_h=1)
    f = jaxnc.simulate(asm, p, proto, model="field")
    m = jaxnc.simulate(asm, p, proto, model="mean_field")
    np.testing.assert_allclose(f.time_h, m.time_h)
    assert np.max(np.abs(np.asarray(f.plqy) - np.asarray(m.plqy))) < 0.005
    np.testing.assert_allclose(f.ligand_adsorbed, m.ligand_adsorbed, rtol=1e-3)


def test_field_and_mean_field_differ_when_edges_leak(params):
    # Away from that limit the reduction is an approximation: slow transport and leaky
    # open faces make the edge cubes of `field` poorer than the layer average.
    p = params.replace(diffusivity_nm2_s=0.01, escape_fraction=0.05)
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    proto = RELIGHT.format(dark_h=300, light_h=3)
    f = jaxnc.simulate(asm, p, proto, model="field")
    m = jaxnc.simulate(asm, p, proto, model="mean_field")
    # (seen: 7e-3 apart)
    assert np.max(np.abs(np.asarray(f.plqy) - np.asarray(m.plqy))) > 1e-3


def test_solver_failure_is_reported_with_advice(params):
    with pytest.raises(jaxnc.SolverError, match="max_steps"):
        jaxnc.simulate(jaxnc.Assembly.isolated(1), params, "light 3h", max_steps=3)
    sol = jaxnc.simulate(jaxnc.Assembly.isolated(1), params, "light 3h", max_steps=3,
                         throw=False)
    assert not bool(sol.step_ok[0])


def test_protocol_text_and_solution_columns(params, tmp_path):
    # The lattice and steps of the tests above (their compiled program), 61 saves per step:
    # the first step's 61, then 60 per step (a step's first save is the previous one's last).
    sol = jaxnc.simulate(jaxnc.Assembly.supercrystal(*SMALL), params,
                         RELIGHT.format(dark_h=2, light_h=1), model="field")
    assert sol.time_h.shape == (181,)
    np.testing.assert_allclose(np.asarray(sol.time_h)[[0, 60, 120, 180]], [0, 3, 5, 6])
    np.testing.assert_array_equal(sol.light, [1] * 61 + [0] * 60 + [1] * 60)
    sol.to_csv(tmp_path / "run.csv")
    data = np.genfromtxt(tmp_path / "run.csv", delimiter=",", names=True)
    assert data.dtype.names[:4] == ("time_h", "step", "light", "plqy")
    np.testing.assert_allclose(data["plqy"], sol.plqy)


def test_protocols_of_one_length_share_one_program(params):
    # The lattice and steps of the tests above; the step kinds in another order. The solve's
    # program takes the protocol's values without its kinds, so nothing is traced again.
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    jaxnc.simulate(asm, params, RELIGHT.format(dark_h=2, light_h=1), model="field")
    traced = []

    def listener(event, duration_s, fun_name="", **_):
        if event == "/jax/core/compile/jaxpr_trace_duration" and fun_name == "_solve":
            traced.append(fun_name)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        sol = jaxnc.simulate(asm, params, "dark 2h; light 1h; dark 1h", model="field")
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert traced == []
    np.testing.assert_array_equal(sol.light, [0] * 61 + [1] * 60 + [0] * 60)
    assert sol.kinds == ("dark", "light", "dark")


def test_continuing_from_a_saved_state_equals_one_run(params):
    asm = jaxnc.Assembly.supercrystal(*SMALL)
    whole = jaxnc.simulate(asm, params, RELIGHT.format(dark_h=50, light_h=1), model="field")
    end_of_light = whole.step_slice(0).stop - 1
    rest = jaxnc.simulate(asm, params, "dark 50h; light 1h", model="field",
                          initial_state=whole.state_at(end_of_light))
    assert float(rest.plqy[-1]) == pytest.approx(float(whole.plqy[-1]), rel=1e-7)

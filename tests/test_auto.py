"""`free="auto"`: the free set chosen from sensitivities and the data's noise, and the default
command-line fit on cycle data it was not tuned to (experiments/cycle_study.py)."""

import numpy as np
import pytest
from conftest import load_experiment

from jaxnc.data import Dataset
from jaxnc.fitting import choose_free, noise_level

cycle_study = load_experiment("cycle_study")


def test_choose_frees_what_the_residuals_resolve():
    t = np.linspace(0, 1, 60)
    strong = np.sin(3 * t)
    jac = np.column_stack([
        strong,                          # a: resolved
        2 * strong + 1e-4 * t**2,        # b: a's twin (a sliver of its own)
        1e-4 * np.cos(5 * t),            # c: below the noise
        np.exp(-4 * t),                  # d: resolved, independent
    ])
    choice = choose_free(jac, ["a", "b", "c", "d"], noise=0.01)
    # Of the twins, the one that moves the residuals more (b) goes first.
    assert sorted(choice.free) == ["b", "d"]
    assert "not separable from b" in choice.fixed["a"] and "too little" in choice.fixed["c"]
    # The predicted errors are those of the chosen pair: s sqrt(diag((J^T J)^-1)).
    cov = np.linalg.inv(jac[:, [1, 3]].T @ jac[:, [1, 3]])
    assert choice.stderr["b"] == pytest.approx(0.01 * np.sqrt(cov[0, 0]), rel=1e-9)
    # A forced column (a per-sample parameter) is kept and constrains the rest.
    forced = choose_free(jac[:, [1, 0, 3]], ["b[s]", "a", "d"], noise=0.01, forced=1)
    assert forced.free == ["d"] and "b[s]" in forced.fixed["a"]
    # An assumed noise (too few points to estimate it) is said so.
    assert "assumed" not in choice.lines()[0]
    choice.noise_estimated = False
    assert "assumed" in choice.lines()[0] and choice.to_json()["noise_estimated"] is False


def test_noise_is_estimated_from_the_data_alone(tmp_path):
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 300, 150))
    y = 0.2 + 0.5 * np.exp(-t / 60) + 0.005 * rng.standard_normal(t.size)
    path = tmp_path / "decay.csv"
    path.write_text("time_h,plqy\n" + "".join(f"{float(a)!r},{float(b)!r}\n"
                                                for a, b in zip(t, y, strict=True)))
    # 148 scaled second differences: the median estimator's spread is ~1.3/sqrt(148) ~ 11 %.
    assert noise_level(Dataset.from_csv(path)) == pytest.approx(0.005, rel=0.25)


# Its default-run stand-in is one of these datasets through `experiments/cycle_study.py
# --quick` (tests/test_gallery.py::test_cycle_study_quick_reaches_the_noise).
@pytest.mark.slow
def test_default_command_line_fit_reaches_the_noise_on_nine_of_ten_cycle_datasets():
    results = cycle_study.run(10, seed=0, spread=2.0, extra=[])
    assert sum(r["rmse_over_noise"] <= 1.5 for r in results) >= 9

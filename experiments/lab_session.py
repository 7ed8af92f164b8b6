"""A lab session, fitted as a lab records it: in-situ PL counts under the activating light over
two light/dark cycles (an unknown collection factor), three absolute PLQY spot measurements in
an integrating sphere, and PL spectra at the start and the end, in three files linked by the
sample name, fitted together.

    python experiments/lab_session.py [--quick]

The script writes the three files first (DIR/pl_counts.csv: `Sample`, `Time (min)`,
`PL intensity (a.u.)`, `Light`; DIR/plqy_spots.csv: `sample`, `time (h)`, `PLQY (%)`;
DIR/spectra.csv: `sample`, `time (h)`, one column per wavelength) from the default set on a
6x6x3 film with known noise (counts 2 %, PLQY 1 point, spectra 1 % of their maximum), then
fits them from a start 20-30 % off, with the free set chosen by the data (`free="auto"`),
and prints the truth beside the fit and every kind's goodness of fit. The same fit from the
command line:

    jaxnc fit DIR/pl_counts.csv DIR/plqy_spots.csv DIR/spectra.csv --nx 6 --ny 6 --nz 3

The figure is each kind's data, fit and residuals in units of its noise; the fit goes to
DIR/fit.json. `--quick` writes half the points (counts every 7.5 min instead of 3.75; the same
fit).
"""

from __future__ import annotations

import _gallery
import numpy as np

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.plot import plot_fit
from jaxnc.runtime import atomic_path, write_json_atomic

PROTOCOL = "light 3h; dark 20h; light 3h; dark 20h"
NOISE = {"intensity": 0.02, "plqy": 0.01, "spectrum": 0.01}
SPOTS_H = (0.0, 3.0, 23.0)  # before the light, at its end, after the first dark
NM = np.arange(470.0, 561.0, 2.0)
OFF = {"k_adsorption_per_h": 1.3, "k_desorption_per_h": 0.7, "k_trap_nonradiative_per_ns": 1.2,
       "homogeneous_fwhm_mev": 1.2}


def write_text_atomic(path, text: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write(text)


def write_session(out, asm, truth, saves: int, seed: int = 0) -> list:
    """The three files of the session (paths), from `truth` with `NOISE`."""
    clean = synthetic_dataset(asm, truth, {"film": PROTOCOL}, noise=0.0, saves_per_step=saves,
                              observe=("plqy", "intensity", "spectrum"), spectrum_nm=NM,
                              collection_factor=2e-10).curves[0]
    rng = np.random.default_rng(seed)
    t, light = clean.time_h, clean.light
    counts = clean.intensity * np.exp(NOISE["intensity"] * rng.standard_normal(t.size))
    lines = ["Sample,Time (min),PL intensity (a.u.),Light"] + [
        f"film,{60 * ti:.3f},{'' if np.isnan(c) else f'{c:.1f}'},{'on' if li else 'off'}"
        for ti, c, li in zip(t, counts, light, strict=True)]
    paths = [out / "pl_counts.csv"]
    write_text_atomic(paths[0], "\n".join(lines) + "\n")
    spots = [int(np.argmin(np.abs(t - h))) for h in SPOTS_H]
    plqy = clean.plqy[spots] + NOISE["plqy"] * rng.standard_normal(len(spots))
    paths.append(out / "plqy_spots.csv")
    write_text_atomic(paths[1], "sample,time (h),PLQY (%)\n" + "".join(
        f"film,{float(t[i])!r},{100 * p:.2f}\n" for i, p in zip(spots, plqy, strict=True)))
    ends = [0, t.size - 1]  # spectra at the start and the end
    spectra = clean.spectrum[ends]
    spectra = spectra + NOISE["spectrum"] * spectra.max(axis=1, keepdims=True) * \
        rng.standard_normal(spectra.shape)
    paths.append(out / "spectra.csv")
    write_text_atomic(paths[2], "sample,time (h)," + ",".join(f"{nm:g} nm" for nm in NM)
                      + "\n" + "".join(f"film,{float(t[i])!r}," + ",".join(f"{v:.2f}" for v in s)
                                       + "\n" for i, s in zip(ends, spectra, strict=True)))
    return paths


def main(argv: list[str] | None = None) -> int:
    args = _gallery.parser(__doc__, "lab_session").parse_args(argv)
    out = _gallery.outputs(args)
    truth = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.supercrystal(6, 6, 3)
    paths = write_session(out, asm, truth, saves=25 if args.quick else 49)
    data = [jaxnc.Dataset.from_csv(p) for p in paths]
    for p, d in zip(paths, data, strict=True):
        print(f"{p.name}: {d.summary()}")
    start = truth.replace(**{n: f * float(getattr(truth, n)) for n, f in OFF.items()})
    result = jaxnc.fit(data, asm, start, "auto", progress=not args.quick)
    print("\n".join(result.free_choice.lines()))
    print("\n".join(result.lines()))
    for n in result.free:
        print(f"{n:30s} truth {float(getattr(truth, n)):.5g}")
    write_json_atomic(out / "fit.json", result.to_json())
    plot_fit(jaxnc.data.combine_datasets(data), result, asm, args.figure)
    print(f"wrote {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

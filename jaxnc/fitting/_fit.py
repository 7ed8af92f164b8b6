"""Gradient-based fitting of model parameters to measured curves (PLQY, lifetimes, PL counts,
spectra): the front end, `fit()`.

Free parameters are optimised in a transformed space (log for rates and other positive values,
logit for fractions, scaled identity for signed ones), by default with Levenberg–Marquardt on
the residuals, whose Jacobian comes from forward-mode differentiation through the ODE solver
(never finite differences); optax Adam then L-BFGS on reverse-mode gradients is the
alternative. Curves that share an assembly and a number of steps are solved as one `vmap`ped
batch. Standard errors and correlations come from the Gauss–Newton (Laplace) approximation
`s^2 (J^T J)^-1` at the optimum, mapped to natural units by the delta method.

The pieces, in the order a fit uses them:

- `_protocols.py`: the protocol a curve implies; where each data row falls among save times.
- `_transforms.py`: `Transform`, natural values to the optimisation space and back.
- `_observations.py`: each kind of data against the model, its noise and weight.
- `_problem.py`: the residual problem (batched curves, residuals, Jacobian); `_setup.py`:
  its setup from `fit`'s arguments.
- `_levenberg_marquardt.py`, `_adam_lbfgs.py`: the two methods, as `init`/`step`/`terminate`
  objects with pytree states.
- `_multistart.py`: the host loop over starts (progress, checkpoints, Ctrl-C, callback).
- `_checkpoint.py`: a run saved to and loaded from one `.npz`.
- `_uncertainty.py`, `_result.py`: standard errors and correlations; `FitResult`.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from ..data import Dataset, combine_datasets, protocol_from_curve
from ..errors import ParameterError
from ..geometry import Assembly
from ..models import get_model
from ..parameters import PARAMETER_INFO, Parameters
from ..protocol import Protocol
from ..runtime import distributed
from ._adam_lbfgs import AdamLBFGS
from ._auto import candidates_for, choose_free
from ._checkpoint import _FitCheckpoint
from ._levenberg_marquardt import LevenbergMarquardt
from ._multistart import _Run, _run_starts
from ._observations import UNITS
from ._result import FitResult, _fit_result
from ._setup import fit_problem_of
from ._transforms import Transform

__all__ = ["FitResult", "fit", "protocol_from_curve", "Transform"]

METHODS = ("lm", "adam-lbfgs")


def fit(
    data: Dataset | list[Dataset],
    assembly: Assembly | dict,
    params: Parameters,
    free: list[str] | str,
    model: str = "mean_field",
    *,
    per_sample: list[str] = (),
    protocol: Protocol | str | None = None,
    irradiance_mw_cm2: float = 10.0,
    lifetime_weight_per_ns: float | None = None,
    noise: dict | None = None,
    method: str = "lm",
    starts: int | str = 1,
    seed: int = 0,
    start_spread: float = 0.7,
    max_iter: int = 100,
    ftol: float = 1e-10,
    xtol: float = 1e-10,
    gtol: float = 1e-12,
    warmup_steps: int = 30,
    learning_rate: float = 0.05,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 16384,
    solver=None,
    progress: bool = True,
    checkpoint=None,
    checkpoint_every: int = 10,
    resume: bool = False,
    callback=None,
) -> FitResult:
    """Fit model parameters to measured curves (PLQY, PL intensity under the light in any
    counts, lifetimes, spectra; any mix, linked by sample): one curve, several jointly, or a
    batch.

    All curves share the global `free` parameters; `per_sample` parameters get one value per
    sample (e.g. `coverage_initial`). Curves with the same assembly and number of steps are
    solved as one `vmap`ped, jit-compiled batch (the GPU training run); the compiled residual
    function is reused by later fits of the same structure.

    **Arguments:**

    - `data`: a [`Dataset`][] (one curve per sample), or several (files of different
      instruments) joined by sample name ([`combine_datasets`][jaxnc.data.combine_datasets]).
    - `assembly`: an [`Assembly`][] for every curve, or `{sample: Assembly}` for joint fits of
      different assemblies (e.g. supercrystal + isolated cubes).
    - `params`: starting values (and the fixed ones).
    - `free`: global parameters to fit (see `Parameters.names()`), or `"auto"`: those the data
      can determine, chosen from the sensitivities at the start and the data's noise
      ([`choose_free`][jaxnc.fitting.choose_free]; chosen again at the optimum if the fit
      stays above the noise); `result.free_choice` says what was freed and why the rest
      stayed fixed. `per_sample`: parameters fitted per sample.
    - `model`: `"mean_field"` (default, fast) or `"field"`.
    - `protocol`: one protocol for every curve; default: from each curve's `light` and
      `temperature_k` columns, light at `irradiance_mw_cm2` (mW/cm²) and 468 nm.
    - `noise`: `{kind: one standard deviation}` of the measurements, for any of `plqy`
      (fraction), `lifetime` (ns), `intensity` (relative: 0.02 is 2 %) and `spectrum`
      (fraction of each spectrum's maximum); a kind not given is estimated from the data's
      scatter about their own trend ([`noise_levels`][jaxnc.fitting.noise_levels]). Each
      kind's residuals are weighted by its noise (in PLQY-equivalent units), so data of
      every kind count by what they resolve.
    - `lifetime_weight_per_ns`: None (default): lifetimes weighted by their noise like every
      kind; a number: their residuals (ns) times this weight (PLQY fraction per ns), e.g.
      0.01 counts 1 ns like 1 PLQY point. 0 ignores lifetimes.
    - `method`: `"lm"` (default): Levenberg–Marquardt on the residuals with their Jacobian by
      forward-mode differentiation through the solver (one compiled function, one
      evaluation per iteration; best for up to ~10 parameters per sample); `"adam-lbfgs"`:
      `warmup_steps` of optax Adam (`learning_rate`) then optax L-BFGS on reverse-mode
      gradients. Neither uses finite differences. Parameters are optimised in a transformed
      space: log for positive values, logit for fractions, scaled for signed ones.
    - `starts` (a number, or `"auto"`: 4 for `mean_field`, 1 for `field`), `seed`,
      `start_spread`: multi-start. Start 0 is `params`; the others are drawn
      around it in the transformed space (normal, standard deviation `start_spread`, i.e.
      about a factor of 2 for rates) from `seed`. The best final loss wins.
    - `max_iter`: iterations per start (for `"adam-lbfgs"`: L-BFGS iterations after the
      warm-up). `ftol`, `xtol`: stop when an accepted step lowers the loss by less than `ftol`
      relative or moves the transformed parameters by less than `xtol` relative; `gtol`: stop
      when the gradient's largest entry (L-BFGS: norm) is below it.
    - `rtol`, `atol`: ODE tolerances (default: the solver's, see
      [`default_tolerances`][jaxnc.solve.default_tolerances]).
    - `max_steps`: solver steps allowed per protocol step.
    - `solver`: as for [`simulate`][jaxnc.solve.simulate] (`"ros3"`, `"ros2"`, `"kvaerno5"` or
      a diffrax solver; default the model's ROS34PW2).
    - `progress`: tqdm bar with the current loss (on a terminal only).
    - `checkpoint`: a `.npz` file where the optimiser state is saved every `checkpoint_every`
      iterations, on Ctrl-C (then `KeyboardInterrupt` is re-raised) and at the end, written
      whole; with `resume=True` the fit continues from it along the same path as an
      uninterrupted fit.
    - `callback`: called as `callback(iteration, loss)` after every completed iteration.

    **Returns:** a [`FitResult`][].

    **Raises:** `ParameterError` for an unknown, repeated or badly started parameter;
    `DataError` for data the protocol cannot explain or a sample without an assembly;
    `SolverError` naming the sample, the protocol step and the solver's reason when the model
    cannot be solved at the best point of any start.
    """
    # Long: the public signature and its docstring; the body is ~20 lines.
    if isinstance(data, (list, tuple)):  # several files: one dataset, by sample
        data = combine_datasets(data)
    per_sample = list(per_sample)
    options = dict(model=model, per_sample=per_sample, protocol=protocol,
                   irradiance_mw_cm2=irradiance_mw_cm2,
                   lifetime_weight_per_ns=lifetime_weight_per_ns, noise=noise, method=method,
                   seed=seed,
                   start_spread=start_spread, max_iter=max_iter, ftol=ftol, xtol=xtol,
                   gtol=gtol, warmup_steps=warmup_steps, learning_rate=learning_rate, rtol=rtol,
                   atol=atol, max_steps=max_steps, solver=solver, progress=progress,
                   callback=callback)
    starts = _resolve_starts(starts, model)
    if isinstance(free, str):
        if free != "auto":
            raise ParameterError(f"free must be a list of names or 'auto', got {free!r}")
        if checkpoint is not None:
            raise ParameterError("an automatic free set (free='auto', the command line's "
                                 "default --free auto) is fitted in stages and cannot be "
                                 "checkpointed; name the free parameters (--free) to "
                                 "checkpoint a fit")
        return _fit_auto(data, assembly, params, starts, options)
    return _fit_named(data, assembly, params, list(free), starts, options,
                      dict(path=checkpoint, every=checkpoint_every, resume=resume))


def _fit_named(data, assembly, params, free, starts, options, checkpoint) -> FitResult:
    """`fit` with the free parameters named: the problem, the starts, the optimiser (from
    the `method` name, once), the multi-start run, the result."""
    o = options
    method, per_sample = o["method"], o["per_sample"]
    check_fit_arguments(free + per_sample, method, starts, o["max_iter"])
    if method != "lm" and jax.process_count() > 1:
        raise ParameterError(f"a multi-process fit shares the work of method 'lm' only; "
                             f"{method!r} would run whole on every process")
    setup = fit_problem_of(data, assembly, params, free, per_sample, o)
    rng = np.random.default_rng(o["seed"])
    initial = [setup.z0] + [setup.z0 + o["start_spread"] * rng.standard_normal(setup.z0.size)
                            for _ in range(int(starts) - 1)]
    t_start = time.perf_counter()
    if method == "lm":
        optimiser = LevenbergMarquardt(o["ftol"], o["xtol"], o["gtol"], o["max_iter"])
        fn = setup.evaluate
    else:
        optimiser = AdamLBFGS(float(o["learning_rate"]), o["warmup_steps"], o["max_iter"],
                               o["gtol"])
        fn = setup.problem
    ckpt = (_FitCheckpoint(checkpoint["path"], dict(
        free=free, per_sample=per_sample, n_points=setup.n_points, method=method,
        starts=int(starts), seed=int(o["seed"]), problem=problem_digest(data, setup)))
        if checkpoint["path"] is not None else None)
    resume = ckpt is not None and checkpoint["resume"]
    run = ckpt.load(optimiser.template(initial[0])) if resume else None
    if resume:  # several processes resume from one file, or none does
        distributed.agree(-1 if run is None else len(run.history), "the fit checkpoint")
    if run is None:
        run = _Run(optimiser.init(fn, initial[0]))
    run = _run_starts(optimiser, fn, initial, run, checkpoint=ckpt,
                      checkpoint_every=checkpoint["every"], progress=o["progress"],
                      callback=o["callback"])
    wall = time.perf_counter() - t_start
    problem = setup.problem
    settings = dict(
        model=problem.model.name, free=free, per_sample=per_sample, method=method,
        starts=int(starts), seed=int(o["seed"]), start_spread=o["start_spread"],
        max_iter=o["max_iter"], ftol=o["ftol"], xtol=o["xtol"], gtol=o["gtol"],
        warmup_steps=o["warmup_steps"], learning_rate=o["learning_rate"],
        solver=type(problem.settings.solver).__name__, rtol=float(problem.settings.rtol),
        atol=float(problem.settings.atol), max_steps=int(problem.settings.max_steps),
        irradiance_mw_cm2=o["irradiance_mw_cm2"],
        lifetime_weight_per_ns=o["lifetime_weight_per_ns"],
        noise=dict(setup.noise.sigma), noise_source=dict(setup.noise.source),
        protocol=None if setup.protocol is None else str(setup.protocol))
    return _fit_result(setup, run, settings, wall)


def _resolve_starts(starts, model) -> int:
    """`"auto"`: 4 starts for a model with a dense Jacobian (`mean_field`: cheap evaluations;
    the loss surface of several kinetic rates has local minima: one of four synthetic cycle
    datasets needed them), 1 for a matrix-free one (a lattice)."""
    if isinstance(starts, str):
        if starts != "auto":
            raise ParameterError(f"starts must be a number or 'auto', got {starts!r}")
        return 1 if get_model(model).jacobian.matrix_free else 4
    return int(starts)


def _fit_auto(data, assembly, params, starts, options) -> FitResult:
    """`fit(free="auto")`: choose the free set at the start, fit; if the fit is still above
    the noise, choose again at its optimum and refit from there with the larger set."""
    choice = _choose_free(data, assembly, params, options)
    result = fit(data, assembly, params, choice.free, starts=starts, **options)
    rounds = [choice]
    for _ in range(2):
        if not np.sqrt(result.loss / max(result.n_data, 1)) > 1.5 * choice.noise_plqy:
            break
        again = _choose_free(data, assembly, result.params, options)
        if set(again.free) <= set(result.free):
            break
        refit = fit(data, assembly, result.params, again.free, starts=starts, **options)
        rounds.append(again)
        if refit.loss < result.loss:
            result, choice = refit, again
    result.free_choice = choice
    result.settings["free_choice"] = dict(choice.to_json(), rounds=len(rounds))
    return result


def _choose_free(data, assembly, params, options):
    """The [`FreeChoice`][] at `params`: one residual-and-Jacobian evaluation with every
    candidate free."""
    per_sample = options["per_sample"]
    names = candidates_for(data, per_sample)
    fixed = {}
    for n in list(names):
        x = float(np.asarray(getattr(params, n)))
        if not np.isfinite(float(Transform.for_parameter(n, x).forward(x))):
            names.remove(n)
            fixed[n] = f"starts at {x:g}, where its transform is undefined (set it with --set)"
    check_fit_arguments(names + per_sample, options["method"], 1, options["max_iter"])
    setup = fit_problem_of(data, assembly, params, names, per_sample, options)
    _, jac = setup.evaluate(setup.z0)
    setup.raise_if_failed("the start of an automatic fit")
    g = len(names)
    labels = [f"{n}[{s}]" for s in setup.samples for n in per_sample] + names
    noise, estimated = setup.noise.reference, setup.noise.estimated["plqy"]  # the residuals' unit
    choice = choose_free(np.hstack([jac[:, g:], jac[:, :g]]), labels, noise,
                    forced=jac.shape[1] - g)
    choice.noise_estimated = estimated
    if set(setup.counts) != {"plqy"}:
        choice.noise_text = "noise " + ", ".join(
            f"{k} {setup.noise.sigma[k]:.2g} {UNITS[k]} "
            f"({setup.noise.source[k]})"
            for k, n in setup.counts.items() if n)
    choice.fixed.update(fixed)
    if not choice.free and not per_sample:
        raise ParameterError("free='auto': these data determine none of the candidate "
                             f"parameters ({'; '.join(choice.lines())})")
    return choice


def check_fit_arguments(names: list[str], method: str, starts: int, max_iter: int) -> None:
    """Refuse unknown or repeated parameter names, an unknown method, no starts or iterations."""
    unknown = [n for n in names if n not in PARAMETER_INFO]
    if unknown or not names:
        raise ParameterError(f"free parameters {unknown or '[]'} unknown or empty; known: "
                             f"{', '.join(PARAMETER_INFO)}")
    if len(set(names)) != len(names):
        raise ParameterError(f"free and per-sample parameters repeat a name: {names}")
    if method not in METHODS:
        raise ParameterError(f"method {method!r} unknown; use one of {', '.join(METHODS)}")
    if int(starts) < 1 or int(max_iter) < 1:
        raise ParameterError(f"starts ({starts}) and max_iter ({max_iter}) must be >= 1")


def problem_digest(data, setup) -> str:
    """16 hex digits that change with anything that makes a fit's problem: the data (every
    number of every curve), the model and its processes, the assemblies, the protocols, the
    starting parameters and the solver settings. A checkpoint carries it, so `--resume` with
    another data file, model, assembly or protocol is refused."""
    import hashlib

    import equinox as eqx
    import jax

    digest = hashlib.sha256()
    for curve in data.curves:
        digest.update(curve.sample.encode())
        for column in (curve.time_h, curve.plqy, curve.light, curve.temperature_k,
                       curve.lifetime_ns):
            digest.update(b"-" if column is None else np.ascontiguousarray(column).tobytes())
    # The residual problem: its array leaves exactly, the rest (model and process classes,
    # free names, transforms, solver) as text.
    arrays, static = eqx.partition(setup.problem, eqx.is_array)
    for leaf in jax.tree.leaves(arrays):
        digest.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
    digest.update(eqx.tree_pformat(static).encode())
    digest.update("; ".join(str(p) for p in setup.protocols).encode())
    return digest.hexdigest()[:16]

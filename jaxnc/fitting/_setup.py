"""A fit's problem from its arguments: the curves batched into groups (one assembly, one
number of steps), what each residual entry is (kind, sample, measured or padding), the
starting vector, and `FitProblem`: evaluation of the compiled residual-and-Jacobian program."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..data import Dataset, curve_save_grid, protocol_from_curve
from ..errors import DataError, ParameterError, SolverError, runtime_error_message
from ..geometry import Assembly
from ..models import get_model
from ..protocol import Protocol
from ..runtime import cached_program, distributed
from ..solve import solver_settings
from ._observations import KINDS, MASKS, Noise, kind_weights, noise_levels, observed_group
from ._problem import ResidualProblem, _Group, _residuals_and_jacobian_of
from ._transforms import Transform

__all__ = ["FitProblem", "fit_problem", "fit_problem_of"]


def _build_groups(data: Dataset, assemblies: list[Assembly], protocols: list[Protocol],
                  kinds: tuple, noise: Noise, lifetime_weight_per_ns):
    """Batch curves that share an assembly and a number of steps; pad them to equal shape.
    Returns the groups and what was left out (`observed_group`)."""
    keyed: dict = {}
    for i, (asm, proto) in enumerate(zip(assemblies, protocols, strict=True)):
        keyed.setdefault((id(asm), proto.n_steps), []).append(i)
    groups, left_out = [], {}
    for rows in keyed.values():
        prepared = [curve_save_grid(data.curves[i].time_h, protocols[i]) for i in rows]
        width = max(grid.shape[1] for grid, _, _ in prepared)
        n = max(len(data.curves[i]) for i in rows)
        grids = [np.concatenate([g, np.repeat(g[:, -1:], width - g.shape[1], axis=1)], axis=1)
                 for g, _, _ in prepared]  # padded with the step's end
        steps = [step for _, step, _ in prepared]
        slots = [slot for _, _, slot in prepared]
        observed, dropped = observed_group([data.curves[i] for i in rows], steps, slots,
                                           [protocols[i] for i in rows], kinds, noise,
                                           lifetime_weight_per_ns)
        for k, v in dropped.items():
            left_out[k] = left_out.get(k, 0) + v
        protocol = jax.tree.map(lambda *a: jnp.stack(a), *[protocols[i].arrays for i in rows])
        stack = lambda a: jnp.asarray(np.stack(a))  # noqa: E731
        groups.append(_Group(assemblies[rows[0]], protocol, stack(grids),
                             stack([np.pad(s_, (0, n - s_.size)) for s_ in steps]),
                             stack([np.pad(s_, (0, n - s_.size)) for s_ in slots]),
                             observed, tuple(rows)))
    return tuple(groups), left_out


def _entry_kinds(groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per entry of the residual vector (extras included): its kind (an index into
    `KINDS`; `len(KINDS)` for an extra output), its sample and its mask (1: a measured
    value, 0: padding or not fitted)."""
    kinds, samples, masks = [], [], []
    for g in groups:
        o = g.observed
        for j, row in enumerate(g.rows):
            parts = [np.asarray(getattr(o, MASKS[k])[j]).ravel() for k in o.kinds]
            kinds.append(np.concatenate([np.full(p.size, KINDS.index(k))
                                         for k, p in zip(o.kinds, parts, strict=True)]
                                        + [np.full(o.n_extra, len(KINDS))]))
            masks.append(np.concatenate(parts + [np.ones(o.n_extra)]))
            samples.append(np.full(kinds[-1].size, row))
    return np.concatenate(kinds), np.concatenate(samples), np.concatenate(masks)


@dataclasses.dataclass
class FitProblem:
    """The residual problem of a fit, its starting point (transformed space) and what the
    result needs to know about the data."""

    problem: ResidualProblem
    z0: np.ndarray
    kind: np.ndarray  # per residual: its kind (index into KINDS)
    sample_of: np.ndarray  # per residual: its sample (index)
    mask: np.ndarray  # per residual: 1 for a measured value
    kinds: tuple  # the kinds of data the fit compares (`KINDS` names)
    noise: Noise
    samples: list
    protocols: list
    protocol: Protocol | None  # the one given for every curve, parsed
    notes: list = dataclasses.field(default_factory=list)  # what was not fitted, and why
    lifetime_weight_per_ns: float | None = None  # the user's weight of lifetimes, if given
    extra_samples: np.ndarray | None = None  # the sample of each extra output

    _extra_mask: np.ndarray | None = None  # which entries of the program's output are extras
    _program: object = None  # the compiled residual-and-Jacobian program, made on first use
    _failed: object = None  # the last evaluation's result codes or error text if it failed
    extras: tuple | None = None  # the last evaluation's (log factors, their Jacobian)

    @property
    def counts(self) -> dict:
        """Data points of each kind the fit compares."""
        return {k: int(self.mask[self.kind == KINDS.index(k)].sum()) for k in self.kinds}

    @property
    def weights(self) -> np.ndarray:
        """Each kind's weight (`kind_weights`)."""
        return kind_weights(self.noise, self.lifetime_weight_per_ns)

    @property
    def n_points(self) -> int:
        """PLQY data points."""
        return self.counts.get("plqy", 0)

    @property
    def n_lifetimes(self) -> int:
        return self.counts.get("lifetime", 0)

    @property
    def n_data(self) -> int:
        """Data points of every kind: the residuals' degrees of freedom before the fit."""
        return int(sum(self.counts.values()))

    @property
    def is_plqy(self) -> np.ndarray:
        return self.kind == 0

    def evaluate(self, z) -> tuple[np.ndarray, np.ndarray]:
        """Residuals and their Jacobian at `z`, as NumPy arrays; all NaN where the evaluation
        failed (`raise_if_failed` then says why). The extra outputs (log collection factors
        and their Jacobian) are kept in `extras`."""
        if self._program is None and jax.process_count() > 1:
            # Several processes (jaxnc.runtime.distributed): the samples split over all of them.
            from ._sharded import ShardedResiduals

            sharded = ShardedResiduals(self.problem)
            self._program = lambda problem, zz: sharded(zz)
        elif self._program is None:
            # One program per fit structure; with the command line's cache (`jaxnc.runtime`)
            # a later process loads it instead of tracing and compiling it again.
            self._program = cached_program("fit-residuals-jacobian", _residuals_and_jacobian_of,
                                           (self.problem, jnp.asarray(self.z0)))
        n = self.kind.size
        try:
            r, jac, codes = self._program(self.problem, jnp.asarray(z))
        except jax.errors.JaxRuntimeError as err:
            if not distributed.is_peer_failure(err):
                raise
            raise distributed.lost("a fit's residuals", err) from None
        except eqx.EquinoxRuntimeError as err:
            # A solver check failed inside the compiled solve (e.g. non-finite input to a
            # linear solve at a wild trial point): a failed evaluation, rejected by the
            # optimiser like a failed integration.
            self._failed = runtime_error_message(err)
            return np.full(n, np.nan), np.full((n, self.problem.size), np.nan)
        r, jac = np.asarray(r), np.asarray(jac)
        extra = self._extra_mask
        self.extras = (r[extra], jac[extra])
        r, jac = r[~extra], jac[~extra]
        self._failed = None if np.all(np.isfinite(r)) else codes
        return r, jac

    def raise_if_failed(self, what: str) -> None:
        """`SolverError` naming the failed solve if the last evaluation failed."""
        if self._failed is not None:
            failure = (self._failed if isinstance(self._failed, str)
                       else self.problem.failure(self._failed, self.samples))
            raise SolverError(f"{what}: the model could not be solved ({failure}); try "
                              f"other starting values (--set), a larger max_steps or looser "
                              f"tolerances")


def fit_problem(data, assembly, params, free, per_sample, model, protocol, irradiance_mw_cm2,
                lifetime_weight_per_ns, rtol, atol, max_steps=16384, solver=None,
                noise=None) -> FitProblem:
    """Validate the inputs and build the residual problem and the starting vector.
    `lifetime_weight_per_ns`: None weighs lifetimes by their noise; `noise`: `{kind: one
    standard deviation}` given instead of estimated (`noise_levels`)."""
    names = list(free) + list(per_sample)
    unmeasured = [c.sample for c in data.curves if not _measured(c)]
    if unmeasured:
        raise DataError(f"{data.source or 'the data'}: sample(s) {unmeasured} hold no value "
                        f"jaxnc.fit fits (PLQY, PL intensity, lifetime or a spectrum)")
    levels = noise_levels(data, noise)  # a bad noise is refused before anything is built
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    samples = [c.sample for c in data.curves]
    if isinstance(assembly, dict):
        missing = [s for s in samples if s not in assembly]
        if missing:
            raise DataError(f"no assembly given for sample(s) {missing}; the assembly dict has "
                            f"{sorted(assembly)}")
        assemblies = [assembly[s] for s in samples]
    else:
        assemblies = [assembly] * len(samples)
    protocols = [protocol if protocol is not None else
                 protocol_from_curve(c, irradiance_mw_cm2=irradiance_mw_cm2)
                 for c in data.curves]
    x0 = {n: float(np.asarray(getattr(params, n))) for n in names}
    transforms = {n: Transform.for_parameter(n, x0[n]) for n in names}
    for n in names:
        if not np.isfinite(float(transforms[n].forward(x0[n]))):
            raise ParameterError(f"free parameter {n} starts at {x0[n]:g}, where its "
                                 f"{transforms[n].name} transform is undefined; start it inside "
                                 f"the open range")
    if lifetime_weight_per_ns is not None and not lifetime_weight_per_ns >= 0:
        raise ParameterError(f"lifetime_weight_per_ns must be >= 0, got {lifetime_weight_per_ns}")
    kinds = _kinds_present(data, lifetime_weight_per_ns)
    groups, left_out = _build_groups(data, assemblies, protocols, kinds, levels,
                                     lifetime_weight_per_ns)
    model = get_model(model)
    model.optics.check(params)
    settings = solver_settings(model, solver, rtol, atol, max_steps)
    problem = ResidualProblem(model, params, groups, settings,
                              tuple(free), tuple(per_sample), tuple(transforms[n] for n in free),
                              tuple(transforms[n] for n in per_sample), len(samples))
    kind, sample_of, mask = _entry_kinds(groups)
    extra = kind == len(KINDS)
    z0 = np.concatenate([[float(transforms[n].forward(x0[n])) for n in free],
                         np.tile([float(transforms[n].forward(x0[n])) for n in per_sample],
                                 len(samples))])
    notes = ([f"{left_out['dark intensity']} PL intensity value(s) in dark steps not fitted "
              f"(the model's intensity is under the activating light)"]
             if left_out.get("dark intensity") else [])
    return FitProblem(problem, z0, kind[~extra], sample_of[~extra], mask[~extra], kinds,
                      levels, samples, protocols, protocol, notes, lifetime_weight_per_ns,
                      sample_of[extra], extra)


def _measured(curve) -> bool:
    return any(v is not None and np.isfinite(v).any() for v in
               (curve.plqy, curve.intensity, curve.lifetime_ns, curve.spectrum))


def _kinds_present(data, lifetime_weight_per_ns) -> tuple:
    def has(field):
        return any(getattr(c, field) is not None and np.isfinite(getattr(c, field)).any()
                   for c in data.curves)

    lifetimes = has("lifetime_ns") and lifetime_weight_per_ns != 0
    return tuple(k for k, p in zip(KINDS, (True, lifetimes, has("intensity"), has("spectrum")),
                                   strict=True) if p)


def fit_problem_of(data, assembly, params, free, per_sample, options: dict) -> FitProblem:
    """[`fit_problem`][jaxnc.fitting.fit_problem] from a dict of `fit`'s keyword options
    (`model`, `protocol`, `irradiance_mw_cm2`, `lifetime_weight_per_ns`, `rtol`, `atol`,
    `max_steps`, `solver`), each absent one at `fit`'s default."""
    o = options
    return fit_problem(data, assembly, params, free, per_sample, o.get("model", "mean_field"),
                       o.get("protocol"), o.get("irradiance_mw_cm2", 10.0),
                       o.get("lifetime_weight_per_ns"), o.get("rtol"), o.get("atol"),
                       o.get("max_steps", 16384), o.get("solver"), o.get("noise"))

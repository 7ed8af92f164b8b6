"""The residual problem: curves batched by assembly and number of steps, residuals (model - data)
and their forward-mode Jacobian, and its setup from a fit's arguments.

Curves that share an assembly and a number of steps are solved as one `vmap`ped batch. The
module-level jitted functions take the problem as an argument, so that repeated fits of the
same structure reuse one compilation.
"""

from __future__ import annotations

import dataclasses

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..data import Dataset, curve_save_grid, protocol_from_curve
from ..errors import DataError, ParameterError, SolverError, runtime_error_message
from ..geometry import Assembly
from ..models import get_model
from ..parameters import Parameters
from ..protocol import Protocol, StepArrays
from ..runtime import cached_program, distributed, jitted
from ..solve import (
    AbstractRosenbrockW,
    SolverSettings,
    result_message,
    solve_at,
    solve_sensitivities_at,
    solver_settings,
)
from ._transforms import Transform


class _Group(eqx.Module):
    """Curves solved together as one `vmap`ped batch: one assembly, one number of steps.

    Leaves carry a leading sample axis; `rows` are the samples' positions in the dataset.
    Shorter curves are padded (`mask` 0) to the longest in the group. `protocol` holds the
    steps' values without their kinds (`Protocol.arrays`): curves whose light and dark steps
    come in another order share the batch and its program.
    """

    assembly: Assembly
    protocol: StepArrays
    grid: jax.Array
    step: jax.Array
    slot: jax.Array
    target: jax.Array
    mask: jax.Array
    lifetime: jax.Array | None
    lifetime_mask: jax.Array | None
    rows: tuple = eqx.field(static=True)

    def batch(self):
        return (self.protocol, self.grid, self.step, self.slot, self.target, self.mask,
                self.lifetime, self.lifetime_mask)


class ResidualProblem(eqx.Module):
    """Everything the residuals need, as one pytree (jit-compiled once per structure)."""

    model: eqx.Module
    base: Parameters
    groups: tuple
    settings: SolverSettings
    free: tuple = eqx.field(static=True)
    per_sample: tuple = eqx.field(static=True)
    transforms: tuple = eqx.field(static=True)
    sample_transforms: tuple = eqx.field(static=True)
    n_samples: int = eqx.field(static=True)
    lifetime_weight: float = eqx.field(static=True, default=0.01)

    @property
    def size(self) -> int:
        return len(self.free) + len(self.per_sample) * self.n_samples

    def split(self, z):
        """Global part `(G,)` and per-sample part `(n_samples, P)` of the vector `z`."""
        g = len(self.free)
        return z[:g], z[g:].reshape(self.n_samples, len(self.per_sample))

    def params_of(self, z_global, z_sample) -> Parameters:
        values = {n: t.inverse(z_global[i])
                  for i, (n, t) in enumerate(zip(self.free, self.transforms, strict=True))}
        values.update({n: t.inverse(z_sample[i]) for i, (n, t) in
                       enumerate(zip(self.per_sample, self.sample_transforms, strict=True))})
        return self.base.replace(**values)

    def _sample_residual(self, assembly, settings, w, protocol, grid, step, slot, target,
                         mask, lifetime, lifetime_mask):
        """One sample's residuals, NaN where its solve failed, and its per-step result codes
        (`jaxnc.solve._results`; 0: success)."""
        g = len(self.free)
        p = self.params_of(w[:g], w[g:])
        _, obs, codes, _ = solve_at(self.model, assembly, p, protocol, settings, grid)
        r = (obs["plqy"][step, slot] - target) * mask
        if lifetime is not None:  # in PLQY units: lifetime_weight (fraction per ns) x ns
            tau = obs["lifetime_ns"][step, slot]
            r = jnp.concatenate([r, self.lifetime_weight * (tau - lifetime) * lifetime_mask])
        return jnp.where(jnp.all(codes == 0), r, jnp.nan), codes  # a failed solve is rejected

    def _sample_residual_and_jacobian(self, assembly, w, protocol, grid, step, slot, target,
                                      mask, lifetime, lifetime_mask):
        """`_sample_residual` and its Jacobian with respect to `w`, from the states'
        forward sensitivities (a Rosenbrock-W solver on a model with a dense Jacobian)."""
        g = len(self.free)
        obs, jac, codes, _ = solve_sensitivities_at(
            self.model, assembly, lambda ww: self.params_of(ww[:g], ww[g:]), w, protocol,
            self.settings, grid)
        r = (obs["plqy"][step, slot] - target) * mask
        j = jac["plqy"][step, slot] * mask[:, None]
        if lifetime is not None:
            tau = obs["lifetime_ns"][step, slot]
            r = jnp.concatenate([r, self.lifetime_weight * (tau - lifetime) * lifetime_mask])
            j = jnp.concatenate([j, self.lifetime_weight * jac["lifetime_ns"][step, slot]
                                 * lifetime_mask[:, None]])
        ok = jnp.all(codes == 0)  # a failed solve is rejected
        return jnp.where(ok, r, jnp.nan), jnp.where(ok, j, jnp.nan), codes

    def sample_jacobian(self, group, w, *batch):
        """One sample of `group`: residuals, their Jacobian with respect to its `w` (global
        then per-sample part) and its per-step result codes."""
        # A small (dense-Jacobian) model integrates the sensitivity equations with its states
        # (a smaller program than differentiating the solve; `solve_sensitivities_at`); a
        # lattice differentiates its matrix-free solve in forward mode instead (the
        # augmented system's W would be dense).
        if (isinstance(self.settings.solver, AbstractRosenbrockW)
                and not self.model.jacobian.matrix_free):
            return self._sample_residual_and_jacobian(group.assembly, w, *batch)
        fwd = eqx.tree_at(lambda s: s.adjoint, self.settings, diffrax.ForwardMode())

        def f(ww):
            r, codes = self._sample_residual(group.assembly, fwd, ww, *batch)
            return r, (r, codes)

        jac, (r, codes) = jax.jacfwd(f, has_aux=True)(w)
        return r, jac, codes

    def _w(self, z, group):
        zg, zs = self.split(z)
        rows = np.asarray(group.rows)
        return jnp.concatenate([jnp.broadcast_to(zg, (len(rows), zg.size)), zs[rows]], axis=1)

    def residuals(self, z):
        """All residuals (model - data, PLQY fraction), padded entries 0."""
        out = []
        for group in self.groups:
            def one(w, *batch, group=group):
                return self._sample_residual(group.assembly, self.settings, w, *batch)[0]

            out.append(_map_samples(one, self._w(z, group), *group.batch()).ravel())
        return jnp.concatenate(out)

    def loss(self, z):
        r = self.residuals(z)
        return jnp.sum(r**2)

    def residuals_and_jacobian(self, z):
        """Residuals, their Jacobian with respect to `z` (forward mode) and the solver's
        result codes (one `(samples, steps)` array per group, in `groups` order).

        Each sample depends on the global part and its own per-sample part only, so every
        sample carries `G + P` tangents, whatever the number of samples; its columns are then
        placed in the full `(n, G + P * n_samples)` matrix.
        """
        g, nsp = len(self.free), len(self.per_sample)
        rs, js, cs = [], [], []
        for group in self.groups:
            def one(w, *batch, group=group):
                return self.sample_jacobian(group, w, *batch)

            r, jac, codes = _map_samples(one, self._w(z, group), *group.batch())
            cs.append(codes)
            n_s, n = r.shape
            onehot = jax.nn.one_hot(np.asarray(group.rows), self.n_samples, dtype=jac.dtype)
            local = jnp.einsum("inp,is->insp", jac[..., g:], onehot)
            local = local.reshape(n_s, n, self.n_samples * nsp)
            rs.append(r.ravel())
            js.append(jnp.concatenate([jac[..., :g], local], axis=-1).reshape(n_s * n, -1))
        return jnp.concatenate(rs), jnp.concatenate(js), tuple(cs)

    def failure(self, codes, samples: list) -> str:
        """The first failed solve named by the result codes of `residuals_and_jacobian`."""
        for group, group_codes in zip(self.groups, codes, strict=True):
            for row, sample_codes in zip(group.rows, np.asarray(group_codes), strict=True):
                bad = np.flatnonzero(sample_codes != 0)
                if bad.size:
                    k = int(bad[0])
                    return (f"sample {samples[row]!r}, protocol step {k + 1}: "
                            f"{result_message(sample_codes[k])}")
        return "the solver reported success but the model gave non-finite values"


def _map_samples(fn, *batched):
    """`jax.vmap(fn)` over the leading sample axis; a group of one sample is called directly,
    which traces one transformation pass fewer (seconds on a fit's Jacobian program)."""
    if jax.tree.leaves(batched)[0].shape[0] > 1:
        return jax.vmap(fn)(*batched)
    out = fn(*jax.tree.map(lambda a: a[0], batched))
    return jax.tree.map(lambda a: jnp.asarray(a)[None], out)


def _residuals_and_jacobian_of(problem: ResidualProblem, z):
    return problem.residuals_and_jacobian(z)


# Module-level so that repeated fits of the same structure reuse one compilation.
_residuals_and_jacobian = jitted(_residuals_and_jacobian_of)  # the uncached program, shared
_loss = eqx.filter_jit(lambda problem, z: problem.loss(z))
_residuals = eqx.filter_jit(lambda problem, z: problem.residuals(z))


def _build_groups(data: Dataset, assemblies: list[Assembly], protocols: list[Protocol],
                  lifetimes: bool = False):
    """Batch curves that share an assembly and a number of steps; pad them to equal shape.

    With `lifetimes`, every sample also carries its `lifetime_ns` column (blank cells and
    curves without the column masked out).
    """
    keyed: dict = {}
    for i, (asm, proto) in enumerate(zip(assemblies, protocols, strict=True)):
        keyed.setdefault((id(asm), proto.n_steps), []).append(i)
    groups = []
    for rows in keyed.values():
        prepared = [curve_save_grid(data.curves[i].time_h, protocols[i]) for i in rows]
        width = max(grid.shape[1] for grid, _, _ in prepared)
        n = max(len(data.curves[i]) for i in rows)
        grids, steps, slots, targets, masks, taus, tau_masks = [], [], [], [], [], [], []
        for i, (grid, step, slot) in zip(rows, prepared, strict=True):
            pad = np.repeat(grid[:, -1:], width - grid.shape[1], axis=1)  # the step's end
            grids.append(np.concatenate([grid, pad], axis=1))
            m = len(data.curves[i])
            steps.append(np.pad(step, (0, n - m)))
            slots.append(np.pad(slot, (0, n - m)))
            plqy = data.curves[i].plqy  # NaN: not measured at that row (masked out)
            targets.append(np.pad(np.nan_to_num(plqy), (0, n - m)))
            masks.append(np.pad(np.isfinite(plqy).astype(float), (0, n - m)))
            tau = data.curves[i].lifetime_ns
            tau = np.full(m, np.nan) if tau is None else tau
            taus.append(np.pad(np.nan_to_num(tau), (0, n - m)))
            tau_masks.append(np.pad(np.isfinite(tau).astype(float), (0, n - m)))
        protocol = jax.tree.map(lambda *a: jnp.stack(a), *[protocols[i].arrays for i in rows])
        stack = lambda a: jnp.asarray(np.stack(a))  # noqa: E731
        groups.append(_Group(assemblies[rows[0]], protocol, stack(grids), stack(steps),
                             stack(slots), stack(targets), stack(masks),
                             stack(taus) if lifetimes else None,
                             stack(tau_masks) if lifetimes else None, tuple(rows)))
    return tuple(groups)


@dataclasses.dataclass
class FitProblem:
    """The residual problem of a fit, its starting point (transformed space) and what the
    result needs to know about the data."""

    problem: ResidualProblem
    z0: np.ndarray
    is_plqy: np.ndarray  # which residuals are PLQY (the rest: weighted lifetimes)
    n_points: int  # PLQY data points (rows of all curves; residuals also hold padding)
    n_lifetimes: int
    samples: list
    protocols: list
    lifetimes: bool
    protocol: Protocol | None  # the one given for every curve, parsed

    _program: object = None  # the compiled residual-and-Jacobian program, made on first use
    _failed: object = None  # the last evaluation's result codes or error text if it failed

    def evaluate(self, z) -> tuple[np.ndarray, np.ndarray]:
        """Residuals and their Jacobian at `z`, as NumPy arrays; all NaN where the evaluation
        failed (`raise_if_failed` then says why)."""
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
            n = self.is_plqy.size
            return np.full(n, np.nan), np.full((n, self.problem.size), np.nan)
        r, jac = np.asarray(r), np.asarray(jac)
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
                lifetime_weight_per_ns, rtol, atol, max_steps=16384, solver=None) -> FitProblem:
    """Validate the inputs and build the residual problem and the starting vector."""
    names = list(free) + list(per_sample)
    unmeasured = [c.sample for c in data.curves if not np.isfinite(c.plqy).any()]
    if unmeasured:
        raise DataError(f"{data.source or 'the data'}: sample(s) {unmeasured} hold no PLQY "
                        f"value; jaxnc.fit fits PLQY (with lifetimes where given): PL "
                        f"intensity, peak and spectra are read but not fitted yet")
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
    if not lifetime_weight_per_ns >= 0:
        raise ParameterError(f"lifetime_weight_per_ns must be >= 0, got {lifetime_weight_per_ns}")
    lifetimes = lifetime_weight_per_ns > 0 and any(
        c.lifetime_ns is not None and np.isfinite(c.lifetime_ns).any() for c in data.curves)
    groups = _build_groups(data, assemblies, protocols, lifetimes)
    model = get_model(model)
    model.optics.check(params)
    settings = solver_settings(model, solver, rtol, atol, max_steps)
    problem = ResidualProblem(model, params, groups, settings,
                       tuple(free), tuple(per_sample), tuple(transforms[n] for n in free),
                       tuple(transforms[n] for n in per_sample), len(samples),
                       float(lifetime_weight_per_ns))
    # Which entries of the residual vector are PLQY (the rest are weighted lifetimes).
    is_plqy = np.concatenate([np.tile(np.r_[np.ones(g.target.shape[1], bool),
                                            np.zeros(g.target.shape[1] if lifetimes else 0,
                                                     bool)], len(g.rows)) for g in groups])
    n_lifetimes = int(sum(np.isfinite(c.lifetime_ns).sum() for c in data.curves
                          if c.lifetime_ns is not None)) if lifetimes else 0
    z0 = np.concatenate([[float(transforms[n].forward(x0[n])) for n in free],
                         np.tile([float(transforms[n].forward(x0[n])) for n in per_sample],
                                 len(samples))])
    n_points = int(sum(np.isfinite(c.plqy).sum() for c in data.curves))
    return FitProblem(problem, z0, is_plqy, n_points, n_lifetimes, samples, protocols,
                  bool(lifetimes), protocol)


def fit_problem_of(data, assembly, params, free, per_sample, options: dict) -> FitProblem:
    """[`fit_problem`][jaxnc.fitting.fit_problem] from a dict of `fit`'s keyword options
    (`model`, `protocol`, `irradiance_mw_cm2`, `lifetime_weight_per_ns`, `rtol`, `atol`,
    `max_steps`, `solver`), each absent one at `fit`'s default."""
    o = options
    return fit_problem(data, assembly, params, free, per_sample, o.get("model", "mean_field"),
                       o.get("protocol"), o.get("irradiance_mw_cm2", 10.0),
                       o.get("lifetime_weight_per_ns", 0.01), o.get("rtol"), o.get("atol"),
                       o.get("max_steps", 16384), o.get("solver"))

"""The residual problem: curves batched by assembly and number of steps, residuals (model - data)
and their forward-mode Jacobian (the setup from a fit's arguments: `_setup.py`).

Curves that share an assembly and a number of steps are solved as one `vmap`ped batch. The
module-level jitted functions take the problem as an argument, so that repeated fits of the
same structure reuse one compilation.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..geometry import Assembly
from ..parameters import Parameters
from ..protocol import StepArrays
from ..runtime import jitted
from ..solve import (
    AbstractRosenbrockW,
    SolverSettings,
    result_message,
    solve_at,
    solve_sensitivities_at,
)
from ._observations import Observed


class _Group(eqx.Module):
    """Curves solved together as one `vmap`ped batch: one assembly, one number of steps.

    Leaves carry a leading sample axis; `rows` are the samples' positions in the dataset.
    Shorter curves are padded (mask 0) to the longest in the group. `protocol` holds the
    steps' values without their kinds (`Protocol.arrays`): curves whose light and dark steps
    come in another order share the batch and its program. `observed`: the measurements
    (`_observations.Observed`).
    """

    assembly: Assembly
    protocol: StepArrays
    grid: jax.Array
    step: jax.Array
    slot: jax.Array
    observed: Observed
    rows: tuple = eqx.field(static=True)

    def batch(self):
        return (self.protocol, self.grid, self.step, self.slot, self.observed)

    @property
    def n_extra(self) -> int:
        return self.observed.n_extra


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

    def _values(self, ys, obs, step, slot, observed, assembly, params):
        """The model at the data's rows: PLQY and lifetime `(n,)`, spectra `(R, W)`."""
        values = dict(plqy=obs["plqy"][step, slot], lifetime_ns=obs["lifetime_ns"][step, slot])
        if observed.spectrum is not None:
            at = jax.tree.map(lambda a: a[observed.spectrum_step, observed.spectrum_slot], ys)
            values["spectrum"] = jax.vmap(
                lambda state: observed.spectrum_of(self.model, assembly)(state, params))(at)
        return values

    def _sample_residual(self, assembly, settings, w, protocol, grid, step, slot, observed):
        """One sample's residuals and extra outputs (`Observed.residuals`), NaN where its
        solve failed, and its per-step result codes (`jaxnc.solve._results`; 0: success)."""
        g = len(self.free)
        p = self.params_of(w[:g], w[g:])
        ys, obs, codes, _ = solve_at(self.model, assembly, p, protocol, settings, grid)
        values = self._values(ys, obs, step, slot, observed, assembly, p)
        r = observed.residuals(values, p, self.model, assembly, protocol, step)
        return jnp.where(jnp.all(codes == 0), r, jnp.nan), codes  # a failed solve is rejected

    def _sample_residual_and_jacobian(self, assembly, w, protocol, grid, step, slot, observed):
        """`_sample_residual` and its Jacobian with respect to `w`, from the states'
        forward sensitivities (a Rosenbrock-W solver on a model with a dense Jacobian),
        carried through the residuals by the chain rule (`jax.jvp`)."""
        g = len(self.free)
        extra = None
        if observed.spectrum is not None:
            extra = (observed.spectrum_of(self.model, assembly), observed.spectrum_step,
                     observed.spectrum_slot)
        obs, jac, codes, _ = solve_sensitivities_at(
            self.model, assembly, lambda ww: self.params_of(ww[:g], ww[g:]), w, protocol,
            self.settings, grid, extra=extra)
        values = dict(plqy=obs["plqy"][step, slot], lifetime_ns=obs["lifetime_ns"][step, slot])
        tangents = dict(plqy=jac["plqy"][step, slot],
                        lifetime_ns=jac["lifetime_ns"][step, slot])
        if extra is not None:
            values["spectrum"], tangents["spectrum"] = obs["extra"], jac["extra"]

        if observed.log_intensity is None:  # the residuals read the parameters only there
            def res(vals):
                return observed.residuals(vals, None, self.model, assembly, protocol, step)

            r = res(values)
            j = jax.vmap(lambda t: jax.jvp(res, (values,), (t,))[1], in_axes=-1,
                         out_axes=-1)(tangents)
        else:
            def res(vals, ww):
                return observed.residuals(vals, self.params_of(ww[:g], ww[g:]), self.model,
                                          assembly, protocol, step)

            r = res(values, w)
            eye = jnp.eye(w.shape[0], dtype=w.dtype)
            j = jax.vmap(lambda t, e: jax.jvp(res, (values, w), (t, e))[1], in_axes=(-1, 0),
                         out_axes=-1)(tangents, eye)
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
        """All residuals (PLQY-equivalent, `_observations`), padded entries 0, without the
        extra outputs (collection factors)."""
        out = []
        for group in self.groups:
            def one(w, *batch, group=group):
                return self._sample_residual(group.assembly, self.settings, w, *batch)[0]

            r = _map_samples(one, self._w(z, group), *group.batch())
            out.append(r[:, : r.shape[1] - group.n_extra].ravel())
        return jnp.concatenate(out)

    def loss(self, z):
        r = self.residuals(z)
        return jnp.sum(r**2)

    def residuals_and_jacobian(self, z):
        """Residuals, their Jacobian with respect to `z` (forward mode) and the solver's
        result codes (one `(samples, steps)` array per group, in `groups` order). Each
        sample's block ends with its extra outputs (`Observed.n_extra`; `FitProblem.evaluate`
        takes them apart).

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

"""A fit's residuals and Jacobian with its samples split over every device of every process.

In a multi-process run ([`jaxnc.runtime.distributed`][]) each group's samples are padded to a
multiple of the device count and split over the global mesh; every device solves its
samples (their residuals, forward-mode Jacobian blocks and result codes), the blocks are
all-gathered, and every process assembles the same full matrix on the host. Every process
then takes the same optimiser steps; process 0 writes the result.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..runtime import distributed

__all__ = ["ShardedResiduals"]


class ShardedResiduals:
    """`problem`'s `residuals_and_jacobian` (as NumPy arrays), its samples solved on every
    device of every process (`devices`; default all of them)."""

    def __init__(self, problem, devices=None):
        self.host = problem
        self.devices = list(jax.devices() if devices is None else devices)
        self.split, replicated = distributed.mesh_shardings(self.devices)
        self.problem = jax.tree.map(
            lambda x: distributed.global_array(x, replicated) if eqx.is_array(x) else x,
            problem)

    def __call__(self, z):
        p, n_dev = self.host, len(self.devices)
        g, nsp = len(p.free), len(p.per_sample)
        rs, js, cs = [], [], []
        for index, group in enumerate(p.groups):
            rows = np.asarray(group.rows)
            n_s = rows.size
            per_device = -(-n_s // n_dev)
            take = np.minimum(np.arange(n_dev * per_device), n_s - 1)  # pad: the last sample

            def shard(a, take=take, per_device=per_device):
                a = np.asarray(a)[take]
                return distributed.global_array(a.reshape((n_dev, per_device) + a.shape[1:]),
                                                self.split)

            w = shard(p._w(jnp.asarray(z), group))
            out = _blocks(self.problem, index, self.split.mesh, w,
                          jax.tree.map(shard, group.batch()))
            out = distributed.to_host(out, "the exchange of a fit's residuals")
            r, jac, codes = (x.reshape((n_dev * per_device,) + x.shape[2:])[:n_s] for x in out)
            n = r.shape[1]
            full = np.zeros((n_s, n, g + nsp * p.n_samples))
            full[..., :g] = jac[..., :g]
            for k, row in enumerate(rows):  # each sample's own columns
                full[k, :, g + row * nsp: g + (row + 1) * nsp] = jac[k, :, g:]
            rs.append(r.ravel())
            js.append(full.reshape(n_s * n, -1))
            cs.append(codes)
        return np.concatenate(rs), np.concatenate(js), tuple(cs)


@eqx.filter_jit
def _blocks(problem, index: int, mesh, w, batch):
    """Group `index`'s samples, inputs `(devices, samples per device, ...)` split over
    `mesh`: residuals, Jacobian blocks and result codes of each, every device solving its
    own samples ([`jaxnc.runtime.distributed.on_each_device`][])."""
    def local(prob, wd, bd):
        group = prob.groups[index]
        return jax.vmap(jax.vmap(lambda wi, bi: prob.sample_jacobian(group, wi, *bi)))(wd, bd)

    return distributed.on_each_device(local, mesh, problem, w, batch)

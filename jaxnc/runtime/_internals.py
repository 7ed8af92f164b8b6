"""The one home of private internals of jaxnc's dependencies: what JAX does not (yet) offer
publicly. Each function here has its own test (tests/internals/test_dependency_internals.py),
so that a JAX release that moves an internal fails there, by name, not somewhere in a run.
"""

from __future__ import annotations

__all__ = ["distributed_client", "detect_cluster"]


def distributed_client():
    """JAX's distributed-runtime client of this process (None before
    `jax.distributed.initialize`): its `wait_at_barrier(name, timeout_ms)` is the barrier with
    a timeout that a run needs to see a lost process, which `jax.experimental.multihost_utils`'
    `sync_global_devices` (no timeout) does not give."""
    from jax._src import distributed as jax_distributed

    return jax_distributed.global_state.client


def detect_cluster(seconds):
    """The cluster's `(coordinator, num_processes, process_id)` as JAX would detect them
    (SLURM, Open MPI, ...), or Nones when that cannot be asked (then JAX detects them)."""
    try:
        from jax._src.clusters import ClusterEnv

        found = ClusterEnv.auto_detect_unset_distributed_params(None, None, None, None, None,
                                                                seconds)
        return found[0], found[1], found[2]
    except Exception:  # noqa: BLE001 - no cluster, or JAX's internal API changed
        return None, None, None

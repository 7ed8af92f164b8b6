"""The private internals of JAX that `jaxnc/runtime/_internals.py` uses, one test each (see
tests/internals/README.md): a JAX release that moves one fails here, by name."""

import inspect

from jaxnc.runtime._internals import detect_cluster, distributed_client


def test_the_distributed_client_is_reachable_and_has_a_barrier_with_a_timeout():
    from jax._src import distributed as jax_distributed

    assert hasattr(jax_distributed.global_state, "client")
    assert distributed_client() is None  # this process has not joined a run
    # What `jaxnc.runtime.distributed.barrier` calls on it once joined.
    client_type = type(jax_distributed.global_state).__annotations__.get("client", "")
    assert "DistributedRuntimeClient" in str(client_type)


def test_cluster_detection_answers_without_a_cluster():
    from jax._src.clusters import ClusterEnv

    parameters = inspect.signature(ClusterEnv.auto_detect_unset_distributed_params).parameters
    assert len(parameters) == 6  # the five settings and the timeout jaxnc passes
    assert detect_cluster(1) == (None, None, None)

"""Several processes, one run: JAX's multi-process runtime for sweeps and batched fits.

Every process of a run calls [`initialize`][] first, then the same `sweep(...)` or
`fit(...)`. The processes join one global device mesh (`jax.devices()` then lists every
device of every process); a sweep's chunk of points and a fit's samples are split over that
mesh, each process solves its share on its own devices, and the results are all-gathered to
every process (so every process takes the same optimiser steps). Only process 0 writes files
([`is_writer`][]); the command line's `--distributed` does all of this.

Where the settings come from, first match wins: the arguments; the environment
(`JAXNC_COORDINATOR=host:port`, `JAXNC_NUM_PROCESSES`, `JAXNC_PROCESS_ID`); JAX's cluster
detection (SLURM, Open MPI, ...: `jax.distributed.initialize()` without arguments).

**Failures, in bounded time.** A process that does not join within `timeout_s` makes
`initialize` raise [`DistributedError`][] on every process that did. A process that dies
later is seen by the others at their next exchange: the connection to it breaks at once, or
the barrier each exchange starts with ([`barrier`][]) times out after `timeout_s`. Either way
the survivors raise `DistributedError`, and the command line prints its one line and exits 1
at once, without JAX's shutdown handshake (which would wait for the dead process). JAX's own
reaction to a dead process, terminating every other one with a C++ stack trace, is switched
off (`jax_enable_recoverability`) so that this error is what the user sees.
"""

from __future__ import annotations

import atexit
import itertools
import os
import time

import jax

from ..errors import ParameterError
from ._internals import detect_cluster, distributed_client
from ._meeting import DistributedError, meet

__all__ = ["DistributedError", "initialize", "is_writer", "barrier", "started",
           "exit_after_failure", "mesh_shardings", "on_each_device", "global_array", "to_host",
           "from_writer", "agree", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 60
"""Seconds to wait for every process to join, and for every process at each exchange, before
`DistributedError`."""
_ENV = ("JAXNC_COORDINATOR", "JAXNC_NUM_PROCESSES", "JAXNC_PROCESS_ID")
_state: dict = {"timeout_s": DEFAULT_TIMEOUT_S, "joined": False, "started": False}
_barriers = itertools.count()


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict:
    """Join this process to a multi-process run (call once, before any other JAX work).

    **Arguments:**

    - `coordinator`: `host:port` of process 0 (which listens there); default
      `$JAXNC_COORDINATOR`, else JAX's cluster detection.
    - `num_processes`, `process_id`: the run's size and this process's index (0 ...
      `num_processes - 1`); defaults `$JAXNC_NUM_PROCESSES`, `$JAXNC_PROCESS_ID`, else the
      cluster's.
    - `timeout_s`: seconds to wait for the others to join, and at every exchange (default
      [`DEFAULT_TIMEOUT_S`][]).

    **Returns:** `{"process_id", "num_processes", "devices", "local_devices"}`.

    **Raises:** `ParameterError` for settings that cannot be right (a port missing, an index
    out of range, no settings and no cluster); [`DistributedError`][] if the run does not
    assemble within `timeout_s`.
    """
    coordinator = coordinator or os.environ.get(_ENV[0]) or None
    num_processes = _int_setting("num_processes", num_processes, _ENV[1])
    process_id = _int_setting("process_id", process_id, _ENV[2])
    if not timeout_s > 0:
        raise ParameterError(f"distributed timeout must be > 0 s, got {timeout_s}")
    explicit = [coordinator, num_processes, process_id]
    if any(v is not None for v in explicit) and any(v is None for v in explicit):
        raise ParameterError("a distributed run needs all of coordinator (host:port), "
                             "num_processes and process_id, or none of them (cluster "
                             f"detection); got coordinator={coordinator}, "
                             f"num_processes={num_processes}, process_id={process_id}")
    if coordinator is not None:
        host, _, port = coordinator.rpartition(":")
        if not host or not port.isdigit():
            raise ParameterError(f"coordinator must be host:port, got {coordinator!r}")
        if num_processes < 1:
            raise ParameterError(f"num_processes must be >= 1, got {num_processes}")
        if not 0 <= process_id < num_processes:
            raise ParameterError(f"process_id must be in 0..{num_processes - 1}, got "
                                 f"{process_id}")
    seconds = max(1, int(round(timeout_s)))
    if coordinator is None:
        coordinator, num_processes, process_id = detect_cluster(seconds)
    if coordinator is not None and num_processes > 1:
        # JAX aborts a process (C++ stack trace, no Python error) that cannot register with
        # the coordinator in time: meet over plain TCP first, where a missing process is
        # one clear error.
        meet(coordinator, num_processes, process_id, seconds)
    # A solve that fails on one process must not raise there alone (the others would wait
    # at the next exchange): equinox's checks give NaN and the solvers' result codes report
    # it, as on the command line. Read when equinox is imported, so set it before.
    os.environ.setdefault("EQX_ON_ERROR", "nan")
    # A dead process is reported by `barrier` and the broken connection, as one error.
    jax.config.update("jax_enable_recoverability", True)
    _state["started"] = True  # from here a failure must not wait for JAX's shutdown handshake
    try:
        jax.distributed.initialize(coordinator, num_processes, process_id,
                                   initialization_timeout=seconds,
                                   heartbeat_timeout_seconds=seconds,
                                   shutdown_timeout_seconds=seconds)
    except ValueError as err:  # no settings and no cluster found
        raise ParameterError(f"distributed run: no coordinator given and no cluster "
                             f"detected ({_first_line(err)}); pass --coordinator host:port "
                             f"--num-processes N --process-id I") from None
    except RuntimeError as err:
        if "should only be called once" in str(err):
            raise ParameterError("distributed run: initialize was called twice in one "
                                 "process") from None
        who = "" if process_id is None else f"process {process_id} of {num_processes}: "
        raise DistributedError(f"{who}the run did not assemble within {seconds} s at "
                               f"{coordinator or 'the cluster coordinator'} (a process did "
                               f"not start, or the coordinator cannot be reached): "
                               f"{_first_line(err)}") from None
    _state.update(timeout_s=seconds, joined=True)
    if jax.process_count() > 1:
        atexit.register(_leave)  # runs before JAX's own shutdown (registered at its import)
    return dict(process_id=jax.process_index(), num_processes=jax.process_count(),
                devices=len(jax.devices()), local_devices=len(jax.local_devices()))


def started() -> bool:
    """Whether this process has tried to join a multi-process run ([`initialize`][])."""
    return bool(_state["started"])


def is_writer() -> bool:
    """True on the process that writes a run's files: process 0 (and a single process)."""
    return jax.process_index() == 0


def barrier(what: str, timeout_s: float | None = None) -> None:
    """Wait until every process of the run is here, at most `timeout_s` (default the run's
    timeout); nothing to do in a single process. Every process must call it the same number
    of times.

    **Raises:** [`DistributedError`][] naming `what` if a process does not arrive.
    """
    if jax.process_count() == 1:
        return
    client = distributed_client()
    # The place in the name too: processes out of step time out instead of pairing up.
    name = f"jaxnc-{next(_barriers)}-" + "".join(c if c.isalnum() else "-" for c in what)
    try:
        client.wait_at_barrier(name, int((timeout_s or _state["timeout_s"]) * 1000))
    except Exception as err:  # the client raises its runtime's own error types
        raise lost(what, err) from None


def mesh_shardings(devices=None):
    """Over a 1D mesh (axis `"points"`) of `devices` (default: every device of every
    process): the sharding that splits an array's leading axis, and the replicated one."""
    import numpy as np

    mesh = jax.sharding.Mesh(np.asarray(jax.devices() if devices is None else devices),
                             ("points",))
    return (jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("points")),
            jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))


def on_each_device(fn, mesh, replicated, *split):
    """`fn(replicated, *blocks)` on every device of `mesh`, each on its own block of the
    `split` arrays (leading axis over the mesh's `"points"` axis), inside `jit`.

    A `shard_map`, not a `vmap` over the device axis: each device runs its own program with
    no exchange, where a vmapped adaptive solve's while loop would all-reduce its stopping
    test over every device (of every process) at every solver step. `replicated` may be any
    pytree (e.g. an equinox module); its arrays are the same on every device.
    """
    import equinox as eqx

    spec = jax.sharding.PartitionSpec("points")
    arrays, static = eqx.partition(replicated, eqx.is_array)

    def local(arrays, *blocks):
        return fn(eqx.combine(arrays, static), *blocks)

    # check_vma off: the solvers' loops mix replicated and per-device values in their
    # carries, which the check would make every loop annotate.
    return jax.shard_map(local, mesh=mesh, out_specs=spec, check_vma=False,
                         in_specs=(jax.sharding.PartitionSpec(),) + (spec,) * len(split))(
        arrays, *split)


def global_array(x, sharding):
    """A global array from the same host value on every process (each process places only
    the pieces its own devices hold)."""
    import numpy as np

    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])


def to_host(tree, what: str):
    """Sharded arrays (a pytree) as NumPy arrays, all-gathered from every process when there
    are several, in one exchange (`_exchange`: a process that died while its share ran is
    reported within the timeout, as `DistributedError` naming `what`)."""
    import numpy as np

    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        tree = _exchange(what, lambda: multihost_utils.process_allgather(tree, tiled=True))
    return jax.tree.map(np.asarray, tree)


def from_writer(obj) -> None:
    """Set every NumPy array field of the dataclass `obj` to process 0's values, on every
    process, in one exchange (nothing to do in a single process)."""
    if jax.process_count() == 1:
        return
    import dataclasses

    import numpy as np
    from jax.experimental import multihost_utils

    # Through float64 (booleans and int32 codes included): the broadcast is a sum.
    values = {f.name: np.asarray(getattr(obj, f.name), dtype=np.float64)
              for f in dataclasses.fields(obj)}
    got = _exchange("the start of the run",
                    lambda: multihost_utils.broadcast_one_to_all(values))
    for name, value in got.items():
        field = getattr(obj, name)
        field[...] = np.asarray(value).astype(field.dtype)


def agree(value: float, what: str) -> None:
    """Raise `DistributedError` on every process unless every process has the same `value`
    (e.g. how far a resumed fit is); nothing to do in a single process."""
    if jax.process_count() == 1:
        return
    import numpy as np
    from jax.experimental import multihost_utils

    seen = np.asarray(_exchange(
        what, lambda: multihost_utils.process_allgather(np.asarray([float(value)]))))
    if not np.all(seen == seen.flat[0]):
        raise DistributedError(f"process {jax.process_index()} of {jax.process_count()}: "
                               f"the processes disagree on {what} ({seen.ravel().tolist()}); "
                               f"put the file on a file system every process sees")


def _exchange(what: str, call):
    """`call()`, an exchange between the processes, after every process has met
    ([`barrier`][]); a broken connection becomes `DistributedError` naming `what`, any other
    error (e.g. out of memory) keeps its own message."""
    barrier(what)
    try:
        return call()
    except Exception as err:  # noqa: BLE001 - Gloo and the coordination service's own types
        if not is_peer_failure(err):
            raise
        raise lost(what, err) from None


def lost(what: str, err: Exception) -> DistributedError:
    """The error of a failed exchange with the other processes."""
    _state["lost"] = True
    return DistributedError(
        f"process {jax.process_index()} of {jax.process_count()}: another process stopped "
        f"answering during {what} (it died, or hung longer than {_state['timeout_s']} s): "
        f"{_first_line(err)}; the output was not written (a checkpoint keeps the finished "
        f"chunks: continue with --resume)")


def is_peer_failure(err: Exception) -> bool:
    """Whether a JAX runtime error is a broken exchange with another process."""
    text = str(err)
    return jax.process_count() > 1 and any(
        s in text for s in ("Gloo", "gloo", "Connection reset", "coordination service",
                            "heartbeat", "Barrier", "UNAVAILABLE", "DEADLINE_EXCEEDED"))


def _leave() -> None:
    """Leave the run in order at exit. Everyone meets once more; the other processes wait
    there as long as process 0 needs to write and plot (up to an hour; a process 0 that dies
    ends their wait at once), then disconnect, and process 0, which hosts the coordination
    service, disconnects a second later. Without the order, a process still disconnecting
    finds the service gone and JAX aborts it (the recoverable mode drops JAX's own closing
    barrier)."""
    if distributed_client() is None:
        return
    writer = jax.process_index() == 0
    try:
        barrier("the end of the run", None if writer else max(_state["timeout_s"], 3600))
    except DistributedError as err:
        import sys

        sys.stdout.flush()
        if not writer:  # process 0 is gone: it may not have written the output
            print(f"jaxnc: error: {err}", file=sys.stderr, flush=True)
            os._exit(1)
        sys.stderr.flush()
        os._exit(0)  # process 0 has written everything; a process that left early is no fault
    if writer:
        time.sleep(1.0)
    jax.distributed.shutdown()


def exit_after_failure(code: int) -> None:
    """End a process of a failed run at once with exit status `code`, skipping JAX's shutdown
    handshake (it would wait for, or abort on, a process that is gone). When every process
    failed alike (bad input), they meet first and process 0, which hosts the coordination
    service, leaves last, so that no other process is aborted by JAX for having lost it;
    otherwise (not after a lost process) each waits at most 10 s for the others."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    client = distributed_client()
    if not _state["joined"]:  # the join failed: touch nothing of JAX's
        os._exit(code)
    if client is not None and jax.process_count() > 1 and not _state.get("lost"):
        try:
            client.wait_at_barrier("jaxnc-failed", int(min(_state["timeout_s"], 10) * 1000))
        except Exception:  # noqa: BLE001 - a process is gone or still running: just leave
            pass
        else:
            if jax.process_index() == 0:  # the others leave first (at once, no messages)
                time.sleep(1.0)
    os._exit(code)


def _int_setting(name, value, env):
    if value is None and os.environ.get(env, "").strip():
        value = os.environ[env].strip()
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be an integer, got {value!r}") from None


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:240]

"""`sweep()`: design metrics and their geometry gradients over a grid of assemblies.

Every grid point is one simulation of the protocol. Points that share an assembly topology
(everything but `layers`) are solved as one `vmap`ped, jitted batch, chunked to bound memory,
with the batch axis sharded over the JAX devices. Each point carries two forward-mode tangents
(gap and ligand length) through the solver, so its metrics come with exact derivatives of the
discrete solve, not differences of neighbouring grid points.

This module is the front end; the pieces live in `_grid` (axes, points, chunks), `_assemblies`
(the assembly per layer count), `_point` (one point's simulation), `_batching` (batches over
the devices), `_result` (`SweepResult`, status and reason) and `_checkpoint`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import numpy as np

from ..errors import ParameterError
from ..geometry import Assembly
from ..models import AbstractModel
from ..parameters import Parameters
from ..protocol import Protocol
from ..runtime import distributed
from ._assemblies import assembly_templates
from ._batching import Evaluator
from ._checkpoint import SweepCheckpoint
from ._grid import chunks, largest_batch, point_columns, sweep_axes
from ._metrics import DEFAULT_METRICS, check_metrics
from ._result import PointArrays, SweepResult

__all__ = ["sweep", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = "light 468nm 10mW/cm2 3h; dark 100h; light 468nm 10mW/cm2 3h"
"""The design metrics' protocol: activation, 100 h in the dark, and a second activation (for
`cycle_repeatability`)."""


# Over 80 lines by its signature and argument documentation only; the body reads top to bottom:
# check, set up, run the chunks, shape the result.
def sweep(
    assembly_factory: Assembly | str | Callable[..., Assembly],
    params: Parameters,
    protocol: Protocol | str = DEFAULT_PROTOCOL,
    *,
    gap_nm,
    ligand_nm,
    layers=None,
    irradiance_mw_cm2=None,
    temperature_k=None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    model: str | AbstractModel = "mean_field",
    gradients: bool = True,
    saves_per_step: int = 41,
    solver=None,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 16384,
    chunk_size: int = 128,
    devices: Sequence[jax.Device] | None = None,
    vector_width: int | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    callback: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Design metrics, with their gradients with respect to gap and ligand length, over a grid.

    **Arguments:**

    - `assembly_factory`: `factory(gap_nm=, ligand_nm=[, layers=])` returning an
      [`Assembly`][] (e.g. [`film`][]), a kind (`"supercrystal"`, `"monolayer"`,
      `"isolated"`: `film(kind)`, 4x4x4), or an `Assembly` whose gap and ligand are replaced.
      The factory is called once per layer count; gap and ligand length then enter as traced
      values of the assembly (its lattice topology does not depend on them).
    - `params`: [`Parameters`][].
    - `protocol`: text or [`Protocol`][]; default [`DEFAULT_PROTOCOL`][] (3 h light, 100 h
      dark, 3 h light).
    - `gap_nm`, `ligand_nm`: grid values (nm).
    - `layers`: layer counts to sweep (each a separate compiled batch), optional.
    - `irradiance_mw_cm2`: light-step irradiance values to sweep (mW/cm²), optional.
    - `temperature_k`: temperatures to sweep (K, applied to every step), optional.
    - `metrics`: names from `jaxnc.design.METRICS` (default all six).
    - `model`: `"mean_field"` (default) or `"field"`.
    - `gradients`: also compute `d_<metric>_d_gap_nm` and `d_<metric>_d_ligand_nm` by forward
      mode through the solver (about 1.5-2x the cost of the values alone).
    - `saves_per_step`: saved times per protocol step (crossing times are interpolated
      between them).
    - `solver`, `rtol`, `atol`, `max_steps`: as in [`simulate`][jaxnc.solve.simulate].
    - `chunk_size`: points per batch (at most the points of one layer count; rounded up to a
      multiple of the device count); bounds memory. Batches of one shape compile once,
      whatever the number of chunks.
    - `devices`: JAX devices to shard each batch over (default: all, `jax.devices()`; after
      `jax.distributed.initialize()` that spans every host).
    - `vector_width`: points per device solved in lockstep (`vmap`); the rest of a device's
      share runs group after group. Default: all of them on a GPU; on a CPU 16 for a model
      with a dense Jacobian (mean_field), 4 for a matrix-free one (field). Results do not
      depend on it.
    - `progress`: tqdm bar over points (on a terminal only).
    - `checkpoint`: `.npz` file written after every chunk (whole or not at all); with
      `resume=True` finished chunks are read from it and skipped.
    - `callback`: called as `callback(chunks_done, n_chunks)` after every chunk.

    **Returns:** a [`SweepResult`][].

    **Raises:** `ParameterError` for bad axes, metrics the protocol cannot give, or a bad
    factory; `DataError` for a checkpoint of another sweep. A point whose solve fails does not
    raise: it is NaN with status `"failed"` and a reason.
    """
    # Long: the public signature and its docstring; the body is ~35 lines.
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    if not isinstance(params, Parameters):
        raise ParameterError(f"params must be Parameters, got {type(params).__name__}")
    metrics = check_metrics(metrics, protocol)
    axes = sweep_axes(gap_nm, ligand_nm, layers, irradiance_mw_cm2, temperature_k)
    if resume and checkpoint is None:
        raise ParameterError("resume=True needs a checkpoint file")
    templates = assembly_templates(assembly_factory, axes["gap_nm"][0], axes["ligand_nm"][0],
                                   axes.get("layers"))
    # A small sweep is not padded to a large chunk (padding costs as much as real points).
    evaluator = Evaluator(templates, params, protocol, metrics, model=model, solver=solver,
                          rtol=rtol, atol=atol, max_steps=max_steps, gradients=gradients,
                          saves_per_step=saves_per_step,
                          chunk_size=min(int(chunk_size), largest_batch(axes)),
                          devices=devices, vector_width=vector_width,
                          swept_irradiance=irradiance_mw_cm2 is not None,
                          swept_temperature=temperature_k is not None)
    record = dict(axes={a: v.tolist() for a, v in axes.items()}, **evaluator.record)
    saved = SweepCheckpoint(checkpoint, record)
    columns = point_columns(axes)
    arrays = PointArrays.empty(len(columns["gap_nm"]), len(metrics), protocol.n_steps)
    if resume and distributed.is_writer():
        saved.load_into(arrays)
    # Several processes: process 0's checkpoint (the one it writes) decides what is done, on
    # a shared file system or not.
    distributed.from_writer(arrays)
    plan = chunks(columns, templates, evaluator.chunk)

    t_start = time.perf_counter()
    first_chunk_s, errors = _run_chunks(evaluator, plan, columns, arrays, saved, progress,
                                        callback)
    record.update(devices=len(evaluator.devices), fingerprint=saved.fingerprint)
    result = arrays.to_result(axes, metrics, protocol, errors, settings=record,
                              first_chunk_s=first_chunk_s, n_chunks=len(plan))
    result.wall_s = time.perf_counter() - t_start
    return result


def _run_chunks(evaluator: Evaluator, plan: list, columns: dict, arrays: PointArrays,
                saved: SweepCheckpoint, progress: bool, callback) -> tuple[float, dict]:
    """Solve every chunk of `plan` not yet done into `arrays`, checkpointing after each.

    **Returns:** the first solved chunk's time (s, with compilation; NaN if none was solved)
    and `{point: message}` for the points whose solve raised.
    """
    n_points = arrays.done.size
    failed_errors: dict[int, str] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_points, desc="sweep", unit="pt", disable=None,
                   initial=int(arrays.done.sum()))
    first_chunk_s = float("nan")
    try:
        for k, (key, idx) in enumerate(plan):
            if arrays.done[idx].all():
                continue
            t0 = time.perf_counter()
            outputs, errors = evaluator(
                key, columns["gap_nm"][idx], columns["ligand_nm"][idx],
                columns.get("irradiance_mw_cm2", np.zeros(n_points))[idx],
                columns.get("temperature_k", np.zeros(n_points))[idx],
            )
            arrays.fill(idx, outputs)
            failed_errors.update({int(idx[i]): msg for i, msg in errors.items()})
            if np.isnan(first_chunk_s):
                first_chunk_s = time.perf_counter() - t0
            saved.save(arrays)
            if bar is not None:
                bar.update(idx.size)
            if callback is not None:
                callback(k + 1, len(plan))
    finally:
        if bar is not None:
            bar.close()
    return first_chunk_s, failed_errors

"""Batches and devices: grid points run as one jitted, `vmap`ped batch sharded over the devices.

Points that share an assembly shape are solved together: a chunk of them is padded to the chunk
size (so one structure compiles once, whatever the number of chunks), split over a 1D device
mesh, and on each device run a few at a time in lockstep. A point whose solve raises does not
take its chunk down: the chunk is bisected until the points that raise are found.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import numpy as np

from ..errors import ParameterError, ResourceError, runtime_error_message
from ..models import get_model
from ..parameters import Parameters
from ..protocol import Protocol
from ..runtime import distributed
from ..solve import solver_settings
from ._point import PointProblem
from ._readout import save_grid

__all__ = ["Evaluator", "RUNTIME_ERROR", "default_vector_width"]

# Code stored for a point whose solve raised (an equinox runtime check, e.g. a linear solve fed
# non-finite values): not a diffrax result code.
RUNTIME_ERROR = -1


def default_vector_width(model, backend: str | None = None) -> int:
    """Points solved in lockstep per device: every point of the chunk on an accelerator; on a
    CPU 16 for a model with a dense Jacobian (`mean_field`: cheap evaluations) and 4 for a
    matrix-free one (`field`).

    Lockstep amortises per-step overhead but every member takes as many steps as the slowest.
    Measured on a 2-core CPU (ms per point with two gradients, `benchmarks/sweep.py` grids):
    mean_field 4x4x4 33 / 19 / 18 / 33 at widths 1 / 8 / 32 / 128; field 4x4x2 681 / 415 /
    525 at widths 1 / 4 / 16.
    """
    backend = jax.default_backend() if backend is None else backend
    if backend != "cpu":
        return 1 << 30  # capped at the points per device
    return 4 if model.jacobian.matrix_free else 16


class Evaluator:
    """Runs batches of points through the compiled, sharded `_batch`.

    Holds one `PointProblem` per assembly template (layer count), the device mesh and the
    chunk size; a call evaluates up to one chunk of points (padded to the chunk shape, so one
    structure compiles once) and isolates points whose solve raises.
    """

    def __init__(self, templates: dict, params: Parameters, protocol: Protocol, metrics,
                 *, model, solver, rtol, atol, max_steps, gradients, saves_per_step,
                 chunk_size, devices, vector_width=None, swept_irradiance=False,
                 swept_temperature=False):
        if int(saves_per_step) < 3:
            raise ParameterError(f"saves_per_step must be >= 3, got {saves_per_step}")
        if int(chunk_size) < 1:
            raise ParameterError(f"chunk_size must be >= 1, got {chunk_size}")
        model = get_model(model)
        # Saves are solver points (step_to_saves): crossing times read from them are smooth
        # in the geometry, where dense-output values carry step-placement noise.
        settings = solver_settings(
            model, solver, rtol, atol, max_steps, step_to_saves=True,
            adjoint=(diffrax.ForwardMode() if gradients
                     else diffrax.RecursiveCheckpointAdjoint()),
        )
        solver = settings.solver
        self.devices = list(jax.devices() if devices is None else devices)
        n_dev = len(self.devices)
        self.chunk = -(-int(chunk_size) // n_dev) * n_dev
        per_device = self.chunk // n_dev
        if vector_width is None:
            vector_width = default_vector_width(model)
        if int(vector_width) < 1:
            raise ParameterError(f"vector_width must be >= 1, got {vector_width}")
        self.width = min(int(vector_width), per_device)
        self._sharded, replicated = distributed.mesh_shardings(self.devices)
        local_times = save_grid(protocol, saves_per_step)
        self.problems = {}
        for key, template in templates.items():
            problem = PointProblem(model, template, params, protocol, settings, local_times,
                                    tuple(metrics), swept_irradiance, swept_temperature)
            self.problems[key] = jax.tree.map(
                lambda x: distributed.global_array(x, replicated) if eqx.is_array(x) else x,
                problem)
        self.gradients = bool(gradients)
        self.record = dict(
            metrics=list(metrics), model=model.name, protocol=str(protocol),
            params=params.to_dict(), saves_per_step=int(saves_per_step),
            solver=type(solver).__name__, rtol=float(settings.rtol),
            atol=float(settings.atol), max_steps=int(max_steps), gradients=self.gradients,
            chunk_size=self.chunk, vector_width=self.width,
            assemblies={str(k): dict(kind=a.kind, shape=list(a.mask.shape),
                                     edge_nm=float(a.edge_nm)) for k, a in templates.items()},
        )
        # A model with other processes than its name's default: its processes too (only
        # then, so that a checkpoint of a default model written before still resumes).
        processes = eqx.tree_pformat(model, short_arrays=False)
        if processes != eqx.tree_pformat(get_model(model.name), short_arrays=False):
            self.record["model_processes"] = processes

    def __call__(self, key, gap_nm, ligand_nm, irradiance, temperature):
        """Values `(n, M)`, gradients `(n, M, 2)`, flags `(n, M)`, codes `(n, steps)` and
        `{row: message}` for rows whose solve raised (their rows NaN, codes -1)."""
        problem = self.problems[key]
        n = len(gap_nm)
        if n > self.chunk:
            raise ParameterError(f"{n} points exceed the chunk size {self.chunk}")
        columns = [np.asarray(gap_nm, dtype=float), np.asarray(ligand_nm, dtype=float),
                   np.asarray(irradiance, dtype=float), np.asarray(temperature, dtype=float)]

        def run(members):
            pad = np.concatenate([members, np.full(self.chunk - members.size, members[-1])])
            shape = (len(self.devices), self.chunk // len(self.devices))
            inputs = [distributed.global_array(c[pad].reshape(shape), self._sharded)
                      for c in columns]
            out = _batch(problem, self.gradients, self.width, self._sharded.mesh, *inputs)
            out = distributed.to_host(out, "the exchange of a sweep chunk's results")
            return [x.reshape((self.chunk,) + x.shape[2:])[: members.size] for x in out]

        n_m, n_s = len(problem.metrics), problem.protocol.n_steps
        outputs = [np.full((n, n_m), np.nan), np.full((n, n_m, 2), np.nan),
                   np.zeros((n, n_m), dtype=np.int32), np.zeros((n, n_s), dtype=np.int32)]
        errors = {}
        for members, out, error in _isolate_errors(run, np.arange(n)):
            if error is None:
                for target, part in zip(outputs, out, strict=True):
                    target[members] = part
            else:
                errors.update({int(i): error for i in members})
                outputs[3][members] = RUNTIME_ERROR
        return outputs, errors


# Module-level: a later sweep of the same structure reuses the compiled batch.
@eqx.filter_jit
def _batch(problem: PointProblem, gradients: bool, width: int, mesh, gap, ligand, irradiance,
           temperature):
    """Inputs `(devices, points per device)`, the leading axis sharded over `mesh`.

    Each device solves its own points ([`jaxnc.runtime.distributed.on_each_device`][]), `width` at a
    time in lockstep (`vmap`), the groups one after another (`lax.map`): a vmapped adaptive
    solve takes as many steps as its slowest member, so wide groups pay off where width is
    nearly free (GPU) and waste work on a CPU.
    """
    def local(prob, *columns):
        one = prob.values_and_gradients if gradients else prob.values

        def per_device(*cols):
            return jax.lax.map(lambda args: one(*args), cols, batch_size=width)

        return jax.vmap(per_device)(*columns)

    return distributed.on_each_device(local, mesh, problem, gap, ligand, irradiance,
                                      temperature)


def _out_of_memory(err: Exception) -> bool:
    text = str(err)
    return "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower()


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def _isolate_errors(run, members: np.ndarray):
    """Run a batch; if it raises, bisect to find the points that raise.

    One failing point would otherwise take a whole chunk down: a runtime check inside a solve
    (equinox `error_if`) stops the whole vmapped program. Each half is padded back to the chunk
    shape, so nothing recompiles; a chunk with `f` bad points costs about `2 f log2(chunk)`
    extra batches. Yields `(members, outputs, None)` or `(members, None, message)`.
    """
    try:
        yield members, run(members), None
    except (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError) as err:
        if distributed.is_peer_failure(err):  # another process is gone: no point is at fault
            raise distributed.lost("a sweep chunk", err) from None
        if _out_of_memory(err):  # every half is padded back to the chunk: it would fail too
            raise ResourceError(f"a sweep chunk of {members.size} points ran out of device "
                                f"memory ({_first_line(err)}); use a smaller chunk_size "
                                f"(--chunk-size) or fewer saves per step") from None
        if members.size == 1:
            yield members, None, runtime_error_message(err)
            return
        half = members.size // 2
        yield from _isolate_errors(run, members[:half])
        yield from _isolate_errors(run, members[half:])

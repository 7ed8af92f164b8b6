"""`sweep()`: design metrics and their geometry gradients over a grid of assemblies.

Every grid point is one simulation of the protocol. Points that share an assembly topology
(everything but `layers`) are solved as one `vmap`ped, jitted batch, chunked to bound memory,
with the batch axis sharded over the JAX devices. Each point carries two forward-mode tangents
(gap and ligand length) through the solver, so its metrics come with exact derivatives of the
discrete solve, not differences of neighbouring grid points.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import DataError, ParameterError
from .._io import atomic_path, write_csv_text_atomic
from ..geometry import Assembly
from ..models import AbstractModel, get_model
from ..parameters import Parameters
from ..protocol import Protocol
from ..solve._results import message as result_message
from ..solve._simulate import SolverSettings, default_tolerances, resolve_solver, solve_at
from . import _metrics
from ._metrics import DEFAULT_METRICS, METRICS, check_metrics, evaluate, save_grid

__all__ = ["sweep", "SweepResult", "film", "DEFAULT_PROTOCOL", "parse_grid"]

#: Activation, 100 h in the dark, and a second activation (for `cycle_repeatability`).
DEFAULT_PROTOCOL = "light 468nm 10mW/cm2 3h; dark 100h; light 468nm 10mW/cm2 3h"
AXES = ("gap_nm", "ligand_nm", "layers", "irradiance_mw_cm2", "temperature_k")
GRADIENT_AXES = ("gap_nm", "ligand_nm")


def film(kind: str = "supercrystal", nx: int = 4, ny: int = 4, nz: int = 4, n: int = 16,
         edge_nm: float = 9.8) -> Callable[..., Assembly]:
    """An assembly factory for [`sweep`][]: `factory(gap_nm=, ligand_nm=, layers=None)`.

    **Arguments:**

    - `kind`: `"supercrystal"` (`nx * ny * layers` cubes, `layers` defaulting to `nz`),
      `"monolayer"` (`nx * ny`) or `"isolated"` (`n` cubes).
    - `edge_nm`: cube edge (nm).
    """
    if kind not in ("supercrystal", "monolayer", "isolated"):
        raise ParameterError(f"film kind must be supercrystal, monolayer or isolated, got "
                             f"{kind!r}")

    def factory(gap_nm, ligand_nm, layers=None) -> Assembly:
        lengths = dict(edge_nm=edge_nm, gap_nm=gap_nm, ligand_nm=ligand_nm)
        if kind == "isolated":
            if layers is not None:
                raise ParameterError("isolated cubes have no layers to sweep")
            return Assembly.isolated(n, **lengths)
        if kind == "monolayer":
            if layers is not None:
                raise ParameterError("a monolayer has one layer; sweep layers of a supercrystal")
            return Assembly.monolayer(nx, ny, **lengths)
        return Assembly.supercrystal(nx, ny, nz if layers is None else int(layers), **lengths)

    factory.__name__ = f"film({kind!r}, nx={nx}, ny={ny}, nz={nz}, n={n}, edge_nm={edge_nm})"
    return factory


def parse_grid(text: str, name: str, integer: bool = False) -> np.ndarray:
    """Grid values from `"start:stop:count"` (inclusive, evenly spaced) or `"a,b,c"`.

    **Raises:** `ParameterError` naming the option and what is wrong.
    """
    text = str(text).strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if count < 1:
                raise ParameterError(f"{name} {text!r}: the count must be >= 1")
            values = np.linspace(start, stop, count)
        else:
            values = np.asarray([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise ParameterError(f"{name} {text!r}: expected START:STOP:COUNT (e.g. 1.5:5:16) or "
                             f"a comma-separated list") from None
    if values.size == 0:
        raise ParameterError(f"{name} {text!r}: no values")
    if integer:
        if not np.all(values == np.round(values)):
            raise ParameterError(f"{name} {text!r}: values must be whole numbers")
        values = values.astype(int)
    return values


class _PointProblem(eqx.Module):
    """One simulation per grid point, with forward-mode tangents for gap and ligand length."""

    model: AbstractModel
    template: Assembly
    params: Parameters
    protocol: Protocol
    settings: SolverSettings
    local_times_h: jax.Array
    metrics: tuple = eqx.field(static=True)
    swept_irradiance: bool = eqx.field(static=True)
    swept_temperature: bool = eqx.field(static=True)

    def _point(self, geometry, irradiance, temperature):
        asm = eqx.tree_at(lambda a: (a.gap_nm, a.ligand_nm), self.template,
                          (geometry[0], geometry[1]))
        proto = self.protocol
        if self.swept_irradiance:
            light = np.asarray([k == "light" for k in proto.kinds])
            proto = eqx.tree_at(lambda p: p.irradiance_mw_cm2, proto,
                                jnp.where(light, irradiance, 0.0))
        if self.swept_temperature:
            proto = eqx.tree_at(lambda p: p.temperature_k, proto,
                                jnp.full(proto.n_steps, temperature, dtype=float))
        ys, obs, codes, _ = solve_at(self.model, asm, self.params, proto, self.settings,
                                     self.local_times_h)
        rate = self._plqy_rate(asm, proto, ys)
        values, flags = evaluate(self.metrics, proto.kinds, self.local_times_h, obs, rate)
        values = jnp.where(jnp.all(codes == 0), values, jnp.nan)
        return values, (values, flags, codes)

    def _plqy_rate(self, asm, proto, ys):
        """dPLQY/dt (1/h) at every saved state: the vector field pushed through the PLQY."""
        model, params = self.model, self.params
        cells = model.cells(asm, params)
        probe = model.probe_weight(cells, asm, params)

        def per_step(y_step, wavelength, irradiance, temperature):
            co = model.coefficients(cells, asm, params, wavelength, irradiance, temperature)

            def rate(y):
                def plqy(state):
                    return model.observables(state, cells, probe, params)["plqy"]

                return jax.jvp(plqy, (y,), (model.vector_field(0.0, y, co),))[1]

            return jax.vmap(rate)(y_step)

        return jax.vmap(per_step)(ys, proto.wavelength_nm, proto.irradiance_mw_cm2,
                                  proto.temperature_k)

    def values(self, gap, ligand, irradiance, temperature):
        _, (values, flags, codes) = self._point(jnp.stack([gap, ligand]), irradiance,
                                                temperature)
        return values, jnp.full(values.shape + (2,), jnp.nan), flags, codes

    def values_and_gradients(self, gap, ligand, irradiance, temperature):
        jac, (values, flags, codes) = jax.jacfwd(
            lambda g: self._point(g, irradiance, temperature), has_aux=True
        )(jnp.stack([gap, ligand]))
        # A NaN value (failed solve, undefined metric) came through `where`, whose derivative
        # is 0: its gradient is NaN too, not 0.
        jac = jnp.where(jnp.isfinite(values)[:, None], jac, jnp.nan)
        return values, jac, flags, codes


# Module-level: a later sweep of the same structure reuses the compiled batch.
@eqx.filter_jit
def _batch(problem: _PointProblem, gradients: bool, width: int, gap, ligand, irradiance,
           temperature):
    """Inputs `(devices, points per device)`, the leading axis sharded over the mesh.

    On each device the points run `width` at a time in lockstep (`vmap`), the groups one after
    another (`lax.map`): a vmapped adaptive solve takes as many steps as its slowest member, so
    wide groups pay off where width is nearly free (GPU) and waste work on a CPU.
    """
    one = problem.values_and_gradients if gradients else problem.values

    def per_device(*columns):
        return jax.lax.map(lambda args: one(*args), columns, batch_size=width)

    return jax.vmap(per_device)(gap, ligand, irradiance, temperature)


def default_vector_width(model_name: str, backend: str | None = None) -> int:
    """Points solved in lockstep per device: every point of the chunk on an accelerator; on a
    CPU 16 for `mean_field` and 4 for `field`.

    Lockstep amortises per-step overhead but every member takes as many steps as the slowest.
    Measured on a 2-core CPU (ms per point with two gradients, `benchmarks/sweep.py` grids):
    mean_field 4x4x4 33 / 19 / 18 / 33 at widths 1 / 8 / 32 / 128; field 4x4x2 681 / 415 /
    525 at widths 1 / 4 / 16.
    """
    backend = jax.default_backend() if backend is None else backend
    if backend != "cpu":
        return 1 << 30  # capped at the points per device
    return 16 if model_name == "mean_field" else 4


@dataclasses.dataclass
class SweepResult:
    """Metrics and their gradients over a grid.

    **Fields:**

    - `axes`: swept axis name -> 1D values, in grid order (`gap_nm`, `ligand_nm`, then any of
      `layers`, `irradiance_mw_cm2`, `temperature_k`).
    - `metrics`: the metric names.
    - `values`: metric name -> array over the grid (shape `tuple(len(v) for v in axes)`).
    - `gradients`: `"d_<metric>_d_gap_nm"` / `"d_<metric>_d_ligand_nm"` -> array over the grid
      (metric units per nm).
    - `status`: per point `"ok"`, `"partial"` (a metric undefined there) or `"failed"` (the
      solver failed: every metric NaN); `reason`: why, or notes such as an extrapolation.
    - `settings`: what was run; `wall_s`, `first_chunk_s` (includes compilation), `n_chunks`.
    """

    axes: dict
    metrics: tuple
    values: dict
    gradients: dict
    status: np.ndarray
    reason: np.ndarray
    settings: dict
    wall_s: float = float("nan")
    first_chunk_s: float = float("nan")
    n_chunks: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.values:
            return self.values[name]
        if name in self.gradients:
            return self.gradients[name]
        raise KeyError(f"{name!r}: not a metric or gradient of this sweep "
                       f"({', '.join(self.columns)})")

    @property
    def columns(self) -> list[str]:
        cols = list(self.axes) + list(self.metrics)
        cols += [f"d_{m}_d_{a}" for m in self.metrics for a in GRADIENT_AXES]
        return cols + ["status", "reason"]

    def points(self) -> list[dict]:
        """One dict per grid point, keyed by `columns`."""
        grids = np.meshgrid(*self.axes.values(), indexing="ij")
        rows = []
        for idx in np.ndindex(self.shape):
            row = {a: g[idx].item() for a, g in zip(self.axes, grids, strict=True)}
            row.update({m: float(self.values[m][idx]) for m in self.metrics})
            row.update({k: float(v[idx]) for k, v in self.gradients.items()})
            row.update(status=str(self.status[idx]), reason=str(self.reason[idx]))
            rows.append(row)
        return rows

    def to_csv(self, path) -> None:
        """One row per grid point: axes, metrics, `d_<metric>_d_gap_nm`,
        `d_<metric>_d_ligand_nm`, `status`, `reason`. Written whole or not at all."""
        rows = []
        for row in self.points():
            rows.append({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
        write_csv_text_atomic(path, rows, self.columns)

    def best(self, metric: str, goal: str | None = None) -> dict:
        """The grid point with the best value of `metric` (`goal` "max", "min" or "zero",
        default the metric's own), as a row dict; NaN points are skipped."""
        if metric not in self.values:
            raise ParameterError(f"{metric!r} is not a metric of this sweep "
                                 f"({', '.join(self.metrics)})")
        goal = METRICS[metric].goal if goal is None else goal
        v = np.asarray(self.values[metric], dtype=float)
        if not np.isfinite(v).any():
            raise ParameterError(f"{metric}: no grid point has a finite value")
        score = {"max": v, "min": -v, "zero": -np.abs(v)}[goal]
        flat = np.where(np.isfinite(v), score, -np.inf).ravel()
        idx = np.unravel_index(int(np.argmax(flat)), self.shape)
        return self.points()[int(np.ravel_multi_index(idx, self.shape))]


def _axis(values, name: str, integer: bool = False) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ParameterError(f"sweep {name} must be a non-empty 1D list of values")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ParameterError(f"sweep {name} must be positive and finite, got {arr.tolist()}")
    if integer:
        if not np.all(arr == np.round(arr)):
            raise ParameterError(f"sweep {name} must be whole numbers, got {arr.tolist()}")
        return arr.astype(int)
    return arr


def _templates(assembly_factory, gap0, ligand0, layers) -> dict:
    """The assembly of each layer count (None: not swept), built at the first grid values."""
    if isinstance(assembly_factory, Assembly):
        if layers is not None:
            raise ParameterError("sweeping layers needs an assembly factory (e.g. "
                                 "jaxnc.design.film('supercrystal', nx=4, ny=4)), not an Assembly")
        return {None: assembly_factory}
    factory = film(assembly_factory) if isinstance(assembly_factory, str) else assembly_factory
    if not callable(factory):
        raise ParameterError(f"assembly_factory must be an Assembly, a kind or a callable "
                             f"factory(gap_nm=, ligand_nm=[, layers=]), got "
                             f"{type(assembly_factory).__name__}")
    out = {}
    for n in ([None] if layers is None else [int(v) for v in layers]):
        extra = {} if n is None else dict(layers=n)
        asm = factory(gap_nm=float(gap0), ligand_nm=float(ligand0), **extra)
        if not isinstance(asm, Assembly):
            raise ParameterError(f"assembly_factory returned {type(asm).__name__}, not an "
                                 f"Assembly")
        out[n] = asm
    return out


def _mesh_sharding(devices):
    mesh = jax.sharding.Mesh(np.asarray(devices), ("points",))
    return (jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("points", None)),
            jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))


def _global(x, sharding):
    """A global array from the same host value on every process (multi-host safe)."""
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])


def _to_host(x) -> np.ndarray:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


class _Evaluator:
    """Runs batches of points through the compiled, sharded `_batch`.

    Holds one `_PointProblem` per assembly template (layer count), the device mesh and the
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
        solver = resolve_solver(solver, model)
        d_rtol, d_atol = default_tolerances(solver)
        # Saves are solver points (step_to_saves): crossing times read from them are smooth
        # in the geometry, where dense-output values carry step-placement noise.
        settings = SolverSettings(
            solver=solver, rtol=d_rtol if rtol is None else rtol,
            atol=d_atol if atol is None else atol, max_steps=int(max_steps),
            step_to_saves=True,
            adjoint=(diffrax.ForwardMode() if gradients
                     else diffrax.RecursiveCheckpointAdjoint()),
        )
        self.devices = list(jax.devices() if devices is None else devices)
        n_dev = len(self.devices)
        self.chunk = -(-int(chunk_size) // n_dev) * n_dev
        per_device = self.chunk // n_dev
        if vector_width is None:
            vector_width = default_vector_width(model.name)
        if int(vector_width) < 1:
            raise ParameterError(f"vector_width must be >= 1, got {vector_width}")
        self.width = min(int(vector_width), per_device)
        self._sharded, replicated = _mesh_sharding(self.devices)
        local_times = save_grid(protocol, saves_per_step)
        self.problems = {}
        for key, template in templates.items():
            problem = _PointProblem(model, template, params, protocol, settings, local_times,
                                    tuple(metrics), swept_irradiance, swept_temperature)
            self.problems[key] = jax.tree.map(
                lambda x: _global(x, replicated) if eqx.is_array(x) else x, problem)
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
            inputs = [_global(c[pad].reshape(shape), self._sharded) for c in columns]
            out = _batch(problem, self.gradients, self.width, *inputs)
            return [_to_host(x).reshape((self.chunk,) + x.shape[2:])[: members.size]
                    for x in out]

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
                outputs[3][members] = _RUNTIME_ERROR
        return outputs, errors


def _fingerprint(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


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
    - `solver`, `rtol`, `atol`, `max_steps`: as in [`simulate`][].
    - `chunk_size`: points per batch (at most the points of one layer count; rounded up to a
      multiple of the device count); bounds memory. Batches of one shape compile once,
      whatever the number of chunks.
    - `devices`: JAX devices to shard each batch over (default: all, `jax.devices()`; after
      `jax.distributed.initialize()` that spans every host).
    - `vector_width`: points per device solved in lockstep (`vmap`); the rest of a device's
      share runs group after group. Default [`default_vector_width`][]: all of them on a GPU,
      16 (mean_field) or 1 (field) on a CPU. Results do not depend on it.
    - `progress`: tqdm bar over points (on a terminal only).
    - `checkpoint`: `.npz` file written after every chunk (whole or not at all); with
      `resume=True` finished chunks are read from it and skipped.
    - `callback`: called as `callback(chunks_done, n_chunks)` after every chunk.

    **Returns:** a [`SweepResult`][].

    **Raises:** `ParameterError` for bad axes, metrics the protocol cannot give, or a bad
    factory; `DataError` for a checkpoint of another sweep. A point whose solve fails does not
    raise: it is NaN with status `"failed"` and a reason.
    """
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    if not isinstance(params, Parameters):
        raise ParameterError(f"params must be Parameters, got {type(params).__name__}")
    metrics = check_metrics(metrics, protocol)
    axes = {"gap_nm": _axis(gap_nm, "gap_nm"), "ligand_nm": _axis(ligand_nm, "ligand_nm")}
    if layers is not None:
        axes["layers"] = _axis(layers, "layers", integer=True)
    if irradiance_mw_cm2 is not None:
        axes["irradiance_mw_cm2"] = _axis(irradiance_mw_cm2, "irradiance_mw_cm2")
    if temperature_k is not None:
        axes["temperature_k"] = _axis(temperature_k, "temperature_k")
    if resume and checkpoint is None:
        raise ParameterError("resume=True needs a checkpoint file")
    templates = _templates(assembly_factory, axes["gap_nm"][0], axes["ligand_nm"][0],
                           axes.get("layers"))
    # A small sweep is not padded to a large chunk (padding costs as much as real points).
    largest_batch = max(int(np.prod([len(v) for k, v in axes.items() if k != "layers"])), 1)
    evaluator = _Evaluator(templates, params, protocol, metrics, model=model, solver=solver,
                           rtol=rtol, atol=atol, max_steps=max_steps, gradients=gradients,
                           saves_per_step=saves_per_step,
                           chunk_size=min(int(chunk_size), largest_batch),
                           devices=devices, vector_width=vector_width,
                           swept_irradiance=irradiance_mw_cm2 is not None,
                           swept_temperature=temperature_k is not None)
    chunk = evaluator.chunk

    shape = tuple(len(v) for v in axes.values())
    n_points = int(np.prod(shape))
    grid = np.asarray(list(itertools.product(*axes.values())), dtype=float).reshape(n_points, -1)
    names = list(axes)
    column = {a: grid[:, names.index(a)] for a in names}
    record = dict(axes={a: v.tolist() for a, v in axes.items()}, **evaluator.record)
    # How points are batched does not change results: a checkpoint resumes on another machine
    # or with another chunk size (done points are kept per point, not per chunk).
    fingerprint = _fingerprint({k: v for k, v in record.items()
                                if k not in ("chunk_size", "vector_width")})

    n_m, n_s = len(metrics), protocol.n_steps
    values = np.full((n_points, n_m), np.nan)
    jac = np.full((n_points, n_m, 2), np.nan)
    flags = np.zeros((n_points, n_m), dtype=np.int32)
    codes = np.zeros((n_points, n_s), dtype=np.int32)
    done = np.zeros(n_points, dtype=bool)
    failed_errors: dict[int, str] = {}
    if resume and Path(checkpoint).exists():
        _load_checkpoint(checkpoint, fingerprint, values, jac, flags, codes, done)

    # Chunks: consecutive points of one layer count (one assembly shape) each.
    layer_of = column["layers"].astype(int) if "layers" in column else np.full(n_points, -1)
    chunks = []
    for key in templates:
        idx = np.flatnonzero(layer_of == (-1 if key is None else key))
        chunks += [(key, idx[i:i + chunk]) for i in range(0, idx.size, chunk)]

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_points, desc="sweep", unit="pt", disable=None,
                   initial=int(done.sum()))
    t_start = time.perf_counter()
    first_chunk_s = float("nan")
    try:
        for k, (key, idx) in enumerate(chunks):
            if done[idx].all():
                continue
            t0 = time.perf_counter()
            outputs, errors = evaluator(
                key, column["gap_nm"][idx], column["ligand_nm"][idx],
                column.get("irradiance_mw_cm2", np.zeros(n_points))[idx],
                column.get("temperature_k", np.zeros(n_points))[idx],
            )
            values[idx], jac[idx], flags[idx], codes[idx] = outputs
            failed_errors.update({int(idx[i]): msg for i, msg in errors.items()})
            done[idx] = True
            if np.isnan(first_chunk_s):
                first_chunk_s = time.perf_counter() - t0
            if checkpoint is not None and jax.process_index() == 0:
                _save_checkpoint(checkpoint, fingerprint, values, jac, flags, codes, done)
            if bar is not None:
                bar.update(idx.size)
            if callback is not None:
                callback(k + 1, len(chunks))
    finally:
        if bar is not None:
            bar.close()

    status, reason = _status(metrics, flags, codes, protocol, failed_errors)
    grad = {}
    for i, m in enumerate(metrics):
        for j_axis, a in enumerate(GRADIENT_AXES):
            grad[f"d_{m}_d_{a}"] = jac[:, i, j_axis].reshape(shape)
    record.update(devices=len(evaluator.devices), fingerprint=fingerprint)
    return SweepResult(
        axes=axes, metrics=metrics,
        values={m: values[:, i].reshape(shape) for i, m in enumerate(metrics)},
        gradients=grad, status=status.reshape(shape), reason=reason.reshape(shape),
        settings=record, wall_s=time.perf_counter() - t_start, first_chunk_s=first_chunk_s,
        n_chunks=len(chunks),
    )


# Code stored for a point whose solve raised (an equinox runtime check, e.g. a linear solve fed
# non-finite values): not a diffrax result code.
_RUNTIME_ERROR = -1


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
        if members.size == 1:
            yield members, None, _error_message(err)
            return
        half = members.size // 2
        yield from _isolate_errors(run, members[:half])
        yield from _isolate_errors(run, members[half:])


def _error_message(err: Exception) -> str:
    """The error's own message in one line, without the traceback equinox puts before it."""
    text = str(err)
    marker = "EquinoxRuntimeError: "
    if marker in text:
        text = text.split(marker, 1)[1]
    paragraph = text.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split()) or type(err).__name__


def _status(metrics, flags, codes, protocol: Protocol, errors: dict):
    steps = protocol.steps
    status = np.empty(len(flags), dtype=object)
    reason = np.empty(len(flags), dtype=object)
    for i in range(len(flags)):
        if i in errors or np.any(codes[i] == _RUNTIME_ERROR):
            status[i] = "failed"
            reason[i] = "solve raised: " + errors.get(i, "a runtime check failed (see log)")
            continue
        bad = np.flatnonzero(codes[i] != 0)
        if bad.size:
            k = int(bad[0])
            code = int(codes[i, k])
            msg = result_message(code)
            status[i] = "failed"
            reason[i] = f"solver failed in step {k + 1} ({steps[k]}): {msg}"
            continue
        status[i] = "partial" if np.any(flags[i] == _metrics.UNDEFINED) else "ok"
        reason[i] = _metrics.reason(metrics, flags[i])
    return status, reason


def _save_checkpoint(path, fingerprint, values, jac, flags, codes, done) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, fingerprint=np.asarray(fingerprint), values=values, jac=jac, flags=flags,
                 codes=codes, done=done)


def _load_checkpoint(path, fingerprint, values, jac, flags, codes, done) -> None:
    try:
        with np.load(path) as f:
            saved = str(f["fingerprint"])
            arrays = {k: f[k] for k in ("values", "jac", "flags", "codes", "done")}
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path}: not a sweep checkpoint ({err})") from None
    if saved != fingerprint:
        raise DataError(f"{path}: checkpoint is of another sweep (different axes, metrics, "
                        f"model, protocol, parameters or settings); remove it or drop resume")
    values[...], jac[...], flags[...] = arrays["values"], arrays["jac"], arrays["flags"]
    codes[...], done[...] = arrays["codes"], arrays["done"]

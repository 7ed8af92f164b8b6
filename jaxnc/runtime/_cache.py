"""Caches that let a second `jaxnc` process skip the work the first one did.

A fresh process pays for tracing a program (Python running through diffrax, seconds for a
fit's Jacobian) and for compiling it (XLA, seconds more). Two caches under one folder remove
both from every later run with the same structure:

- `xla/`: JAX's persistent compilation cache (compiled executables, keyed by JAX from the
  program text and the compiler);
- `programs/`: traced programs serialised with `jax.export`, keyed by the shapes and static
  settings of their inputs, the jaxnc source and the JAX version, so a later process loads
  the program instead of tracing it again.

The folder is `$JAXNC_CACHE_DIR`, else `$XDG_CACHE_HOME/jaxnc`, else `~/.cache/jaxnc`;
`JAXNC_CACHE_DIR=off` switches both caches off. The command line enables them (see
`jaxnc.cli`); from Python call [`enable_cache`][] once. Deleting the folder is always safe.

JAX stores nothing for programs with host callbacks, and equinox's runtime checks are such
callbacks unless `EQX_ON_ERROR=nan` is set before equinox is imported (the command line does
this); then a failed solve is reported from the solver's result code instead.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import jax

__all__ = ["cache_dir", "enable_cache", "enabled_cache_dir", "cached_program", "jitted"]

ENV = "JAXNC_CACHE_DIR"
_OFF = ("off", "0", "none", "false", "no")
_state: dict = {"dir": None}
_loaded: dict = {}  # program file -> its callable, so a process loads and compiles it once


def cache_dir() -> Path | None:
    """The cache folder the environment asks for, or None when `JAXNC_CACHE_DIR=off`."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in _OFF:
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "jaxnc"


def enable_cache(path: str | Path | None = None) -> Path | None:
    """Switch on both caches in `path` (default: [`cache_dir`][]) for this process.

    **Returns:** the folder, or None when caching is off.
    """
    folder = Path(path).expanduser() if path is not None else cache_dir()
    if folder is None:
        return None
    (folder / "xla").mkdir(parents=True, exist_ok=True)
    (folder / "programs").mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder / "xla"))
    # Every program, small ones included: loading an entry takes milliseconds, compiling even
    # a one-operation program on a CPU tens of them.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _state["dir"] = folder
    return folder


def enabled_cache_dir() -> Path | None:
    """The folder [`enable_cache`][] switched on in this process, or None."""
    return _state["dir"]


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    """Hash of jaxnc's own source: a changed model invalidates every stored program."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]  # the jaxnc package
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _key(name: str, dynamic_leaves, treedef, static) -> str:
    import equinox as eqx

    parts = [
        name,
        _source_digest(),
        jax.__version__,
        str(jax.config.jax_enable_x64),
        os.environ.get("EQX_ON_ERROR", "raise"),
        jax.default_backend(),
        str(treedef),
        eqx.tree_pformat(static, short_arrays=False),
        ";".join(f"{leaf.shape}{leaf.dtype}" for leaf in dynamic_leaves),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def cached_program(name: str, fn: Callable, args: tuple) -> Callable:
    """`fn` as a compiled program that a later process loads instead of tracing again.

    `args` is an example of the arguments (any pytree; its array leaves are the program's
    inputs, everything else is fixed into it). The returned function takes arguments of the
    same structure and shapes and returns what `fn` returns. Without an enabled cache, or
    when `EQX_ON_ERROR` is not `nan` (equinox's runtime checks are host callbacks, which
    cannot be exported), it is `eqx.filter_jit(fn)`.
    """
    import equinox as eqx
    import jax.export  # a submodule that older JAX versions do not import with `jax`

    folder = enabled_cache_dir()
    if folder is None or os.environ.get("EQX_ON_ERROR") != "nan":
        return jitted(fn)
    dynamic, static = eqx.partition(args, eqx.is_array)
    leaves, treedef = jax.tree.flatten(dynamic)
    path = folder / "programs" / f"{name}-{_key(name, leaves, treedef, static)}.jaxexport"
    if path in _loaded:  # a later fit of the same structure in this process
        return _loaded[path]
    exported = _load(path)
    if exported is None:
        def flat(*flat_leaves):
            return fn(*eqx.combine(jax.tree.unflatten(treedef, flat_leaves), static))

        specs = [jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves]
        try:
            exported = jax.export.export(jax.jit(flat))(*specs)
            data = exported.serialize()
        except Exception:  # a program JAX cannot export runs uncached rather than failing
            return jitted(fn)
        _store(path, data)
    call = jax.jit(exported.call)

    def program(*new_args):
        return call(*jax.tree.leaves(eqx.filter(new_args, eqx.is_array)))

    _loaded[path] = program
    return program


@functools.cache
def jitted(fn):
    """`eqx.filter_jit(fn)`, one wrapper per function, so that every caller of the uncached
    program shares its compilations."""
    import equinox as eqx

    return eqx.filter_jit(fn)


def _load(path: Path):
    import jax.export

    if not path.exists():
        return None
    try:
        return jax.export.deserialize(bytearray(path.read_bytes()))
    except Exception:  # a truncated or foreign file is a cache miss, never an error
        return None


def _store(path: Path, data: bytes) -> None:
    from ._files import atomic_path

    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(bytes(data))
    except OSError:  # a read-only or full cache folder costs speed, not the result
        pass

"""The one checkpoint format of jaxnc: fits, sampler chains and sweeps save their state in it.

A checkpoint is one `.npz`, written whole or not at all: named arrays, and `meta`, a JSON text
with the format version, the kind of run (`"fit"`, `"sampling run"`, `"sweep"`), the run's
fingerprint and settings, and what else the run records (finished starts, steps done). The
fingerprint is 16 hex digits of the SHA-256 of the settings (JSON, keys sorted): a checkpoint
resumes only the run that wrote it, and a refusal names the settings that differ.

Why not `equinox.tree_serialise_leaves`: it needs a template of the exact structure and shapes
before reading, where a sampler's records grow with every chunk, and it stores no metadata to
refuse another run's file with.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import DataError
from . import distributed
from ._files import atomic_path

__all__ = ["Checkpoint", "checkpoint_fingerprint"]

FORMAT_VERSION = 1


def checkpoint_fingerprint(settings: dict) -> str:
    """16 hex digits of the SHA-256 of `settings` as JSON with sorted keys."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


class Checkpoint:
    """A run's checkpoint file: `save` it as often as wanted, `load` it to resume.

    **Arguments:** `path` (a `.npz`), `kind` (what run writes it, as messages name it:
    `"fit"`, `"sampling run"`, `"sweep"`), `settings` (JSON-able: what makes the run; its
    fingerprint ties the file to the run).
    """

    def __init__(self, path, kind: str, settings: dict):
        self.path, self.kind, self.settings = Path(path), kind, settings
        self.fingerprint = checkpoint_fingerprint(settings)

    def save(self, arrays: dict, **info) -> None:
        """Write `arrays` (name -> array) and `info` (JSON-able) whole or not at all; only the
        process that writes a run's files does ([`jaxnc.runtime.distributed.is_writer`][])."""
        if not distributed.is_writer():
            return
        meta = dict(format=FORMAT_VERSION, kind=self.kind, fingerprint=self.fingerprint,
                    settings=self.settings, info=info)
        with atomic_path(self.path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, meta=np.asarray(json.dumps(meta)),
                     **{f"array_{k}": np.asarray(v) for k, v in arrays.items()})

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> tuple[dict, dict] | None:
        """`(arrays, info)` as saved, or None without a file.

        **Raises:** `DataError` for a file that is not a jaxnc checkpoint, one of another
        format version or kind of run, or one of another run (naming the settings that
        differ).
        """
        if not self.path.exists():
            return None
        try:
            with np.load(self.path) as f:
                meta = json.loads(str(f["meta"]))
                arrays = {k[6:]: f[k] for k in f.files if k.startswith("array_")}
        except (OSError, KeyError, ValueError) as err:
            raise DataError(f"{self.path}: not a jaxnc checkpoint ({err}); remove it or drop "
                            f"--resume") from None
        self.check(meta)
        return arrays, meta.get("info", {})

    def check(self, meta: dict) -> None:
        """Refuse `meta` of another format, kind of run or run."""
        if meta.get("format") != FORMAT_VERSION:
            raise DataError(f"{self.path}: checkpoint of format {meta.get('format')}, this "
                            f"jaxnc reads format {FORMAT_VERSION}; remove it or drop --resume")
        if meta.get("kind") != self.kind:
            raise DataError(f"{self.path}: a {meta.get('kind')} checkpoint, not a {self.kind} "
                            f"one; remove it or drop --resume")
        if meta.get("fingerprint") != self.fingerprint:
            saved = meta.get("settings", {})
            differ = sorted(k for k in set(saved) | set(self.settings)
                            if saved.get(k) != self.settings.get(k))
            raise DataError(f"{self.path}: checkpoint is of another {self.kind} (it differs in "
                            f"{', '.join(differ) or 'its settings'}); remove it or drop "
                            f"--resume")

    def save_tree(self, tree, **info) -> None:
        """`save` with the array leaves of the pytree `tree`, in order."""
        self.save({f"leaf{i}": x for i, x in enumerate(jax.tree.leaves(tree))}, **info)

    def load_tree(self, template) -> tuple[object, dict] | None:
        """`load` into the structure of the pytree `template`, each leaf as the type the
        template has there (JAX array, NumPy array, text or Python scalar); None without a
        file. **Raises:** `DataError` if the saved leaves do not fit the template."""
        loaded = self.load()
        if loaded is None:
            return None
        arrays, info = loaded
        like, structure = jax.tree.flatten(template)
        if len(arrays) != len(like):
            raise DataError(f"{self.path}: checkpoint holds another kind of state (written by "
                            f"another version of jaxnc?); remove it or drop --resume")
        leaves = [_as_like(t, arrays[f"leaf{i}"]) for i, t in enumerate(like)]
        return jax.tree.unflatten(structure, leaves), info


def _as_like(like, saved: np.ndarray):
    """A saved leaf as the type of the template's leaf."""
    if isinstance(like, jax.Array):
        return jnp.asarray(saved)
    if isinstance(like, str):
        return str(saved)
    if isinstance(like, bool | int | float):
        return type(like)(saved.item())
    return saved

"""Fit checkpoints: a multi-start run (`_Run`) in one `.npz`, written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import distributed
from .._errors import DataError
from .._io import atomic_path
from ._multistart import _Run


class _Checkpoint:
    """The optimiser state's leaves as arrays, the rest (finished starts, loss history and
    `tag`, the settings that make a fit's path) as JSON.

    `load` refuses a file whose tag differs, and puts the leaves back into the structure of a
    template state, each as the type the template has there, so that a resumed fit continues
    along the same path as an uninterrupted one.
    """

    def __init__(self, path, tag: dict):
        self.path = Path(path)
        self.tag = tag

    def save(self, run: _Run) -> None:
        if not distributed.is_writer():  # one file per run: process 0 writes it
            return
        leaves = jax.tree.leaves(run.state)
        meta = dict(self.tag, state=type(run.state).__name__, finished=run.finished,
                    history=run.history)
        with atomic_path(self.path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, meta=np.asarray(json.dumps(meta)),
                     **{f"leaf{i}": np.asarray(x) for i, x in enumerate(leaves)})

    def load(self, template) -> _Run | None:
        """The saved run, its state shaped like `template`; None without a file."""
        if not self.path.exists():
            return None
        with np.load(self.path) as f:
            meta = json.loads(str(f["meta"]))
            leaves = [f[f"leaf{i}"] for i in range(len(f.files) - 1)]
        if any(meta.get(k) != v for k, v in self.tag.items()):
            raise DataError(f"{self.path}: checkpoint is of another fit ("
                            + ", ".join(f"{k} {meta.get(k)}" for k in self.tag)
                            + "); remove it or drop --resume")
        like, structure = jax.tree.flatten(template)
        if meta.get("state") != type(template).__name__ or len(leaves) != len(like):
            raise DataError(f"{self.path}: checkpoint holds another kind of optimiser state "
                            f"(written by another version of jaxnc?); remove it or drop "
                            f"--resume")
        state = jax.tree.unflatten(structure, [_as_like(t, x) for t, x in zip(like, leaves,
                                                                               strict=True)])
        return _Run(state, tuple((loss, z) for loss, z in meta["finished"]),
                    tuple(meta["history"]))


def _as_like(like, saved: np.ndarray):
    """A saved leaf as the type of the template's leaf (JAX array, NumPy array, str or
    Python scalar)."""
    if isinstance(like, jax.Array):
        return jnp.asarray(saved)
    if isinstance(like, str):
        return str(saved)
    if isinstance(like, bool | int | float):
        return type(like)(saved.item())
    return saved

"""Sweep checkpoints: the per-point arrays saved after every chunk, and the fingerprint that ties
a checkpoint to the sweep that wrote it.

A checkpoint is one `.npz` with `fingerprint` (a 0-d string) and the `PointArrays` fields
`values`, `jac`, `flags`, `codes`, `done`. Keep that layout and the fingerprint's recipe: a
checkpoint written by an earlier version must still resume.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from .._errors import DataError
from .._io import atomic_path
from ._result import PointArrays

__all__ = ["checkpoint_fingerprint", "save_checkpoint", "load_checkpoint"]

_ARRAYS = ("values", "jac", "flags", "codes", "done")
# How points are batched does not change results: a checkpoint resumes on another machine or
# with another chunk size (done points are kept per point, not per chunk).
_BATCHING = ("chunk_size", "vector_width")


def checkpoint_fingerprint(record: dict) -> str:
    """16 hex digits of the SHA-256 of the sweep's settings `record` (JSON, keys sorted), less
    the settings that only decide how points are batched."""
    settings = {k: v for k, v in record.items() if k not in _BATCHING}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def save_checkpoint(path, fingerprint: str, arrays: PointArrays) -> None:
    """Write the checkpoint whole or not at all."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, fingerprint=np.asarray(fingerprint), values=arrays.values, jac=arrays.jac,
                 flags=arrays.flags, codes=arrays.codes, done=arrays.done)


def load_checkpoint(path, fingerprint: str, arrays: PointArrays) -> None:
    """Fill `arrays` in place from the checkpoint at `path`.

    **Raises:** `DataError` if the file is not a sweep checkpoint or is one of another sweep.
    """
    try:
        with np.load(path) as f:
            saved = str(f["fingerprint"])
            loaded = {k: f[k] for k in _ARRAYS}
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path}: not a sweep checkpoint ({err})") from None
    if saved != fingerprint:
        raise DataError(f"{path}: checkpoint is of another sweep (different axes, metrics, "
                        f"model, protocol, parameters or settings); remove it or drop resume")
    for name, value in loaded.items():
        getattr(arrays, name)[...] = value

"""Sweep checkpoints: the per-point arrays saved after every chunk, in the checkpoint format of
`jaxnc.runtime.Checkpoint`, tied to the sweep by the fingerprint of its settings.

How points are batched (`chunk_size`, `vector_width`) is left out of the fingerprint: done
points are kept per point, so a checkpoint resumes on another machine or with another chunk
size. A checkpoint of the layout before that format (a `fingerprint` entry beside the arrays,
the same fingerprint recipe) still resumes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..runtime import Checkpoint, checkpoint_fingerprint
from ._result import PointArrays

__all__ = ["SweepCheckpoint"]

_ARRAYS = ("values", "jac", "flags", "codes", "done")
_BATCHING = ("chunk_size", "vector_width")


class SweepCheckpoint:
    """A sweep's checkpoint file. **Arguments:** `path` (`.npz`, or None: nothing is saved),
    `record` (the sweep's settings, batching included)."""

    def __init__(self, path, record: dict):
        settings = {k: v for k, v in record.items() if k not in _BATCHING}
        self.file = None if path is None else Checkpoint(path, "sweep", settings)
        self.fingerprint = checkpoint_fingerprint(settings)

    def save(self, arrays: PointArrays) -> None:
        """Write every per-point array, whole or not at all (process 0 only)."""
        if self.file is not None:
            self.file.save({k: getattr(arrays, k) for k in _ARRAYS})

    def load_into(self, arrays: PointArrays) -> None:
        """Fill `arrays` in place from the file, if there is one.

        **Raises:** `DataError` if the file is not a sweep checkpoint or is one of another
        sweep.
        """
        if self.file is None or not self.file.exists():
            return
        loaded = _legacy(self.file.path, self.fingerprint)
        if loaded is None:
            loaded, _ = self.file.load()
        for name in _ARRAYS:
            getattr(arrays, name)[...] = loaded[name]


def _legacy(path: Path, fingerprint: str) -> dict | None:
    """The arrays of a checkpoint in the layout before the common format, or None if the file
    is in the common format."""
    try:
        with np.load(path) as f:
            if "meta" in f.files or "fingerprint" not in f.files:
                return None
            saved = str(f["fingerprint"])
            arrays = {k: f[k] for k in _ARRAYS}
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path}: not a sweep checkpoint ({err})") from None
    if saved != fingerprint:
        raise DataError(f"{path}: checkpoint is of another sweep (different axes, metrics, "
                        f"model, protocol, parameters or settings); remove it or drop resume")
    return arrays

"""Writing files whole or not at all: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_path", "write_csv_atomic", "write_json_atomic"]


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_csv_atomic(path, columns: dict[str, np.ndarray]) -> None:
    """Write equal-length columns as CSV with a header row."""
    names = list(columns)
    data = np.column_stack([np.asarray(columns[n], dtype=float) for n in names])
    int_cols = {i for i, n in enumerate(names) if np.issubdtype(np.asarray(columns[n]).dtype,
                                                                  np.integer)}
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write(",".join(names) + "\n")
        for row in data:
            fh.write(",".join(
                str(int(v)) if i in int_cols else repr(float(v)) for i, v in enumerate(row)
            ) + "\n")


def write_json_atomic(path, obj) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(obj, fh, indent=2)
        fh.write("\n")


def write_csv_text_atomic(path, rows: list[dict], fields) -> None:
    """Write dict rows (numbers or text) as CSV with a header, whole or not at all."""
    import csv

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})

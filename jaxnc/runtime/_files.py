"""Writing files whole or not at all: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_path", "write_csv_atomic", "write_csv_text_atomic", "write_json_atomic",
           "json_safe"]


def _usual_mode(path: Path) -> int:
    """The mode `open(path, "w")` would give: an existing file's, else 0o666 less the umask
    (`mkstemp` makes its files 0o600, which would leave outputs unreadable to the group)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path` atomically, with
    the permissions a plainly written file would have."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _usual_mode(path))
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


def json_safe(obj):
    """`obj` (nested dicts, lists and tuples of numbers, text, None) with every non-finite
    number as None and NumPy scalars and arrays as Python ones: `json` would write `NaN` and
    `Infinity`, which strict JSON readers refuse."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_json_atomic(path, obj) -> None:
    """Write `obj` as JSON, whole or not at all; non-finite numbers become `null`."""
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(json_safe(obj), fh, indent=2, allow_nan=False)
        fh.write("\n")


def write_csv_text_atomic(path, rows: list[dict], fields) -> None:
    """Write dict rows (numbers or text) as CSV with a header, whole or not at all."""
    import csv

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})

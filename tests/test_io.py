"""Output files: written whole, readable by strict JSON readers, with the usual permissions."""

import json
import math
import os

import numpy as np
import pytest

from jaxnc.runtime import write_csv_atomic, write_json_atomic


def _strict(text):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_json_has_null_where_numbers_are_not_finite(tmp_path):
    path = tmp_path / "out.json"
    write_json_atomic(path, {"a": math.nan, "b": [math.inf, 1.0, -np.inf], "c": np.float64(2.5),
                             "d": np.array([1.0, np.nan]), "e": (np.int64(3), None, "x")})
    assert _strict(path.read_text()) == {"a": None, "b": [None, 1.0, None], "c": 2.5,
                                         "d": [1.0, None], "e": [3, None, "x"]}


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_outputs_get_the_permissions_of_a_plainly_written_file(tmp_path, umask_022):
    new = tmp_path / "new.csv"
    write_csv_atomic(new, {"t": np.arange(3.0)})
    assert new.stat().st_mode & 0o777 == 0o644  # 0o666 less the umask, not mkstemp's 0o600
    kept = tmp_path / "kept.json"
    kept.write_text("{}")
    kept.chmod(0o640)
    write_json_atomic(kept, {"x": 1})
    assert kept.stat().st_mode & 0o777 == 0o640 and _strict(kept.read_text()) == {"x": 1}

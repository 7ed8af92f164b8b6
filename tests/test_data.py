import numpy as np
import pytest

from jaxnc import DataError
from jaxnc.data import Dataset

GOOD = """time_h,plqy_percent,light,temperature_k,sample
0,16.0,1,298.15,a
1,50.0,1,298.15,a
3,68.0,0,298.15,a
0,17.0,0,318.15,b
10,15.0,0,318.15,b
"""


def _write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_samples_and_converts_percent(tmp_path):
    d = Dataset.from_csv(_write(tmp_path, GOOD))
    assert d.samples == ["a", "b"]
    np.testing.assert_allclose(d.curves[0].plqy, [0.16, 0.50, 0.68])
    np.testing.assert_allclose(d.curves[1].temperature_k, [318.15, 318.15])
    np.testing.assert_array_equal(d.curves[0].light, [1, 1, 0])


def test_minimal_file_has_one_sample(tmp_path):
    d = Dataset.from_csv(_write(tmp_path, "time_h,plqy\n0,0.2\n1,0.3\n"))
    assert len(d) == 1 and d.curves[0].light is None


@pytest.mark.parametrize(
    "text, where",
    [
        ("", "empty file"),
        ("time_h\n0\n", "row 1"),
        ("time_h,plqy,plqy_percent\n0,0.1,10\n", "both hold plqy"),
        ("time_h,plqy\n", "no data rows"),
        ("time_h,plqy\n0,0.1\n1,abc\n", "row 3, column 'plqy': 'abc'"),
        ("time_h,plqy\n0,0.1\nnan,0.2\n", "row 3, column 'time_h': 'nan' is not finite"),
        ("time_h,plqy\n0,0.1\n1,1.5\n", "row 3, column 'plqy'"),
        ("time_h,plqy\n-1,0.1\n1,0.2\n", "row 2, column 'time_h'"),
        ("time_h,plqy,sample\n0,0.1,a\n2,0.2,a\n1,0.3,a\n", "row 4, column 'time_h'"),
        # A repeated time is a switch only where light or temperature changes.
        ("time_h,plqy,light\n0,0.1,1\n1,0.2,1\n1,0.3,1\n", "row 4, column 'time_h'"),
        ("time_h,plqy,light,sample\n0,0.1,1,a\n1,0.2,1,a\n1,0.3,1,a\n", "sample 'a' repeats"),
        ("time_h,plqy,light\n0,0.1,2\n", "row 2, column 'light'"),
        ("time_h,plqy\n0,0.1,7\n", "row 2: 3 fields"),
        ("time_h,plqy,temperature_k\n0,0.1,-5\n", "row 2, column 'temperature_k'"),
    ],
)
def test_bad_files_name_file_row_and_column(tmp_path, text, where):
    path = _write(tmp_path, text)
    with pytest.raises(DataError) as err:
        Dataset.from_csv(path)
    msg = str(err.value)
    assert str(path) in msg and where in msg and "\n" not in msg


def test_a_file_without_samples_is_split_where_time_restarts(tmp_path):
    text = ("time_h,plqy,temperature_k\n0,0.6,298\n5,0.5,298\n10,0.4,298\n"
            "0,0.62,318\n5,0.45,318\n0,0.61,338\n2,0.5,338\n4,0.3,338\n")
    d = Dataset.from_csv(_write(tmp_path, text))
    assert d.samples == ["curve1", "curve2", "curve3"]
    assert [len(c) for c in d.curves] == [3, 2, 3]
    assert d.note == "read 3 curves, split where time restarts (rows 5, 7)"
    np.testing.assert_array_equal(d.curves[2].time_h, [0, 2, 4])
    # Grouped by temperature instead (what kinetics does): the same curves, named by it.
    by_t = Dataset.from_csv(tmp_path / "d.csv", split="temperature")
    assert by_t.samples == ["298K", "318K", "338K"]
    assert by_t.note == "read 3 curves, one per temperature_k (no sample column)"
    # One curve, or named samples: nothing inferred, no note.
    assert Dataset.from_csv(_write(tmp_path, GOOD, "g.csv")).note == ""
    with pytest.raises(DataError, match="split must be"):
        Dataset.from_csv(tmp_path / "d.csv", split="sample")


def test_a_row_at_the_moment_of_a_switch_belongs_to_its_step(tmp_path):
    from jaxnc.data import curve_save_grid, protocol_from_curve

    text = ("time_h,plqy,light\n0,0.16,1\n1.5,0.5,1\n3,0.68,1\n3,0.68,0\n"
            "100,0.6,0\n200,0.55,0\n")
    curve = Dataset.from_csv(_write(tmp_path, text)).curves[0]
    protocol = protocol_from_curve(curve)
    assert protocol.kinds == ("light", "dark")
    np.testing.assert_allclose(protocol.duration_h, [3.0, 197.0])
    grid, step, slot = curve_save_grid(curve.time_h, protocol)
    # Both rows at t = 3 h compare with the state at the switch (the model's PLQY depends on
    # the state only, which is continuous across it): the light step's end.
    assert grid[step[2], slot[2]] == grid[step[3], slot[3]] == 3.0
    assert step[2] == step[3] == 0 and step[4] == 1


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        Dataset.from_csv(tmp_path / "nope.csv")


def test_blank_lifetime_cells_mean_not_measured_and_round_trip(tmp_path):
    text = "time_h,plqy,lifetime_ns\n0,0.16,10.5\n1,0.4,\n3,0.68,22.6\n"
    d = Dataset.from_csv(_write(tmp_path, text))
    np.testing.assert_array_equal(np.isnan(d.curves[0].lifetime_ns), [False, True, False])
    d.to_csv(tmp_path / "again.csv")
    again = Dataset.from_csv(tmp_path / "again.csv")
    np.testing.assert_array_equal(again.curves[0].lifetime_ns, d.curves[0].lifetime_ns)
    np.testing.assert_array_equal(again.curves[0].plqy, d.curves[0].plqy)
    # A blank PLQY is not measured either (with a note); a blank time is refused.
    blank = Dataset.from_csv(_write(tmp_path, "time_h,plqy\n0,0.2\n1,\n", "blank.csv"))
    np.testing.assert_array_equal(blank.curves[0].plqy_measured, [True, False])
    assert "1 blank cell(s) in 'plqy' read as not measured" in blank.note
    with pytest.raises(DataError, match="row 3, column 'time_h': blank"):
        Dataset.from_csv(_write(tmp_path, "time_h,plqy\n0,0.2\n,0.3\n", "blank_t.csv"))

"""Data files as labs write them: headers with units, delimiters and decimal commas, blank
cells, words in the light column, columns said on the command line or in Python."""

import re
from pathlib import Path

import numpy as np
import pytest

from jaxnc import DataError
from jaxnc.cli import main
from jaxnc.data import Dataset, columns_markdown, read_header

ROOT = Path(__file__).resolve().parents[1]

# One curve: 3 h of light then 5 h of dark at 45 °C, PLQY 16 % -> 68 % -> 40 %.
TIME_H = np.array([0.0, 0.5, 1.5, 3.0, 3.0, 5.0, 8.0])
PLQY = np.array([0.16, 0.35, 0.58, 0.68, 0.68, 0.55, 0.40])
LIGHT = np.array([1, 1, 1, 1, 0, 0, 0])
TEMP_K = 318.15


def _write(tmp_path, text, name="d.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _table(headers, columns, delimiter=","):
    rows = [delimiter.join(headers)]
    rows += [delimiter.join(cells) for cells in zip(*columns, strict=True)]
    return "\n".join(rows) + "\n"


def _fmt(values):
    return [f"{v:.12g}" for v in values]


@pytest.mark.parametrize(
    "time_header, time_scale, plqy_header, plqy_scale, temp_header, temp_offset",
    [("time_h", 1.0, "plqy", 1.0, "temperature_k", 0.0),
     ("Time (min)", 60.0, "PLQY (%)", 100.0, "T (°C)", -273.15),
     ("t / s", 3600.0, "plqy_fraction", 1.0, "Temperature [K]", 0.0),
     ("time_d", 1 / 24, "plqy_percent", 100.0, "temperature_c", -273.15),
     ("Elapsed time [hours]", 1.0, "QY (percent)", 100.0, "temp (celsius)", -273.15)],
)
def test_headers_in_any_unit_read_to_the_same_dataset(tmp_path, time_header, time_scale,
                                                      plqy_header, plqy_scale, temp_header,
                                                      temp_offset):
    text = _table([time_header, plqy_header, "light", temp_header],
                  [_fmt(TIME_H * time_scale), _fmt(PLQY * plqy_scale), _fmt(LIGHT),
                   _fmt(np.full(TIME_H.size, TEMP_K + temp_offset))])
    curve = Dataset.from_csv(_write(tmp_path, text)).curves[0]
    # 12 significant digits written: the unit conversion adds rounding of ~1e-16.
    np.testing.assert_allclose(curve.time_h, TIME_H, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(curve.plqy, PLQY, rtol=1e-11)
    np.testing.assert_allclose(curve.temperature_k, TEMP_K, rtol=1e-11)
    np.testing.assert_array_equal(curve.light, LIGHT)


# Ten headers the reader must refuse, each with one line naming the column.
BAD_HEADERS = [
    ("Time,PLQY (%)\n0,16\n", "'Time'", "without a unit"),
    ("t,plqy\n0,0.16\n", "'t'", "time_h or temperature_k"),
    ("time (fortnights),plqy\n0,0.16\n", "'time (fortnights)'", "unit not understood"),
    ("time_h,PLQY (ppm)\n0,16\n", "'PLQY (ppm)'", "unit not understood"),
    ("time_h,plqy,Temperature (F)\n0,0.16,70\n", "'Temperature (F)'", "unit not understood"),
    ("time_h,plqy,temp\n0,0.16,25\n", "'temp'", "without a unit"),
    ("time_h,plqy,Wavelength (nm)\n0,0.16,468\n", "'Wavelength (nm)'", "PL peak"),
    ("time_h,plqy,irradiance\n0,0.16,10\n", "'irradiance'", "without a unit"),
    ("time_h,plqy,Time (min)\n0,0.16,0\n", "'Time (min)'", "both hold time_h"),
    ("time_h,plqy,,light\n0,0.16,,1\n", "row 1", "no name"),
]


@pytest.mark.parametrize("text, column, why", BAD_HEADERS)
def test_a_bad_header_is_one_line_naming_the_column(tmp_path, text, column, why):
    path = _write(tmp_path, text)
    with pytest.raises(DataError) as err:
        Dataset.from_csv(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}, row 1") and column in msg and why in msg
    assert "\n" not in msg


@pytest.mark.parametrize("text, column, why", BAD_HEADERS[:3])
def test_a_bad_header_exits_2_in_one_line_from_the_command_line(tmp_path, capsys, text,
                                                                 column, why):
    path = _write(tmp_path, text)
    out = tmp_path / "k.json"
    assert main(["kinetics", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and column in err and why in err
    assert "Traceback" not in err and not out.exists()


# The lab file that took five runs to load, one refusal each: `Sample` in capitals, a
# `comment` column, on/off in the light column, a blank PLQY cell, a blank light cell.
LAB_FILE = """Sample,Time (min),PLQY (%),Light,comment
film1,0,16.1,on,fresh
film1,60,41.0,on,
film1,120,,,lamp flickered
film1,180,67.9,on,
film1,240,55.2,off,
film1,300,48.7,,
"""


def test_the_five_refusal_lab_file_loads_in_one_run_with_its_notes(tmp_path):
    data = Dataset.from_csv(_write(tmp_path, LAB_FILE))
    (curve,) = data.curves
    assert curve.sample == "film1"
    np.testing.assert_allclose(curve.time_h, [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(curve.light, [1, 1, 1, 1, 0, 0])  # blanks: the row above's
    np.testing.assert_array_equal(curve.plqy_measured, [1, 1, 0, 1, 1, 1])
    np.testing.assert_allclose(curve.plqy[curve.plqy_measured],
                               [0.161, 0.41, 0.679, 0.552, 0.487])
    assert "ignored column(s) 'comment'" in data.note
    assert "1 blank cell(s) in 'PLQY (%)' read as not measured" in data.note
    assert "2 blank cell(s) in 'Light' read as the row above's value" in data.note
    assert "\n" not in data.note
    assert data.summary().startswith("1 curve(s) (film1), 6 rows; values: PLQY 5")


def test_instrument_exports_semicolons_tabs_decimal_commas_and_encodings(tmp_path):
    want = Dataset.from_csv(_write(tmp_path, LAB_FILE)).curves[0]
    european = LAB_FILE.replace(",", ";").replace("16.1", "16,1").replace("41.0", "41,0")
    european = european.replace("67.9", "67,9").replace("55.2", "55,2").replace("48.7", "48,7")
    cases = {"semicolon.csv": (european, "utf-8"),
             "tab.tsv": (LAB_FILE.replace(",", "\t"), "utf-8"),
             "bom.csv": ("\ufeff" + LAB_FILE, "utf-8"),
             # Windows software: cp1252 text (the degree sign is one byte).
             "windows.csv": (_with_temperature_column(LAB_FILE, "T (°C)", 25), "cp1252")}
    for name, (text, encoding) in cases.items():
        data = Dataset.from_csv(_write(tmp_path, text, name, encoding))
        got = data.curves[0]
        np.testing.assert_allclose(got.time_h, want.time_h, err_msg=name)
        np.testing.assert_allclose(got.plqy, want.plqy, err_msg=name)
        np.testing.assert_array_equal(got.light, want.light, err_msg=name)
        if name == "windows.csv":
            np.testing.assert_allclose(got.temperature_k, 298.15)
        if name == "semicolon.csv":
            assert "read decimal commas" in data.note


def _with_temperature_column(text, header, value):
    lines = text.splitlines()
    out = [lines[0].replace(",Light", f",{header},Light")]
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        cells.insert(3, str(value) if i == 0 else "")
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def test_columns_said_in_python_and_on_the_command_line(tmp_path, capsys):
    text = "Zeit,PL (a.u.),Signal B,Lampe\n0,1.0e4,3,1\n1,2.0e4,4,1\n2,1.5e4,5,0\n"
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match="'Zeit' is time without a unit|no time column"):
        Dataset.from_csv(path)
    data = Dataset.from_csv(path, columns={"zeit": "time (min)", "Lampe": "light",
                                           "signal b": "ignore"})
    curve = data.curves[0]
    np.testing.assert_allclose(curve.time_h, [0, 1 / 60, 2 / 60])
    np.testing.assert_allclose(curve.intensity, [1e4, 2e4, 1.5e4])
    np.testing.assert_array_equal(curve.light, [1, 1, 0])
    assert np.isnan(curve.plqy).all() and "ignored" not in data.note
    with pytest.raises(DataError, match="'nope', which is no column here"):
        Dataset.from_csv(path, columns={"nope": "intensity"})
    with pytest.raises(DataError, match="column 'Zeit': 'fortnight' names no quantity"):
        Dataset.from_csv(path, columns={"Zeit": "fortnight"})
    # The command line: --column, and a one-line summary of what was read.
    dark = tmp_path / "dark.csv"
    lines = ["Zeit,QY (%),Lampe,T (°C)"] + [
        f"{t},{16 + 52 / (1 + 0.01 * 52 * t):.6f},0,25" for t in np.linspace(0, 600, 13)]
    dark.write_text("\n".join(lines) + "\n")
    out = tmp_path / "k.json"
    assert main(["kinetics", str(dark), "--out", str(out), "--column", "Zeit=time (h)",
                 "--column", "Lampe=light"]) == 0
    printed = capsys.readouterr().out
    assert f"{dark}: 1 curve(s) (298.15K), 13 rows; values: PLQY 13" in printed
    assert main(["kinetics", str(dark), "--out", str(out), "--column", "Zeit"]) == 2
    assert "HEADER=QUANTITY" in capsys.readouterr().err


def test_from_frame_reads_a_dataframe_by_the_same_rules(tmp_path):
    pd = pytest.importorskip("pandas")
    want = Dataset.from_csv(_write(tmp_path, LAB_FILE))
    frame = pd.read_csv(tmp_path / "d.csv")  # blank cells become NaN
    got = Dataset.from_frame(frame)
    assert got.note == want.note
    for a, b in zip(got.curves, want.curves, strict=True):
        np.testing.assert_array_equal(a.time_h, b.time_h)
        np.testing.assert_array_equal(a.plqy_measured, b.plqy_measured)
        np.testing.assert_allclose(a.plqy[a.plqy_measured], b.plqy[b.plqy_measured])
        np.testing.assert_array_equal(a.light, b.light)
    with pytest.raises(DataError, match="row 3, column 'PLQY \\(%\\)': 'x' is not a number"):
        Dataset.from_frame(frame.assign(**{"PLQY (%)": ["16", "x", "", "67", "55", "48"]}))
    with pytest.raises(DataError, match="takes a pandas DataFrame"):
        Dataset.from_frame([[0, 0.1]])


def test_a_curve_of_intensity_reads_without_plqy_and_a_peak_alone_is_not_fitted(tmp_path):
    import jaxnc

    text = "Time (min),PL intensity (counts),Light\n0,1.0e4,on\n60,3.0e4,on\n120,2.0e4,off\n"
    data = Dataset.from_csv(_write(tmp_path, text))
    assert data.summary().startswith("1 curve(s) (sample), 3 rows; values: PL intensity 3")
    data.to_csv(tmp_path / "again.csv")  # field names in their units; blank PLQY cells
    again = Dataset.from_csv(tmp_path / "again.csv").curves[0]
    np.testing.assert_array_equal(again.intensity, data.curves[0].intensity)
    np.testing.assert_array_equal(again.time_h, data.curves[0].time_h)
    assert np.isnan(again.plqy).all()
    peaks = Dataset.from_csv(_write(tmp_path, "t (h),peak (nm),light\n0,515,1\n1,516,1\n"))
    with pytest.raises(DataError, match="hold no value jaxnc.fit fits"):
        jaxnc.fit(peaks, jaxnc.Assembly.isolated(1), jaxnc.Parameters.hashimoto2024(),
                  ["k_desorption_per_h"], progress=False)


def test_the_docs_table_of_columns_is_the_code_s():
    # docs/data.md quotes the table between two markers; regenerate it with
    # `.venv/bin/python -c "import jaxnc.data as d; print(d.columns_markdown())"`.
    text = (ROOT / "docs" / "data.md").read_text()
    quoted = re.search(r"<!-- columns:begin -->(.*?)<!-- columns:end -->", text, re.S)
    assert quoted is not None and quoted.group(1).strip() == columns_markdown().strip()


@pytest.mark.parametrize(
    "header, key, unit",
    [("Lamp", "light", "on/off"), ("Light on/off", "light", "on/off"),
     ("Light (true/false)", "light", "on/off"), ("PL_intensity (a.u.)", "intensity", "counts"),
     ("Elapsed_time (min)", "time_h", "min"), ("PLQY_abs (%)", "plqy", "%"),
     ("Temp. (°C)", "temperature_k", "°C"), ("Counts/s", "intensity", "counts"),
     ("irradiance_w_m2", "irradiance_mw_cm2", "W/m²"), ("excitation_nm", "excitation_nm", None)],
)
def test_header_forms_labs_write(header, key, unit):
    q, u = read_header(header)
    assert q.key == key and (u.symbol if u is not None else None) == unit


@pytest.mark.parametrize("header", ["Time_stamp", "light_source", "PLQY_1", "operator"])
def test_names_that_only_start_like_a_quantity_are_ignored(header):
    assert read_header(header) is None


def test_a_quantity_s_bare_field_name_that_two_meanings_share_is_refused(tmp_path):
    # `wavelength_nm`: the light's or the PL peak's; read as either it would change the fit.
    with pytest.raises(DataError, match="'wavelength_nm' could be the light's wavelength"):
        Dataset.from_csv(_write(tmp_path, "time_h,plqy,wavelength_nm\n0,0.1,468\n"))


def test_trailing_delimiters_old_mac_line_ends_and_utf16(tmp_path):
    want = Dataset.from_csv(_write(tmp_path, LAB_FILE)).curves[0]
    trailing = "".join(line + ";\n" for line in LAB_FILE.replace(",", ";").splitlines())
    cases = {"trailing.csv": (trailing, "utf-8"),
             "mac.csv": (LAB_FILE.replace("\n", "\r"), "utf-8"),
             "utf16.csv": (LAB_FILE, "utf-16")}
    for name, (text, encoding) in cases.items():
        data = Dataset.from_csv(_write(tmp_path, text, name, encoding))
        got = data.curves[0]
        np.testing.assert_allclose(got.time_h, want.time_h, err_msg=name)
        np.testing.assert_array_equal(got.plqy_measured, want.plqy_measured, err_msg=name)
        assert "shorter than the header" not in data.note, name


def test_a_comma_in_a_number_of_a_decimal_point_file_is_refused(tmp_path):
    # `"1,234"` in a comma-delimited file: a thousands separator or a decimal comma.
    with pytest.raises(DataError, match="row 2, column 'PL \\(counts\\)': '1,234' has a comma"):
        Dataset.from_csv(_write(tmp_path, 'time (min),PL (counts)\n0,"1,234"\n10,987\n'))
    # A decimal point among decimal commas (`;` file): a thousands separator?
    with pytest.raises(DataError, match="row 2, column 'PL \\(counts\\)': '1.234' has a decimal"):
        Dataset.from_csv(_write(tmp_path, "time (min);PL (counts)\n0;1.234\n10;987,5\n", "e.csv"))


def test_a_blank_condition_does_not_carry_over_to_the_next_sample(tmp_path):
    text = "sample,time_h,T (°C),plqy\nA,0,25,0.45\nA,10,,0.40\nB,0,,0.45\n"
    with pytest.raises(DataError, match="row 4, column 'T \\(°C\\)': blank.*of sample 'B'"):
        Dataset.from_csv(_write(tmp_path, text))


def test_values_that_look_like_another_unit_get_a_note(tmp_path):
    data = Dataset.from_csv(_write(tmp_path, "time_h,PLQY (%),T (K)\n0,0.2,25\n1,0.3,25\n"))
    assert "temperatures up to 25 K; degrees Celsius?" in data.note
    assert "every PLQY is at most 1 %; fractions?" in data.note


def test_files_of_one_sample_are_joined_in_time_order(tmp_path):
    from jaxnc.data import combine_datasets

    series = _write(tmp_path, "sample,Time (min),PLQY (%),Light\nfilm1,0,16,on\nfilm1,60,41,on\n"
                    "film1,180,68,on\nfilm1,240,55,off\nfilm2,0,20,on\nfilm2,60,44,off\n",
                    "series.csv")
    spots = _write(tmp_path, "sample,time_h,lifetime_ns,light\nfilm1,0,10.5,1\nfilm1,2,18,1\n",
                   "spots.csv")
    data = combine_datasets([Dataset.from_csv(series), Dataset.from_csv(spots)])
    assert data.samples == ["film1", "film2"]
    film1 = data.curves[0]
    np.testing.assert_allclose(film1.time_h, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(film1.light, [1, 1, 1, 1, 0])
    # t = 0: the PLQY of one file and the lifetime of the other, one row.
    np.testing.assert_allclose(film1.plqy, [0.16, 0.41, np.nan, 0.68, 0.55])
    np.testing.assert_allclose(film1.lifetime_ns, [10.5, np.nan, 18, np.nan, np.nan])
    assert data.curves[1].lifetime_ns is None or np.isnan(data.curves[1].lifetime_ns).all()
    assert "joined sample(s) 'film1' from" in data.note
    # The same measurement at one time in two files, or a condition one file lacks: refused.
    twice = _write(tmp_path, "sample,time_h,plqy,light\nfilm1,1,0.4,1\n", "twice.csv")
    with pytest.raises(DataError, match="plqy at 1 h is given in .*series.csv and .*twice.csv"):
        combine_datasets([Dataset.from_csv(series), Dataset.from_csv(twice)])
    # A file without the light column: its rows take the light of the row before in time.
    no_light = _write(tmp_path, "sample,time_h,lifetime_ns\nfilm1,2,18\nfilm1,3.5,9\n",
                      "nolight.csv")
    joined = combine_datasets([Dataset.from_csv(series), Dataset.from_csv(no_light)])
    film1 = joined.curves[0]
    np.testing.assert_allclose(film1.time_h, [0, 1, 2, 3, 3.5, 4])
    np.testing.assert_array_equal(film1.light, [1, 1, 1, 1, 1, 0])
    np.testing.assert_allclose(film1.lifetime_ns, [np.nan, np.nan, 18, np.nan, 9, np.nan])
    assert "light of " in joined.note and "nolight.csv taken from the rows before" in joined.note
    early = _write(tmp_path, "sample,time_h,lifetime_ns\nfilm1,0,10\n", "early.csv")
    late = _write(tmp_path, "sample,time_h,plqy,light\nfilm1,1,0.4,1\n", "late.csv")
    with pytest.raises(DataError, match="early.csv has no light column and its first row"):
        combine_datasets([Dataset.from_csv(early), Dataset.from_csv(late)])
    # Files without a sample column are samples of their own, named after the file.
    a = _write(tmp_path, "time_h,plqy\n0,0.1\n1,0.2\n", "a.csv")
    b = _write(tmp_path, "time_h,plqy\n0,0.3\n1,0.4\n", "b.csv")
    both = combine_datasets([Dataset.from_csv(a), Dataset.from_csv(b)])
    assert both.samples == ["a", "b"] and "each file is its own sample" in both.note


def test_the_command_line_reads_several_files_one_line_each(tmp_path, capsys):
    import json

    lines = {298.15: [], 318.15: []}
    for temp, rows in lines.items():
        k = 0.0128 * np.exp(-42.1 / 8.314462618e-3 * (1 / temp - 1 / 298.15))
        for t in np.linspace(0, 600, 13):
            rows.append(f"{t},{16 + 52 / (1 + k * 0.52 * t):.8f},off,{temp - 273.15:.2f}")
    cold = _write(tmp_path, "Zeit,QY (%),Light,T (°C)\n" + "\n".join(lines[298.15]) + "\n",
                  "cold.csv")
    warm = _write(tmp_path, "time (h),QY (%),Light,T (°C)\n" + "\n".join(lines[318.15]) + "\n",
                  "warm.csv")
    out = tmp_path / "k.json"
    # --column applies to the file that has the header.
    assert main(["kinetics", str(cold), str(warm), "--out", str(out),
                 "--column", "Zeit=time (h)"]) == 0
    printed = capsys.readouterr().out
    assert f"{cold}: 1 curve(s) (298.15K), 13 rows" in printed
    assert f"{warm}: 1 curve(s) (318.15K), 13 rows" in printed
    result = json.loads(out.read_text())
    assert [e["sample"] for e in result["rate_constants"]] == ["cold", "warm"]
    assert result["settings"]["data"] == [str(cold), str(warm)]
    assert result["Ea_kj_mol"] == pytest.approx(42.1, rel=1e-3)  # noise-free PSO decays
    assert main(["kinetics", str(cold), str(warm), "--out", str(out),
                 "--column", "Nope=time (h)"]) == 2
    assert "no such column" in capsys.readouterr().err

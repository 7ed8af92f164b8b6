"""Bad input across the Python API, the command line and data files: one clear line naming what
is wrong, the right error (exit code 2 on the command line, 1 for a run that fails), no output.

Every case here is a row of docs/reliability.md (the last test keeps the two in step); the
table there shows the message each case gets, as `write_table()` below prints it.
"""

import sys

import pytest

import jaxnc
from jaxnc.cli import main

DATA = "time_h,plqy,light\n0,0.16,1\n1,0.4,1\n3,0.6,1\n100,0.5,0\n200,0.45,0\n"

# (id, what is wrong, where, input, the fragment the message must contain). Inputs: a command
# line (list; FILE is a data file, OUT the output path), CSV text for `Dataset.from_csv`, or a
# Python callable.
CASES = [
    # --- data files -----------------------------------------------------------------------
    ("csv-empty", "empty file", "data", "", "empty file"),
    ("csv-no-time", "no time column", "data", "plqy\n0.1\n", "no time column"),
    ("csv-time-unit", "a time without its unit", "data", "Time,PLQY (%)\n0,16\n",
     "'Time' is time without a unit (s, min, h, d)"),
    ("csv-ambiguous-t", "a name two quantities share, no unit to decide", "data",
     "t,plqy\n0,0.1\n", "'t' could be time_h or temperature_k"),
    ("csv-unknown-unit", "a unit not understood", "data", "time (fortnights),plqy\n0,0.1\n",
     "'time (fortnights)': unit not understood for time_h"),
    ("csv-wavelength", "'wavelength': the light's or the PL peak's", "data",
     "time_h,plqy,Wavelength (nm)\n0,0.1,468\n", "could be the light's wavelength"),
    ("csv-no-measurement", "no PLQY, intensity, lifetime or peak column", "data",
     "time_h,light\n0,1\n", "no measurement column"),
    ("csv-two-plqy", "both plqy and plqy_percent", "data", "time_h,plqy,plqy_percent\n0,0.1,10\n",
     "columns 'plqy' and 'plqy_percent' both hold plqy"),
    ("csv-no-rows", "header only", "data", "time_h,plqy\n", "no data rows"),
    ("csv-text", "text in a number column", "data", "time_h,plqy\n0,0.1\n1,abc\n",
     "row 3, column 'plqy': 'abc' is not a number"),
    ("csv-nan", "NaN in the time column (in a measurement: not measured)", "data",
     "time_h,plqy\n0,0.1\nnan,0.2\n", "row 3, column 'time_h': 'nan' is not finite"),
    ("csv-plqy-range", "PLQY above 1 (percent in the fraction column)", "data",
     "time_h,plqy\n0,0.1\n1,45\n", "name the column 'PLQY (%)'"),
    ("csv-percent-range", "plqy_percent above 100", "data", "time_h,plqy_percent\n0,10\n1,150\n",
     "150 is not a PLQY in 0-100 %"),
    ("csv-negative-time", "negative time", "data", "time_h,plqy\n-1,0.1\n1,0.2\n",
     "row 2, column 'time_h'"),
    ("csv-blank-time", "a blank time cell", "data", "time_h,plqy\n0,0.2\n,0.3\n",
     "row 3, column 'time_h': blank"),
    ("csv-blank-first-light", "a blank light cell in the first row", "data",
     "time_h,plqy,light\n0,0.1,\n", "blank; every row needs its light"),
    ("csv-time-back", "time goes back within a sample", "data",
     "time_h,plqy,sample\n0,0.1,a\n2,0.2,a\n1,0.3,a\n", "times of sample 'a' go back"),
    ("csv-repeat-time", "a repeated time with unchanged light/temperature", "data",
     "time_h,plqy,light\n0,0.1,1\n1,0.2,1\n1,0.3,1\n", "remove or average the duplicate"),
    ("csv-light", "light not on/off, yes/no, true/false, 1/0", "data",
     "time_h,plqy,light\n0,0.1,2\n", "'2' is not on/off"),
    ("csv-fields", "a row with more fields than the header", "data", "time_h,plqy\n0,0.1,7\n",
     "3 fields, the header has 2"),
    ("csv-temperature", "temperature <= 0 K", "data", "time_h,plqy,temperature_k\n0,0.1,-5\n",
     "a temperature above 0 K"),
    ("csv-lifetime", "lifetime <= 0 ns", "data", "time_h,plqy,lifetime_ns\n0,0.1,0\n",
     "a lifetime > 0"),
    ("csv-duplicate-column", "a column named twice", "data", "time_h,plqy,plqy\n0,0.1,0.1\n",
     "columns 'plqy' and 'plqy' both hold plqy"),
    # --- the command line -----------------------------------------------------------------
    ("cli-unknown-command", "unknown command", "cli", ["simulat"], "invalid choice"),
    ("cli-no-out", "missing --out", "cli", ["simulate"], "--out"),
    ("cli-assembly", "unknown assembly kind", "cli",
     ["simulate", "--assembly", "blob", "--out", "OUT"], "blob"),
    ("cli-protocol-word", "unknown protocol word", "cli",
     ["simulate", "--protocol", "light 3h; dusk 1h", "--out", "OUT"], "unknown step word 'dusk'"),
    ("cli-protocol-no-duration", "a step without duration", "cli",
     ["simulate", "--protocol", "light 468nm", "--out", "OUT"], "has no duration"),
    ("cli-gap", "negative gap", "cli", ["simulate", "--gap-nm", "-2", "--out", "OUT"],
     "gap_nm must be a positive length"),
    ("cli-negative-rate", "negative rate", "cli",
     ["simulate", "--set", "k_desorption_per_h=-1", "--out", "OUT"], "k_desorption_per_h"),
    ("cli-unknown-parameter", "unknown parameter in --set", "cli",
     ["simulate", "--set", "nonsense=1", "--out", "OUT"], "nonsense"),
    ("cli-not-integer", "a count that is not a number", "cli",
     ["simulate", "--nx", "two", "--out", "OUT"], "'two'"),
    ("cli-plot-extension", "unknown plot extension", "cli",
     ["simulate", "--out", "OUT", "--plot", "x.jpgg"], "extension"),
    ("cli-solver", "unknown solver", "cli", ["simulate", "--solver", "rk4", "--out", "OUT"],
     "rk4"),
    ("cli-fit-missing-file", "data file not found", "cli",
     ["fit", "missing.csv", "--out", "OUT"], "file not found"),
    ("cli-fit-free", "unknown free parameter", "cli",
     ["fit", "FILE", "--out", "OUT", "--free", "k_typo"], "k_typo"),
    ("cli-fit-starts", "--starts that is not a number", "cli",
     ["fit", "FILE", "--out", "OUT", "--starts", "many"], "--starts 'many'"),
    ("cli-fit-method", "unknown fit method", "cli",
     ["fit", "FILE", "--out", "OUT", "--method", "newton"], "newton"),
    ("cli-fit-assembly-of", "--assembly-of for a sample not in the file", "cli",
     ["fit", "FILE", "--out", "OUT", "--assembly-of", "zz=isolated"], "no sample 'zz'"),
    ("cli-fit-resume", "--resume without --checkpoint", "cli",
     ["fit", "FILE", "--out", "OUT", "--resume"], "--resume needs --checkpoint"),
    ("cli-fit-auto-checkpoint", "--checkpoint with the automatic free set", "cli",
     ["fit", "FILE", "--out", "OUT", "--checkpoint", "c.npz"], "name the free parameters"),
    ("cli-kinetics-law", "unknown rate law", "cli",
     ["kinetics", "FILE", "--out", "OUT", "--law", "third"], "third"),
    ("cli-kinetics-no-dark", "a sample with no dark rows", "cli",
     ["kinetics", "LIGHTFILE", "--out", "OUT"], "has no dark rows"),
    ("cli-sweep-axis", "a sweep axis that is not lo:hi:n", "cli",
     ["sweep", "--gap-nm", "1:2", "--out", "OUT"], "--gap-nm"),
    ("cli-sweep-metric", "unknown design metric", "cli",
     ["sweep", "--metrics", "brightness", "--out", "OUT"], "brightness"),
    ("cli-sweep-protocol", "a protocol without the dark step a metric needs", "cli",
     ["sweep", "--protocol", "light 3h", "--out", "OUT"], "dark step"),
    ("cli-design-constraint", "a constraint that is not METRIC>=VALUE", "cli",
     ["design", "--constraint", "plqy>0.5", "--out", "OUT"], "plqy>0.5"),
    ("cli-design-bounds", "bounds with lo > hi", "cli",
     ["design", "--bounds", "gap_nm=5:1", "--out", "OUT"], "gap_nm"),
    ("cli-reproduce-target", "reproduce into a file instead of a folder", "cli",
     ["reproduce", "hashimoto2024", "--out", "FILE", "--quiet"], "not a folder"),
    # --- the Python API -------------------------------------------------------------------
    ("api-step-kind", "a step that is neither light nor dark", "api",
     lambda: jaxnc.Step("dusk", 1.0), "step kind must be 'light' or 'dark'"),
    ("api-light-zero", "a light step at 0 mW/cm2 (darkness)", "api",
     lambda: jaxnc.Protocol.parse("light 0mW/cm2 3h"), "which is darkness"),
    ("api-protocol-type", "a protocol of the wrong type", "api",
     lambda: jaxnc.Protocol.parse(3), "takes a string"),
    ("api-parameter", "a negative rate", "api",
     lambda: jaxnc.Parameters.hashimoto2024().replace(k_adsorption_per_h=-1.0),
     "k_adsorption_per_h"),
    ("api-parameter-name", "an unknown parameter", "api",
     lambda: jaxnc.Parameters.hashimoto2024().replace(k_typo=1.0), "k_typo"),
    ("api-coverage", "a coverage outside [0, 1]", "api",
     lambda: jaxnc.Parameters.hashimoto2024().replace(coverage_initial=1.5), "coverage_initial"),
    ("api-assembly-replace", "Assembly.replace with a negative gap", "api",
     lambda: jaxnc.Assembly.supercrystal(2, 2, 1).replace(gap_nm=-1.0),
     "gap_nm must be a positive length"),
    ("api-assembly-vacancies", "vacancies without a PRNG key", "api",
     lambda: jaxnc.Assembly.supercrystal(2, 2, 2, vacancy_fraction=0.3), "key"),
    ("api-simulate-saves", "fewer than 2 saves per step", "api",
     lambda: jaxnc.simulate(jaxnc.Assembly.isolated(1), jaxnc.Parameters.hashimoto2024(),
                            "light 1h", saves_per_step=1), "saves_per_step must be >= 2"),
    ("api-simulate-model", "unknown model", "api",
     lambda: jaxnc.simulate(jaxnc.Assembly.isolated(1), jaxnc.Parameters.hashimoto2024(),
                            "light 1h", model="meanfield"), "meanfield"),
    ("api-split", "Dataset.from_csv with an unknown split", "api",
     lambda: jaxnc.Dataset.from_csv(__file__, split="sample"), "split must be"),
    ("api-fit-free", "fit(free=...) neither names nor 'auto'", "api",
     lambda: jaxnc.fit(None, None, jaxnc.Parameters.hashimoto2024(), "everything"),
     "free must be a list of names or 'auto'"),
    ("api-fit-starts", "fit(starts=...) neither a number nor 'auto'", "api",
     lambda: jaxnc.fit(None, None, jaxnc.Parameters.hashimoto2024(), ["k_desorption_per_h"],
                       starts="some"), "starts must be a number or 'auto'"),
    ("api-constraint", "a constraint on an unknown metric", "api",
     lambda: __import__("jaxnc.design", fromlist=["Constraint"]).Constraint("speed", ">=", 1.0),
     "unknown metric 'speed'"),
]

IDS = [c[0] for c in CASES]


LIGHT_ONLY = "time_h,plqy,light\n0,0.16,1\n1,0.4,1\n2,0.5,1\n3,0.6,1\n"


def run_case(case, folder):
    """`(kind, message, wrote)` of a case run in `folder` (the working directory): `kind` is
    `"exit N"` from the command line or the class of the `JaxncError` raised in Python
    (`"no error"` if none was), `wrote` whether the output file appeared."""
    import contextlib
    import io

    _, _, where, payload, _ = case
    if where == "cli":
        (folder / "d.csv").write_text(DATA)
        (folder / "light.csv").write_text(LIGHT_ONLY)
        paths = {"FILE": "d.csv", "LIGHTFILE": "light.csv", "OUT": "out.json"}
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                code = main([paths.get(a, a) for a in payload])
            except SystemExit as e:  # argparse's own exits (--help, --version)
                code = e.code
        return f"exit {code}", err.getvalue().strip(), (folder / "out.json").exists()
    call = payload
    if where == "data":
        (folder / "bad.csv").write_text(payload)
        call = lambda: jaxnc.Dataset.from_csv("bad.csv")  # noqa: E731
    try:
        call()
    except jaxnc.JaxncError as e:
        return type(e).__name__, str(e), False
    return "no error", "", False


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_input_gets_one_line_naming_it(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kind, message, wrote = run_case(case, tmp_path)
    assert not wrote  # nothing written
    if case[2] == "cli":
        assert kind == "exit 2", (kind, message)
        assert "Traceback" not in message
    else:
        assert kind != "no error", case[0]  # a JaxncError (any other exception fails here)
    assert len(message.splitlines()) == 1, message
    assert case[4] in message, message


def test_the_table_in_docs_lists_every_case():
    from pathlib import Path

    table = (Path(__file__).parent.parent / "docs" / "reliability.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    listed = {line.split("`")[1]: line for line in rows}
    assert len(CASES) >= 40 and sorted(listed) == sorted(IDS)
    for case_id, *_, fragment in CASES:
        assert fragment.replace("|", "\\|") in listed[case_id], case_id


def write_table(folder):
    """The table of docs/reliability.md, from running every case in `folder`."""
    import os

    os.chdir(folder)
    lines = ["| case | what is wrong | where | error | message |", "|---|---|---|---|---|"]
    for case in CASES:
        kind, message, _ = run_case(case, folder)
        message = message.replace(str(folder), "…").replace("|", "\\|")
        lines.append(f"| `{case[0]}` | {case[1]} | {case[2]} | {kind} | {message} |")
    return "\n".join(lines)


if __name__ == "__main__":  # print the table: python tests/test_reliability.py
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        print(write_table(Path(tmp)))
    sys.exit(0)

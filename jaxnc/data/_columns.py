"""Column headers as labs write them: a quantity's name with its unit in brackets, after a
slash or as a suffix (`Time (min)`, `t / s`, `time_h`, `PLQY (%)`, `T (°C)`), read into the
quantities jaxnc knows, each converted to one unit (`time_h`, `plqy` as a fraction, ...).

Names and units are matched case-insensitively. A header whose name is no quantity here is
ignored (the reader lists such columns in one note); a header naming a quantity with a unit
not understood, a quantity that needs a unit and has none, or a name two quantities share
(`t`: time or temperature) without a unit deciding, is refused with what was understood and
how to say it (`columns={"PL (a.u.)": "intensity"}`, `--column "PL (a.u.)=intensity"`).
"""

from __future__ import annotations

import dataclasses
import enum
import re

from ..errors import DataError

__all__ = ["Role", "Unit", "Quantity", "QUANTITIES", "ColumnError", "read_header",
           "is_wavelength_header",
           "columns_markdown"]


class Role(enum.Enum):
    """What a column holds, which says what a blank cell means."""

    MEASUREMENT = "measurement"  # a blank cell: not measured at that time
    CONDITION = "condition"  # a blank cell: unchanged since the row above
    TIME = "time"  # never blank
    LABEL = "label"  # the sample's name; a blank cell: the row above's


@dataclasses.dataclass(frozen=True)
class Unit:
    """A unit and its spellings (lower case); `value * scale + offset` is in the quantity's
    canonical unit."""

    symbol: str
    spellings: tuple[str, ...]
    scale: float = 1.0
    offset: float = 0.0

    def convert(self, value: float) -> float:
        return value * self.scale + self.offset


@dataclasses.dataclass(frozen=True)
class Quantity:
    """A quantity a data column can hold: its field name (in its canonical unit), the names a
    header may give it, its units (`default`: the unit of a header without one; None: a unit
    is required) and its role."""

    key: str
    names: tuple[str, ...]
    units: tuple[Unit, ...]
    default: Unit | None
    role: Role
    description: str

    def unit(self, text: str) -> Unit | None:
        for u in self.units:
            if text in u.spellings:
                return u
        return None


_HOUR = Unit("h", ("h", "hr", "hrs", "hour", "hours"))
_PERCENT = Unit("%", ("%", "percent", "pct"), 0.01)
_FRACTION = Unit("fraction", ("fraction", "frac"))
_COUNTS = Unit("counts", ("counts", "count", "cts", "a.u.", "au", "a.u", "arb. units",
                          "arb.units", "arb. u.", "arbitrary units", "cps", "counts/s",
                          "count/s", "cts/s", "counts per second"))
_NM = Unit("nm", ("nm",))
_KELVIN = Unit("K", ("k", "kelvin"))
_MW_CM2 = Unit("mW/cm²", ("mw/cm2", "mw cm-2", "mw_cm2", "mw/cm^2", "mwcm-2"))
_NS = Unit("ns", ("ns",))
_ON_OFF = Unit("on/off", ("on/off", "off/on", "0/1", "1/0", "yes/no", "true/false"))

QUANTITIES: tuple[Quantity, ...] = (
    Quantity("time_h", ("time", "t", "elapsed time", "elapsed"),
             (Unit("s", ("s", "sec", "secs", "second", "seconds"), 1 / 3600),
              Unit("min", ("min", "mins", "minute", "minutes"), 1 / 60), _HOUR,
              Unit("d", ("d", "day", "days"), 24.0)),
             None, Role.TIME, "time since the protocol's start"),
    Quantity("plqy", ("plqy", "qy", "quantum yield", "pl quantum yield", "plqy abs",
                      "absolute plqy"),
             (_PERCENT, _FRACTION), _FRACTION, Role.MEASUREMENT,
             "absolute PL quantum yield (integrating sphere)"),
    Quantity("intensity", ("pl intensity", "pl", "intensity", "pl counts", "counts",
                           "pl signal", "signal", "integrated pl", "counts/s", "cps",
                           "count rate"),
             (_COUNTS,), _COUNTS, Role.MEASUREMENT,
             "PL intensity under the step's light, any scale (an unknown collection factor)"),
    Quantity("peak_nm", ("peak", "pl peak", "peak wavelength", "emission peak", "peak position"),
             (_NM,), _NM, Role.MEASUREMENT, "PL peak wavelength"),
    Quantity("lifetime_ns", ("lifetime", "tau", "τ", "pl lifetime", "average lifetime"),
             (Unit("ps", ("ps",), 1e-3), _NS, Unit("µs", ("us", "µs", "μs"), 1e3)),
             None, Role.MEASUREMENT, "average PL lifetime (intensity-weighted)"),
    Quantity("light", ("light", "illumination", "lamp", "led", "light on", "light on/off"),
             (_ON_OFF,), _ON_OFF,
             Role.CONDITION, "the activating light: on/off, yes/no, true/false, 1/0, light/dark"),
    Quantity("temperature_k", ("temperature", "temp", "temp.", "t", "sample temperature"),
             (_KELVIN, Unit("°C", ("°c", "c", "degc", "deg c", "celsius", "ºc"), 1.0, 273.15)),
             None, Role.CONDITION, "sample temperature"),
    Quantity("irradiance_mw_cm2", ("irradiance", "power density", "light intensity",
                                   "excitation power density"),
             (_MW_CM2, Unit("W/m²", ("w/m2", "w m-2", "w_m2", "w/m^2", "wm-2"), 0.1)),
             None, Role.CONDITION, "irradiance of the activating light"),
    Quantity("excitation_nm", ("excitation wavelength", "excitation", "λex", "lambda ex",
                               "wavelength ex"),
             (_NM,), _NM, Role.CONDITION, "wavelength of the activating light"),
    Quantity("sample", ("sample", "sample name", "sample id", "film"), (), None, Role.LABEL,
             "the sample's name (curves of one sample belong together)"),
)
_BY_KEY = {q.key: q for q in QUANTITIES}

# Names that are no quantity alone but that a lab may mean as one: refused with the choices.
_WAVELENGTH = ("the light's wavelength ('excitation wavelength (nm)', 'excitation_nm') or the "
               "PL peak ('peak (nm)', 'peak_nm')")
_AMBIGUOUS = {name: _WAVELENGTH for name in ("wavelength_nm", "wavelength", "lambda", "λ")}


class ColumnError(DataError):
    """A header that names a quantity in a way the reader cannot take (its text says why;
    the reader adds the file, row and column)."""


def _normalise(text: str) -> str:
    text = text.strip().lower().replace("²", "2").replace("⁻", "-").replace("µ", "u")
    text = text.replace("μ", "u")
    return re.sub(r"\s+", " ", text)


def _split_header(text: str) -> tuple[str, str | None]:
    """(name, unit) of a header: `name (unit)`, `name [unit]`, `name / unit`, else no unit
    (a suffix `name_unit` is tried by `read_header`)."""
    m = re.fullmatch(r"(.+?)\s*[\(\[]\s*(.*?)\s*[\)\]]", text)
    if m:
        return m.group(1).strip(), m.group(2)
    if "/" in text:
        name, unit = text.split("/", 1)
        if name.strip():
            return name.strip(), unit.strip()
    return text, None


def _units_text(q: Quantity) -> str:
    return ", ".join(u.symbol for u in q.units) or "no unit"


def _spec_example(q: Quantity) -> str:
    """`name (unit)` in the quantity's own unit, e.g. `time (h)`."""
    own = [u for u in q.units if u.scale == 1.0 and u.offset == 0.0]
    return f"{q.names[0]} ({own[0].symbol})" if own else q.key


def _how(header: str, q: Quantity | None = None) -> str:
    spec = _spec_example(q) if q is not None else "QUANTITY (UNIT)"
    return (f"say what it holds: --column \"{header}={spec}\" (columns={{{header!r}: "
            f"{spec!r}}} in Python)")


def _candidates(name: str) -> list[Quantity]:
    spaced = name.replace("_", " ")
    return [q for q in QUANTITIES if name == q.key or name in q.names or spaced in q.names]


def _match(shown: str, header: str, name: str, unit: str | None):
    """The quantity and unit a (name, unit) pair names; None if the name is no quantity.
    `shown`: the text the message quotes; `header`: the column the advice names."""
    candidates = _candidates(name)
    if not candidates:
        return None
    if unit is None:
        if len(candidates) > 1:
            raise ColumnError(f"'{shown}' could be {' or '.join(q.key for q in candidates)}: "
                              f"add its unit (e.g. '{shown} (h)' or '{shown} (K)') or "
                              f"{_how(header)}")
        q = candidates[0]
        if name == q.key:  # a field name: its own unit
            return q, None
        if q.default is None:
            raise ColumnError(f"'{shown}' is {q.key.split('_')[0]} without a unit "
                              f"({_units_text(q)}): {_how(header, q)}")
        return q, q.default
    fitting = [(q, q.unit(unit)) for q in candidates if q.unit(unit) is not None]
    if len(fitting) == 1:
        return fitting[0]
    q = candidates[0]
    raise ColumnError(f"'{shown}': unit not understood for "
                      f"{' or '.join(c.key for c in candidates)} (units: "
                      f"{'; '.join(_units_text(c) for c in candidates)}); convert the column, "
                      f"rename it (e.g. '{_spec_example(q)}'), or leave it out: --column "
                      f"\"{header}=ignore\"")


def read_header(header: str, advice: str | None = None):
    """The quantity and unit a column header names (unit None: the values are in the field's
    own unit, e.g. the header `time_h`), or None for a name that is no quantity (an ignored
    column). `advice`: the column the refusal's advice names (default the header).

    **Raises:** `ColumnError` for a quantity with a unit not understood or missing, or a name
    two quantities share without a unit to decide.
    """
    advice = header if advice is None else advice
    text = _normalise(header)
    if not text:
        raise ColumnError("a column has no name; name it or remove it")
    if _candidates(text):  # the whole text is a name (`light on/off`, `counts/s`)
        return _match(header, advice, text, None)
    name, unit = _split_header(text)
    if name in _AMBIGUOUS:
        raise ColumnError(f"'{header}' could be {_AMBIGUOUS[name]}: {_how(advice)}")
    found = _match(header, advice, name, unit)
    if found is not None or unit is not None:
        return found
    # A suffix naming a unit of the quantity before it: `time_min`, `plqy_percent`,
    # `irradiance_w_m2`. Anything else (`time_stamp`, `light_source`) is no quantity here.
    parts = text.split("_")
    for k in range(len(parts) - 1, 0, -1):
        prefix, suffix = " ".join(parts[:k]), "_".join(parts[k:])
        for variant in (suffix, suffix.replace("_", "/")):
            if any(q.unit(variant) for q in _candidates(prefix)):
                return _match(header, advice, prefix, variant)
    return None


def is_wavelength_header(header: str) -> bool:
    """Whether a header names a wavelength without saying which (`wavelength (nm)`,
    `lambda`): in a long spectra file, the spectral axis."""
    return _split_header(_normalise(header))[0] in _AMBIGUOUS


def read_spec(header: str, spec: str) -> tuple[Quantity, Unit | None] | None:
    """What a user says a column holds (`"intensity"`, `"time (min)"`, `"time_min"`,
    `"ignore"`): the quantity and unit, or None for `"ignore"`.

    **Raises:** `ColumnError` when the spec names no quantity or no unit it needs.
    """
    text = _normalise(spec)
    if text in ("ignore", "skip", "none"):
        return None
    if text in _BY_KEY:
        return _BY_KEY[text], None  # a field name: its own unit
    try:
        found = read_header(spec, advice=header)
    except ColumnError as err:
        raise ColumnError(f"column '{header}': {err}") from None
    if found is None:
        raise ColumnError(f"column '{header}': '{spec}' names no quantity; known: "
                          f"{', '.join(q.key for q in QUANTITIES)}, or 'ignore'")
    return found


def columns_markdown() -> str:
    """The table of accepted column names and units, as Markdown (the docs quote it)."""
    lines = ["| reads into | names (any case) | units | a blank cell |",
             "|---|---|---|---|"]
    blank = {Role.MEASUREMENT: "not measured then (also NaN)",
             Role.CONDITION: "the row above's value (same sample)",
             Role.TIME: "refused", Role.LABEL: "the row above's value"}
    for q in QUANTITIES:
        units = ", ".join(f"{u.symbol} (" + ", ".join(f"`{s}`" for s in u.spellings) + ")"
                          for u in q.units) or "—"
        if q.default is not None and len(q.units) > 1:
            units += f"; none: {q.default.symbol}"
        lines.append(f"| `{q.key}`: {q.description} | "
                     + ", ".join(f"`{n}`" for n in q.names) + f" | {units} | {blank[q.role]} |")
    return "\n".join(lines) + "\n"

"""Experimental protocols: fixed-duration light and dark steps.

A protocol is a sequence of steps, each of fixed duration (never a terminating event, so that
gradients flow through the whole protocol). Written as text it reads like a lab notebook:

    light 468nm 10mW/cm2 3h; dark 600h at 318K; light 90min

and the same can be built in code with `Step.light(...)` and `Step.dark(...)`.
"""

from __future__ import annotations

import dataclasses
import re

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..errors import ProtocolError

__all__ = ["Step", "Protocol", "StepArrays", "GRAMMAR"]

DEFAULT_WAVELENGTH_NM = 468.0
DEFAULT_IRRADIANCE_MW_CM2 = 10.0
DEFAULT_TEMPERATURE_K = 298.15

GRAMMAR = (
    "protocol := step (';' step)* ; step := ('light' | 'dark') item* ; items: a duration "
    "(e.g. 3h, 90min, 30s, 2d; exactly one per step), a wavelength (468nm, light only), an "
    "irradiance (10mW/cm2 or 100W/m2, light only), a temperature (318K or 45C), and the "
    "filler words 'at', 'for'. Example: \"light 468nm 10mW/cm2 3h; dark 600h at 318K\""
)
"""The protocol text grammar `Protocol.parse` reads, as quoted in its error messages."""

_NUMBER = r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_DURATION_UNITS_H = {
    "s": 1 / 3600, "sec": 1 / 3600, "min": 1 / 60, "h": 1.0, "hr": 1.0, "hrs": 1.0,
    "hour": 1.0, "hours": 1.0, "d": 24.0, "day": 24.0, "days": 24.0,
}
_PATTERNS = {
    "duration": re.compile(_NUMBER + r"\s*(s|sec|min|h|hr|hrs|hours?|d|days?)$", re.IGNORECASE),
    "wavelength": re.compile(_NUMBER + r"\s*nm$", re.IGNORECASE),
    "irradiance": re.compile(_NUMBER + r"\s*(mw/cm\^?2|w/m\^?2)$", re.IGNORECASE),
    "temperature": re.compile(_NUMBER + r"\s*(k|c|°c)$", re.IGNORECASE),
}


@dataclasses.dataclass(frozen=True)
class Step:
    """One fixed-duration protocol step.

    **Fields:** `kind` (`"light"` or `"dark"`), `duration_h` (h), `wavelength_nm` (nm),
    `irradiance_mw_cm2` (mW/cm²; default 10 under light, 0 in the dark; a light step at 0 is
    refused), `temperature_k` (K).
    """

    kind: str
    duration_h: float
    wavelength_nm: float = DEFAULT_WAVELENGTH_NM
    irradiance_mw_cm2: float | None = None
    temperature_k: float = DEFAULT_TEMPERATURE_K

    def __post_init__(self):
        if self.kind not in ("light", "dark"):
            raise ProtocolError(f"step kind must be 'light' or 'dark', got {self.kind!r}")
        if self.irradiance_mw_cm2 is None:  # by kind: Step("light", 3) is lit, like Step.light
            default = DEFAULT_IRRADIANCE_MW_CM2 if self.kind == "light" else 0.0
            object.__setattr__(self, "irradiance_mw_cm2", default)
        if self.kind == "light" and self.irradiance_mw_cm2 == 0:
            raise ProtocolError("light step: irradiance_mw_cm2 is 0, which is darkness; give "
                                "an irradiance > 0 or use a dark step")
        checks = (
            ("duration_h", self.duration_h > 0, "> 0"),
            ("wavelength_nm", self.wavelength_nm > 0, "> 0"),
            ("irradiance_mw_cm2", self.irradiance_mw_cm2 >= 0, ">= 0"),
            ("temperature_k", self.temperature_k > 0, "> 0 K"),
        )
        for name, ok, need in checks:
            value = getattr(self, name)
            if not (np.isfinite(value) and ok):
                raise ProtocolError(f"{self.kind} step: {name} must be {need}, got {value}")
        if self.kind == "dark" and self.irradiance_mw_cm2 != 0:
            raise ProtocolError("dark step: irradiance_mw_cm2 must be 0")

    @classmethod
    def light(
        cls,
        duration_h: float,
        *,
        wavelength_nm: float = DEFAULT_WAVELENGTH_NM,
        irradiance_mw_cm2: float = DEFAULT_IRRADIANCE_MW_CM2,
        temperature_k: float = DEFAULT_TEMPERATURE_K,
    ) -> Step:
        """Illumination for `duration_h` hours (default 468 nm, 10 mW/cm², 298.15 K).

        The paper does not state its irradiance; 10 mW/cm² is an assumed default.
        """
        return cls("light", float(duration_h), float(wavelength_nm), float(irradiance_mw_cm2),
                   float(temperature_k))

    @classmethod
    def dark(cls, duration_h: float, *, temperature_k: float = DEFAULT_TEMPERATURE_K) -> Step:
        """Storage in the dark for `duration_h` hours at `temperature_k` (default 298.15 K)."""
        return cls("dark", float(duration_h), DEFAULT_WAVELENGTH_NM, 0.0, float(temperature_k))

    def __str__(self) -> str:
        dur = f"{self.duration_h:g}h"
        temp = f"at {self.temperature_k:g}K"
        if self.kind == "dark":
            return f"dark {dur} {temp}"
        return (f"light {self.wavelength_nm:g}nm {self.irradiance_mw_cm2:g}mW/cm2 {dur} {temp}")


def _parse_step(text: str, index: int) -> Step:
    # "90 min" and "318 K" read like "90min" and "318K".
    words = re.sub(r"(\d)\s+(?=[a-zA-Z°])", r"\1", text).split()
    where = f"step {index + 1} ({text.strip()!r})"
    kind = words[0].lower()
    if kind not in ("light", "dark"):
        raise ProtocolError(f"unknown step word {words[0]!r} in {where}; {GRAMMAR}")
    found: dict[str, float] = {}
    for word in words[1:]:
        low = word.lower()
        if low in ("at", "for"):
            continue
        matches = [(what, m) for what, pat in _PATTERNS.items() if (m := pat.match(low))]
        if not matches:
            raise ProtocolError(f"unknown word {word!r} in {where}; {GRAMMAR}")
        what, m = matches[0]
        if what in found:
            raise ProtocolError(f"{where} gives the {what} twice ({word!r}); {GRAMMAR}")
        number = float(m.group(1))
        unit = m.group(2).lower() if m.lastindex and m.lastindex >= 2 else ""
        if what == "duration":
            found[what] = number * _DURATION_UNITS_H[unit]
        elif what == "irradiance":
            found[what] = number if unit.startswith("mw") else number / 10.0
        elif what == "temperature":
            found[what] = number if unit == "k" else number + 273.15
        else:
            found[what] = number
    if "duration" not in found:
        raise ProtocolError(f"{where} has no duration (e.g. 3h, 90min); {GRAMMAR}")
    temperature = found.get("temperature", DEFAULT_TEMPERATURE_K)
    if kind == "dark":
        for what in ("wavelength", "irradiance"):
            if what in found:
                raise ProtocolError(f"{where}: a dark step takes no {what}; {GRAMMAR}")
        return Step.dark(found["duration"], temperature_k=temperature)
    return Step.light(
        found["duration"],
        wavelength_nm=found.get("wavelength", DEFAULT_WAVELENGTH_NM),
        irradiance_mw_cm2=found.get("irradiance", DEFAULT_IRRADIANCE_MW_CM2),
        temperature_k=temperature,
    )


def _array(values) -> Array:
    return jnp.asarray(values, dtype=float)


class StepArrays(eqx.Module):
    """A protocol's values without its step kinds: what a solve needs (`Protocol.arrays`).

    The kinds (`"light"`/`"dark"`) are static in a `Protocol` and so part of a compiled
    program's key; the physics reads only the irradiance, so a solve takes these arrays and
    two protocols of equal length share one program whatever the order of their steps.
    """

    duration_h: Float[Array, " steps"]
    wavelength_nm: Float[Array, " steps"]
    irradiance_mw_cm2: Float[Array, " steps"]
    temperature_k: Float[Array, " steps"]


class Protocol(eqx.Module):
    """A sequence of fixed-duration steps, stored as traced arrays (one entry per step).

    Changing a duration, irradiance or temperature does not recompile a simulation; changing the
    number of steps does.

    **Fields:** `duration_h`, `wavelength_nm`, `irradiance_mw_cm2`, `temperature_k` (arrays of
    length `n_steps`) and the static `kinds` (`"light"`/`"dark"` per step).
    """

    duration_h: Float[Array, " steps"]
    wavelength_nm: Float[Array, " steps"]
    irradiance_mw_cm2: Float[Array, " steps"]
    temperature_k: Float[Array, " steps"]
    kinds: tuple[str, ...] = eqx.field(static=True)

    def __init__(self, steps):
        steps = list(steps)
        if not steps:
            raise ProtocolError(f"a protocol needs at least one step; {GRAMMAR}")
        for s in steps:
            if not isinstance(s, Step):
                raise ProtocolError(f"Protocol takes Step objects, got {type(s).__name__}")
        self.duration_h = _array([s.duration_h for s in steps])
        self.wavelength_nm = _array([s.wavelength_nm for s in steps])
        self.irradiance_mw_cm2 = _array([s.irradiance_mw_cm2 for s in steps])
        self.temperature_k = _array([s.temperature_k for s in steps])
        self.kinds = tuple(s.kind for s in steps)

    @classmethod
    def parse(cls, text: str) -> Protocol:
        """Parse `"light 468nm 10mW/cm2 3h; dark 600h at 318K; light 90min"`.

        Steps are separated by `;` or new lines. Light defaults: 468 nm, 10 mW/cm²;
        temperature default 298.15 K.

        **Raises:** `ProtocolError` naming the word it does not understand, with the grammar.
        """
        if not isinstance(text, str):
            raise ProtocolError(f"Protocol.parse takes a string, got {type(text).__name__}")
        parts = [p for p in re.split(r"[;\n]", text) if p.strip()]
        if not parts:
            raise ProtocolError(f"empty protocol; {GRAMMAR}")
        return cls([_parse_step(p, i) for i, p in enumerate(parts)])

    @property
    def arrays(self) -> StepArrays:
        """The step values without the kinds (what a solve's compiled program takes)."""
        return StepArrays(self.duration_h, self.wavelength_nm, self.irradiance_mw_cm2,
                          self.temperature_k)

    @property
    def n_steps(self) -> int:
        return len(self.kinds)

    @property
    def steps(self) -> list[Step]:
        """The steps as `Step` objects (needs concrete values)."""
        return [
            Step(k, float(d), float(w), float(i), float(t))
            for k, d, w, i, t in zip(
                self.kinds,
                np.asarray(self.duration_h),
                np.asarray(self.wavelength_nm),
                np.asarray(self.irradiance_mw_cm2),
                np.asarray(self.temperature_k),
                strict=True,
            )
        ]

    @property
    def total_h(self) -> float:
        return float(np.sum(np.asarray(self.duration_h)))

    def __str__(self) -> str:
        return "; ".join(str(s) for s in self.steps)

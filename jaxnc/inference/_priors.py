"""Priors of the posterior sampler ([`sample`][]), one per parameter, derived from its source.

A prior lives in the fit's transformed space (log for rates, logit for fractions, scaled for
signed values; `Transform`), where the sampler moves: `normal` is a normal distribution there
(log-normal for a rate) around a median given in natural units; `flat` is uniform there
(improper; log-uniform for a rate). The default width says how much the parameter's source
knows, by the kind of that source (`jaxnc.parameters.HASHIMOTO2024_SOURCE_KINDS`):

| source | example | sd (transformed space) |
|---|---|---|
| a number stated in the paper (`H2024: ...`) | `gap_reference_nm` | 0.1 (~10 %) |
| a literature value or range (a citation, no estimate) | `cross_section_400nm_cm2` | 0.5 (x1.6) |
| calibrated to the paper's numbers (another sample) | `k_desorption_per_h` | 1.0 (x2.7) |
| an estimate | `k_release_per_s` | 2.3 (x10) |

The median is the parameter's value in that set. These are judgements, not measurements;
override them (`priors={name: Prior.normal(median, sd)}`, `--prior NAME=normal:MEDIAN,SD`)
where you know better.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import ParameterError
from ..fitting import Transform
from ..parameters import HASHIMOTO2024_SOURCE_KINDS, PARAMETER_INFO, Parameters, SourceKind

__all__ = ["Prior", "default_prior", "resolve_priors"]

#: Default widths (sd in the transformed space) by the kind of source.
WIDTHS = {SourceKind.PAPER: 0.1, SourceKind.LITERATURE: 0.5, SourceKind.CALIBRATED: 1.0,
          SourceKind.ESTIMATE: 2.3}


@dataclasses.dataclass(frozen=True)
class Prior:
    """One parameter's prior in its transformed space: normal around `median` (natural units)
    with standard deviation `sd` (transformed space), or flat (`median` and `sd` None).
    `source`: where it came from (a kind of source, or `"given"`). Build one with
    [`Prior.normal`][jaxnc.inference.Prior.normal], [`Prior.flat`][jaxnc.inference.Prior.flat]
    or [`Prior.parse`][jaxnc.inference.Prior.parse]."""

    median: float | None = None
    sd: float | None = None
    source: str = "given"

    @classmethod
    def normal(cls, median: float, sd: float, source: str = "given") -> Prior:
        """Normal in the transformed space around `median` (natural units), standard
        deviation `sd` (transformed space, > 0)."""
        if not (np.isfinite(median) and np.isfinite(sd) and sd > 0):
            raise ParameterError(f"a normal prior needs a finite median and sd > 0, got "
                                 f"median {median}, sd {sd}")
        return cls(float(median), float(sd), source)

    @classmethod
    def flat(cls) -> Prior:
        """Uniform in the transformed space (improper; log-uniform for a rate)."""
        return cls()

    @property
    def kind(self) -> str:
        """`"normal"` or `"flat"` (for output)."""
        return "flat" if self.sd is None else "normal"

    @classmethod
    def parse(cls, text: str, where: str = "prior") -> Prior:
        """`normal:MEDIAN,SD` or `flat`."""
        kind, _, rest = text.strip().partition(":")
        if kind == "flat" and not rest:
            return cls.flat()
        if kind == "normal":
            parts = rest.split(",")
            try:
                median, sd = (float(p) for p in parts)
            except ValueError:
                pass
            else:
                if np.isfinite(median) and np.isfinite(sd) and sd > 0:
                    return cls.normal(median, sd)
        raise ParameterError(f"{where} {text!r}: expected normal:MEDIAN,SD (median in the "
                             f"parameter's units, SD > 0 in its transformed space) or flat")

    def gaussian(self, transform: Transform) -> tuple[float, float]:
        """`(mean, precision)` of the prior in the transformed space; `(0, 0)` when flat."""
        if self.sd is None:
            return 0.0, 0.0
        return float(transform.forward(self.median)), self.sd ** -2

    def log_density(self, z, transform: Transform):
        """Log prior density at `z` (transformed space), up to a constant."""
        mean, precision = self.gaussian(transform)
        return -0.5 * precision * (z - mean) ** 2

    def to_json(self) -> dict:
        return dict(kind=self.kind, median=self.median, sd=self.sd, source=self.source)


def default_prior(name: str, value: float | None = None) -> Prior:
    """The prior of `name` from its source (module docstring), centred on `value` (default:
    its value in the Hashimoto 2024 set)."""
    if name not in HASHIMOTO2024_SOURCE_KINDS:
        raise ParameterError(f"no source, hence no default prior, for {name!r}; give one")
    kind = HASHIMOTO2024_SOURCE_KINDS[name]
    default = getattr(Parameters.hashimoto2024(), name)
    median = float(default if value is None else value)
    if not np.isfinite(float(Transform.for_parameter(name, median).forward(median))):
        raise ParameterError(f"{name}: its default {median:g} is on the edge of its range "
                             f"({PARAMETER_INFO[name][0]}), where no prior can be centred; "
                             f"give one (--prior {name}=normal:MEDIAN,SD or flat)")
    return Prior(median, WIDTHS[kind], kind.value)


def resolve_priors(names: list[str], given: dict | None) -> dict[str, Prior]:
    """Every name's prior: the given one (a `Prior` or its text) or its default."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ParameterError(f"priors given for {unknown}, which are not sampled; sampled: "
                             f"{', '.join(names)}")
    out = {}
    for n in names:
        p = given.get(n)
        out[n] = (default_prior(n) if p is None
                  else Prior.parse(p, f"prior of {n}") if isinstance(p, str) else p)
    return out

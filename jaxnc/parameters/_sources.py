"""Kinds of source a parameter value can have: what the value rests on, which sets how much a
fit may move it (the default prior widths of `jaxnc.inference`) and what the reproduction
counts as evidence."""

from __future__ import annotations

import enum

__all__ = ["SourceKind"]


class SourceKind(enum.Enum):
    """Where a parameter's value comes from.

    - `PAPER`: a number stated in the seed paper (Hashimoto et al. 2024, "H2024").
    - `LITERATURE`: a cited measurement or range.
    - `CALIBRATED`: fitted so that the model reproduces stated paper numbers (so those
      numbers are targets, not evidence for the model).
    - `ESTIMATE`: a judgement, said to be one.
    """

    PAPER = "paper"
    LITERATURE = "literature"
    CALIBRATED = "calibrated"
    ESTIMATE = "estimate"

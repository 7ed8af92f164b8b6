"""Geometry layer: the nanocube lattice and its faces."""

from ._assembly import Assembly

__all__ = ["Assembly"]

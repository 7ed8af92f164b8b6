"""Data layer: what labs measure, read and validated before anything is fitted. PLQY curves
(`Dataset`, `Curve`, from CSV files), the protocol a curve implies and where each data row
falls among a solver's save times, and synthetic data from known parameters."""

from ._dataset import Curve, Dataset
from ._protocols import curve_save_grid, protocol_from_curve
from ._synthetic import synthetic_dataset

__all__ = ["Curve", "Dataset", "protocol_from_curve", "curve_save_grid", "synthetic_dataset"]

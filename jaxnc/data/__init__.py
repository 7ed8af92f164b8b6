"""Data layer: what labs measure, read and validated before anything is fitted. Time courses
(`Dataset`, `Curve`, from CSV files or DataFrames, headers with units read as labs write them:
`QUANTITIES`, `columns_markdown`), the protocol a curve implies and where each data row
falls among a solver's save times, and synthetic data from known parameters."""

from ._columns import QUANTITIES, Quantity, Role, Unit, columns_markdown, read_header
from ._dataset import Curve, Dataset
from ._protocols import curve_save_grid, protocol_from_curve
from ._synthetic import synthetic_dataset

__all__ = ["Curve", "Dataset", "protocol_from_curve", "curve_save_grid", "synthetic_dataset",
           "QUANTITIES", "Quantity", "Unit", "Role", "columns_markdown", "read_header"]

"""Data layer: what labs measure, read and validated before anything is fitted. Time courses
(`Dataset`, `Curve`, from CSV files or DataFrames, headers with units read as labs write them:
`QUANTITIES`, `columns_markdown`; several files joined by sample: `combine_datasets`), the
protocol a curve implies and where each data row
falls among a solver's save times, and synthetic data from known parameters."""

from ._columns import QUANTITIES, Quantity, Role, Unit, columns_markdown, read_header
from ._combine import combine_datasets
from ._dataset import Curve, Dataset
from ._protocols import curve_save_grid, protocol_from_curve
from ._synthetic import synthetic_dataset
from ._table import file_headers

__all__ = ["Curve", "Dataset", "combine_datasets", "protocol_from_curve", "curve_save_grid",
           "synthetic_dataset", "QUANTITIES", "Quantity", "Unit", "Role", "columns_markdown",
           "read_header", "file_headers"]

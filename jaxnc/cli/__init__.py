"""Command-line layer: the `jaxnc` entry point (`_main`), one module per command and the
option groups they share (`_options`)."""

from ._main import build_parser, entry_point, main
from ._simulate import summary_table

__all__ = ["main", "entry_point", "build_parser", "summary_table"]

"""Command-line layer: the `jaxnc` entry point."""

from ._main import build_parser, main, summary_table

__all__ = ["main", "build_parser", "summary_table"]

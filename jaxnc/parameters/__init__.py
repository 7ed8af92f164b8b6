"""Parameters layer: the parameter container, named sets with sources, validation."""

from ._parameters import PARAMETER_INFO, Parameters
from ._sets import HASHIMOTO2024

HASHIMOTO2024_SOURCES = {name: source for name, (_value, source) in HASHIMOTO2024.items()}
"""Parameter name -> where its value in `Parameters.hashimoto2024()` comes from (the paper, a
cited measurement, a calibration to a paper number, or an estimate said to be one)."""

__all__ = ["Parameters", "PARAMETER_INFO", "HASHIMOTO2024_SOURCES"]

"""Parameters layer: the parameter container, named sets with sources, validation."""

from ._parameters import PARAMETER_INFO, Parameters
from ._sets import HASHIMOTO2024
from ._sources import SourceKind

HASHIMOTO2024_SOURCES = {name: text for name, (_value, _kind, text) in HASHIMOTO2024.items()}
"""Parameter name -> where its value in `Parameters.hashimoto2024()` comes from (the paper, a
cited measurement, a calibration to a paper number, or an estimate said to be one)."""
HASHIMOTO2024_SOURCE_KINDS = {name: kind for name, (_value, kind, _text) in HASHIMOTO2024.items()}
"""Parameter name -> the [`SourceKind`][jaxnc.parameters.SourceKind] of its value in
`Parameters.hashimoto2024()`."""

__all__ = ["Parameters", "PARAMETER_INFO", "HASHIMOTO2024_SOURCES", "HASHIMOTO2024_SOURCE_KINDS",
           "SourceKind"]

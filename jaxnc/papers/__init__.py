"""Papers layer: one folder per paper, holding the numbers it states, the experiments that
reproduce them with the model, the comparison table and its figures.

- [`jaxnc.papers.hashimoto2024`][]: Hashimoto et al., Nanoscale Adv. 2024, 6, 5563, the
  paper jaxnc models (`jaxnc reproduce hashimoto2024`).
"""

from . import hashimoto2024

PAPERS = {"hashimoto2024": hashimoto2024}
"""Paper name -> its module (each with `reproduce`, `reference` and `plot_reproduction`): the
names `jaxnc reproduce` accepts."""

__all__ = ["hashimoto2024", "PAPERS"]

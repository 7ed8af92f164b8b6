"""A multi-start fit (`_Run`) in the checkpoint format of `jaxnc.runtime.Checkpoint`."""

from __future__ import annotations

from ..runtime import Checkpoint
from ._multistart import _Run


class _FitCheckpoint:
    """The optimiser state's leaves as arrays; the finished starts and the loss history as
    the checkpoint's info; `settings`, what makes a fit's path, as its fingerprint.

    `load` puts the leaves back into the structure of a template state, each as the type the
    template has there, so that a resumed fit continues along the same path as an
    uninterrupted one.
    """

    def __init__(self, path, settings: dict):
        self.file = Checkpoint(path, "fit", settings)

    def save(self, run: _Run) -> None:
        self.file.save_tree(run.state, finished=run.finished, history=run.history)

    def load(self, template) -> _Run | None:
        """The saved run, its state shaped like `template`; None without a file."""
        loaded = self.file.load_tree(template)
        if loaded is None:
            return None
        state, info = loaded
        return _Run(state, tuple((loss, z) for loss, z in info["finished"]),
                    tuple(info["history"]))

"""The host loop of a fit: an optimiser run from each start in turn, with progress bar,
checkpoints, Ctrl-C and callback.

The optimiser is any object with the interface of `LevenbergMarquardt` and `AdamLBFGS`:
`init(fn, z) -> state`, `step(fn, state) -> state`, `terminate(state)`, `best(state) ->
(loss, z)`, `max_iterations`, and a `state.loss` per iteration.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class _Run:
    """Where a multi-start fit stands; replaced whole, never changed, so that an interrupt
    always leaves a consistent one to checkpoint.

    - `state`: the optimiser's state of start number `len(finished)` (once every start has
      finished: the last one's final state).
    - `finished`: `(loss, z)` of every finished start (loss in fraction², `z` a list in the
      transformed space).
    - `history`: the loss of every iteration, all starts.
    """

    state: Any
    finished: tuple = ()
    history: tuple = ()


def _run_starts(solver, fn, initial: list, run: _Run, *, checkpoint=None,
                checkpoint_every: int = 10, progress: bool = True, callback=None) -> _Run:
    """Continue `run` until every start in `initial` has finished; return the finished run.

    After every iteration: the progress bar, a checkpoint every `checkpoint_every` iterations,
    then `callback(iteration, loss)`. On Ctrl-C the checkpoint is written and
    `KeyboardInterrupt` re-raised; at the end it is written once more.
    """
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=solver.max_iterations * len(initial), desc="fit", unit="it", disable=None,
                   initial=len(run.history))
    try:
        while len(run.finished) < len(initial):
            if solver.terminate(run.state):
                run = _next_start(solver, fn, initial, run)
                continue
            state = solver.step(fn, run.state)
            value = state.loss
            run = _Run(state, run.finished, run.history + (value,))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{value:.3e}", start=len(run.finished))
            if checkpoint is not None and len(run.history) % checkpoint_every == 0:
                checkpoint.save(run)
            if callback is not None:
                callback(len(run.history), value)
    except KeyboardInterrupt:
        if checkpoint is not None:
            checkpoint.save(run)
        raise
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None:
        checkpoint.save(run)
    return run


def _next_start(solver, fn, initial: list, run: _Run) -> _Run:
    """Record the finished start and begin the next one, if any."""
    loss, z = solver.best(run.state)
    finished = run.finished + ((float(loss), np.asarray(z).tolist()),)
    later = len(finished) < len(initial)
    return _Run(solver.init(fn, initial[len(finished)]) if later else run.state, finished,
                run.history)

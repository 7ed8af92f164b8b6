"""The No-U-Turn sampler's chains: blackjax's NUTS transition, a Stan-style warm-up (step size
by dual averaging, a dense or diagonal mass matrix from doubling windows), several chains
`vmap`ped,
advanced in chunks from the host (progress bar, checkpoints, Ctrl-C).

The warm-up is written here rather than taken from blackjax: its state is then a plain pytree
that a checkpoint saves between chunks, the same for every chain count, and the schedule is
Stan's (Carpenter et al., J. Stat. Softw. 76 (2017); Hoffman and Gelman, JMLR 15 (2014)).
The random key of step `s` is `fold_in(PRNGKey(seed), s)`, split over the chains, so a run
continued from a checkpoint takes the same path as one that was not interrupted.
"""

from __future__ import annotations

import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import SolverError
from ..runtime import Checkpoint

__all__ = ["schedule", "run_chains"]

# Dual averaging (Hoffman and Gelman 2014, Stan's defaults).
_GAMMA, _T0, _KAPPA = 0.05, 10.0, 0.75
_RECORD = ("position", "logdensity", "divergent", "acceptance", "steps", "step_size")


def schedule(warmup: int, total: int) -> np.ndarray:
    """Per step `(slow, window_end, adapt, last_warmup)` flags, `(total, 4)` bool.

    Stan's windows: a first fast buffer (step size only), slow windows that double in
    length (step size and the variance of the positions, which becomes the inverse mass
    matrix at each window's end), a last fast buffer; 75 / 25 / 50 steps, or 15 % / 75 % /
    10 % of a warm-up shorter than 150.
    """
    flags = np.zeros((total, 4), bool)
    flags[:warmup, 2] = True
    if warmup >= 1:
        flags[warmup - 1, 3] = True
    if warmup < 20:  # too short for a mass matrix: step size only
        return flags
    first, last, window = 75, 50, 25
    if first + last + window > warmup:
        first, last = int(0.15 * warmup), int(0.1 * warmup)
        window = warmup - first - last
    start, end = first, warmup - last
    while start < end:
        stop = start + window
        if stop + 2 * window > end:  # the next window would not fit: this one takes the rest
            stop = end
        flags[start:stop, 0] = True
        flags[stop - 1, 1] = True
        start, window = stop, 2 * window
    return flags


def _initial_chain(position, logdensity_fn, inverse_mass, step_size: float) -> dict:
    """One chain's state: NUTS state, dual averaging, Welford sums, step size and inverse
    mass matrix (diagonal `(d,)` or dense `(d, d)`, as given)."""
    import blackjax

    state = blackjax.mcmc.hmc.init(position, logdensity_fn)
    zero, d = jnp.zeros(()), position.shape[0]
    inverse_mass = jnp.asarray(inverse_mass, float)  # (d,): diagonal; (d, d): dense
    return dict(position=state.position, logdensity=state.logdensity,
                grad=state.logdensity_grad, mu=jnp.log(10.0 * step_size) + zero, t=zero,
                h_bar=zero, log_eps=jnp.log(step_size) + zero, log_eps_bar=zero,
                w_n=zero, w_mean=jnp.zeros(d), w_m2=jnp.zeros_like(inverse_mass),
                step_size=step_size + zero, inverse_mass=inverse_mass)


def _transition(chain: dict, key, flags, logdensity_fn, target: float, max_doublings: int):
    """One NUTS step of one chain and the warm-up's update after it."""
    import blackjax

    slow, window_end, adapt, last = flags
    kernel = blackjax.mcmc.nuts.build_kernel()
    state = blackjax.mcmc.hmc.HMCState(chain["position"], chain["logdensity"], chain["grad"])
    new, info = kernel(key, state, logdensity_fn, chain["step_size"], chain["inverse_mass"],
                       max_num_doublings=max_doublings)
    acc = jnp.where(jnp.isfinite(info.acceptance_rate), info.acceptance_rate, 0.0)
    c = dict(chain, position=new.position, logdensity=new.logdensity, grad=new.logdensity_grad)
    # Dual averaging of log(step size) towards the target acceptance.
    t = c["t"] + 1.0
    h_bar = (1 - 1 / (t + _T0)) * c["h_bar"] + (target - acc) / (t + _T0)
    log_eps = c["mu"] - jnp.sqrt(t) / _GAMMA * h_bar
    eta = t ** -_KAPPA
    log_eps_bar = eta * log_eps + (1 - eta) * c["log_eps_bar"]
    for k, v in dict(t=t, h_bar=h_bar, log_eps=log_eps, log_eps_bar=log_eps_bar,
                     step_size=jnp.exp(log_eps)).items():
        c[k] = jnp.where(adapt, v, c[k])
    # Welford's running (co)variance of the positions in a slow window.
    n = c["w_n"] + 1.0
    delta = c["position"] - c["w_mean"]
    mean = c["w_mean"] + delta / n
    dense = c["w_m2"].ndim == 2
    m2 = c["w_m2"] + (jnp.outer(delta, c["position"] - mean) if dense
                      else delta * (c["position"] - mean))
    c["w_n"], c["w_mean"], c["w_m2"] = (jnp.where(slow, a, b) for a, b in
                                        ((n, c["w_n"]), (mean, c["w_mean"]), (m2, c["w_m2"])))
    # A window's end: its regularised variance becomes the inverse mass matrix (Stan's
    # shrinkage towards 1e-3 with weight 5 / (n + 5)); the step size adaptation restarts.
    var = c["w_m2"] / jnp.maximum(c["w_n"] - 1.0, 1.0)
    floor = 1e-3 * (5.0 / (c["w_n"] + 5.0))
    shrunk = (c["w_n"] / (c["w_n"] + 5.0)) * var + (floor * jnp.eye(var.shape[0]) if dense
                                                     else floor)
    zero = jnp.zeros(())
    reset = dict(inverse_mass=shrunk, w_n=zero, w_mean=jnp.zeros_like(mean),
                 w_m2=jnp.zeros_like(m2), mu=jnp.log(10.0 * c["step_size"]), t=zero,
                 h_bar=zero, log_eps_bar=zero)
    for k, v in reset.items():
        c[k] = jnp.where(window_end, v, c[k])
    c["step_size"] = jnp.where(last, jnp.exp(c["log_eps_bar"]), c["step_size"])
    record = dict(position=c["position"], logdensity=c["logdensity"],
                  divergent=info.is_divergent, acceptance=acc,
                  steps=info.num_integration_steps, step_size=c["step_size"])
    return c, record


def _safe(make_logdensity, operands):
    """The log density with NaN (a failed evaluation) read as -inf: a rejected proposal."""
    fn = make_logdensity(operands)

    def logdensity(x):
        value = fn(x)
        return jnp.where(jnp.isnan(value), -jnp.inf, value)

    return logdensity


@eqx.filter_jit
def _advance(make_logdensity, operands, chains: dict, first, count, flags, seed,
             target: float, max_doublings: int):
    """`count` (<= len(flags)) steps of every chain from global step `first`; the records
    of each step in buffers of `len(flags)` rows."""
    logdensity_fn = _safe(make_logdensity, operands)
    n_chains = chains["position"].shape[0]
    base = jax.random.PRNGKey(seed)  # seed: an array, so every seed shares the program
    one = jax.vmap(lambda c, k, f: _transition(c, k, f, logdensity_fn, target, max_doublings),
                   in_axes=(0, 0, None))
    _, probe = jax.eval_shape(one, chains, jax.random.split(base, n_chains), flags[0])
    buffers = jax.tree.map(lambda s: jnp.zeros((flags.shape[0], *s.shape), s.dtype), probe)

    def body(i, carry):
        c, buf = carry
        keys = jax.random.split(jax.random.fold_in(base, first + i), n_chains)
        c, rec = one(c, keys, flags[i])
        buf = jax.tree.map(lambda b, r: b.at[i].set(r), buf, rec)
        return c, buf

    return jax.lax.fori_loop(0, count, body, (chains, buffers))


@eqx.filter_jit
def _start(make_logdensity, operands, positions, inverse_mass, step_size):
    logdensity_fn = _safe(make_logdensity, operands)
    return jax.vmap(lambda p, m: _initial_chain(p, logdensity_fn, m, step_size))(
        positions, inverse_mass)


def run_chains(make_logdensity, operands, positions, inverse_mass, *, warmup: int, draws: int,
               seed: int, target: float = 0.8, max_doublings: int = 10, step_size: float = 0.5,
               chunk: int = 25, progress=None, checkpoint=None, tag: dict | None = None,
               resume: bool = False, fallback=None) -> dict:
    """Run `positions.shape[0]` chains for `warmup + draws` steps; the records of the draws
    (after the warm-up) as NumPy arrays with leading axes `(chains, draws)`, and the final
    step sizes and inverse mass matrices, and `timing` (seconds: `start_s` and
    `first_chunk_s` hold the compilation; `warmup_s`, `sampling_s` the later chunks).

    `make_logdensity(operands)` returns the log density of a position (traceable);
    `operands` is a pytree of arrays (its structure fixes the compiled program).
    `progress`: a tqdm-like bar (`update(n)`, `set_postfix_str`) or None. `checkpoint`: a
    `.npz` path written whole after every chunk and on Ctrl-C (then re-raised), carrying
    `tag` (what makes the run); `resume` continues from it. A chain whose start has no
    finite density starts at `fallback` instead (`SolverError` if that fails too).
    """
    total = warmup + draws
    flags = schedule(warmup, total)
    ckpt = _ChainCheckpoint(checkpoint, dict(tag or {}, warmup=warmup, draws=draws, seed=seed,
                                             chains=int(positions.shape[0]))) \
        if checkpoint is not None else None
    saved = ckpt.load() if (ckpt is not None and resume) else None
    timing = dict(start_s=0.0, first_chunk_s=0.0, warmup_s=0.0, sampling_s=0.0)
    clock = time.perf_counter()
    if saved is None:
        chains = _started_chains(make_logdensity, operands, positions, inverse_mass,
                                 step_size, fallback)
        done, records = 0, []
        timing["start_s"] = time.perf_counter() - clock
    else:
        chains, done, records = saved
    if progress is not None:
        progress.update(done)
    advance = dict(target=target, max_doublings=max_doublings, seed=seed, chunk=chunk)
    chains = _advance_chunks(make_logdensity, operands, chains, done, records, flags, warmup,
                             advance, timing, progress, ckpt)
    stacked = {k: np.concatenate([r[k] for r in records])[warmup:] for k in _RECORD}
    out = {k: np.swapaxes(v, 0, 1) for k, v in stacked.items()}  # (chains, draws, ...)
    out["warmup_divergent"] = np.concatenate([r["divergent"] for r in records])[:warmup].T
    out["final_step_size"] = np.asarray(chains["step_size"])
    out["inverse_mass"] = np.asarray(chains["inverse_mass"])
    out["timing"] = timing
    return out


def _started_chains(make_logdensity, operands, positions, inverse_mass, step_size, fallback):
    """The chains' first states; a chain whose start has no finite density starts at
    `fallback` instead. **Raises:** `SolverError` if a start still has none."""
    chains = _start(make_logdensity, operands, jnp.asarray(positions),
                    jnp.asarray(inverse_mass), step_size)
    bad = ~np.isfinite(np.asarray(chains["logdensity"]))
    if bad.any() and fallback is not None:  # those chains start at `fallback`
        positions = np.where(bad[:, None], np.asarray(fallback)[None], positions)
        chains = _start(make_logdensity, operands, jnp.asarray(positions),
                        jnp.asarray(inverse_mass), step_size)
        bad = ~np.isfinite(np.asarray(chains["logdensity"]))
    if bad.any():
        raise SolverError(f"the log density is not finite at the start of chain(s) "
                          f"{np.flatnonzero(bad).tolist()}")
    return chains


def _advance_chunks(make_logdensity, operands, chains, done, records, flags, warmup, advance,
                    timing, progress, ckpt):
    """Advance every chain chunk by chunk from step `done` to the schedule's end, appending
    each chunk's records to `records`; timing, progress and a checkpoint after each chunk,
    and on Ctrl-C (then re-raised). Returns the final chains."""
    total, chunk = flags.shape[0], advance["chunk"]
    clock, first_chunk = time.perf_counter(), True
    try:
        while done < total:
            count = min(chunk, total - done)
            window = np.zeros((chunk, 4), bool)
            window[:count] = flags[done:done + count]
            # Step counts as arrays: one compiled program for every chunk.
            new, buf = _advance(make_logdensity, operands, chains, jnp.asarray(done),
                                jnp.asarray(count), jnp.asarray(window),
                                jnp.asarray(advance["seed"], dtype=jnp.uint32),
                                advance["target"], advance["max_doublings"])
            records.append({k: np.asarray(v)[:count] for k, v in buf.items()})
            chains, first_step, done = new, done, done + count
            now = time.perf_counter()
            if first_chunk:  # the first chunk of this process holds the compilation
                timing["first_chunk_s"], first_chunk = now - clock, False
            else:  # split between warm-up and draws by steps
                in_warmup = max(0, min(done, warmup) - first_step) / count
                timing["warmup_s"] += in_warmup * (now - clock)
                timing["sampling_s"] += (1 - in_warmup) * (now - clock)
            clock = now
            if progress is not None:
                progress.update(count)
                div = sum(int(r["divergent"].sum()) for r in records)
                progress.set_postfix_str(
                    f"{'warm-up' if done <= warmup else 'sampling'}, step size "
                    f"{float(np.median(np.asarray(chains['step_size']))):.2g}, "
                    f"divergences {div}")
            if ckpt is not None:
                ckpt.save(chains, done, records)
    except KeyboardInterrupt:
        if ckpt is not None:
            ckpt.save(chains, done, records)
        raise
    return chains


class _ChainCheckpoint:
    """The chains' state and the records so far, in the checkpoint format of
    `jaxnc.runtime.Checkpoint` (settings: what makes the run)."""

    def __init__(self, path, tag: dict):
        self.file = Checkpoint(path, "sampling run", tag)

    def save(self, chains: dict, done: int, records: list) -> None:
        stacked = {f"record_{k}": np.concatenate([r[k] for r in records]) for k in _RECORD} \
            if records else {}
        self.file.save({**{f"chain_{k}": v for k, v in chains.items()}, **stacked}, done=done)

    def load(self):
        loaded = self.file.load()
        if loaded is None:
            return None
        arrays, info = loaded
        chains = {k[6:]: jnp.asarray(v) for k, v in arrays.items() if k.startswith("chain_")}
        rec = {k[7:]: v for k, v in arrays.items() if k.startswith("record_")}
        return chains, int(info["done"]), [rec] if rec else []

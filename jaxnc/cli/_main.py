"""The `jaxnc` command line: the parser and the dispatch to one module per command. Bad
input: one line on stderr naming what is wrong, exit code 2; a solver that fails: one line,
exit code 1; success: 0."""

from __future__ import annotations

import argparse
import os
import sys

# Each command module imports only argparse-level code at import time (the model, jax and
# matplotlib load inside its `run`), so building the parser stays fast.
from . import _design, _fit, _kinetics, _profile, _reproduce, _simulate, _sweep

__all__ = ["main", "build_parser", "entry_point"]

EXIT_BAD_INPUT = 2
EXIT_RUNTIME_FAILURE = 1
#: In the order `jaxnc --help` lists them.
COMMANDS = (_simulate, _fit, _profile, _kinetics, _sweep, _design, _reproduce)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exits 2."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The `jaxnc` argument parser: one subcommand per module of `COMMANDS`, each with the
    `run` function that carries it out (the site's command-line reference is its help)."""
    parser = _Parser(
        prog="jaxnc",
        description=(
            "Differentiable model of light-driven, reversible PL enhancement in CsPbBr3 "
            "nanocube assemblies (Hashimoto et al., Nanoscale Adv. 2024)."
        ),
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"jaxnc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.add_parser(sub)  # each sets `run`, the function that carries the command out
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `jaxnc ARGV...` in this process and return its exit code: 0 on success, 2 for bad
    input (one line on stderr naming what is wrong), 1 when the run itself failed (a solver,
    a lost process), 130 on Ctrl-C. `argv` defaults to `sys.argv[1:]`."""
    from ..errors import JaxncError, ResourceError, SolverError
    from ..runtime.distributed import DistributedError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        return args.run(args)
    except _UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (SolverError, ResourceError, DistributedError) as e:  # the run itself failed
        print(f"jaxnc: error: {e}", file=sys.stderr)
        return EXIT_RUNTIME_FAILURE
    except JaxncError as e:
        print(f"jaxnc: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"jaxnc: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        ckpt = getattr(locals().get("args"), "checkpoint", None)
        where = f"; state saved in {ckpt}, continue with --resume" if ckpt else ""
        print(f"jaxnc: interrupted; no output written{where}", file=sys.stderr)
        return 130


def entry_point() -> None:
    """The `jaxnc` console script and `python -m jaxnc`: set up the process, then [`main`][].

    A command-line process is short and often repeated, so it keeps what it traced and
    compiled (`jaxnc.runtime`'s caches, under `$JAXNC_CACHE_DIR`, `off` to disable) and runs
    equinox's runtime checks in `nan` mode (`EQX_ON_ERROR`, unless set already), the mode in which
    programs can be cached; solver failures are then reported from the solvers' result
    codes. Both must happen before equinox is imported, which is why `main` does not do it:
    called from Python, `main` leaves the process's settings alone.
    """
    os.environ.setdefault("EQX_ON_ERROR", "nan")
    from ..runtime import enable_cache

    try:
        enable_cache()
    except OSError as e:  # an unwritable cache folder costs speed, not the run
        print(f"jaxnc: warning: running without the cache ({e.strerror or e}: "
              f"{e.filename or ''})", file=sys.stderr)
    code = main()
    from ..runtime import distributed

    if code and distributed.started():
        distributed.exit_after_failure(code)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()

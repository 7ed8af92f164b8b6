"""What every script of the gallery (docs/gallery.md) shares: its command line and where its
figure goes.

    python experiments/NAME.py [--quick] [--figure PATH] [--out DIR]

`--quick` is a smaller run of the same code (under 1 minute on 2 cores), which the test suite
runs for every script (tests/test_gallery.py); `--figure` defaults to docs/gallery/NAME.png,
the figure the gallery page shows; other outputs (CSV, JSON) go to `--out`, default out/NAME.
Scripts run from a clone without installing jaxnc.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
GALLERY = ROOT / "docs" / "gallery"


def parser(doc: str, name: str) -> argparse.ArgumentParser:
    """The gallery's shared options, with the script's docstring as its description."""
    ap = argparse.ArgumentParser(description=doc, prog=f"experiments/{name}.py",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="a smaller run (under 1 minute on 2 cores), as the tests run it")
    ap.add_argument("--figure", default=str(GALLERY / f"{name}.png"),
                    help=f"where the figure goes (default docs/gallery/{name}.png)")
    ap.add_argument("--out", default=f"out/{name}", help="folder for the other outputs")
    return ap


def outputs(args) -> Path:
    """The `--out` folder, created."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out

"""What every script of the gallery (docs/gallery.md) shares: its command line and where its
figure goes.

    python experiments/NAME.py [--quick] [--figure PATH | --docs] [--out DIR]

`--quick` is a smaller run of the same code (under 1 minute on 2 cores), which the test suite
runs for every script (tests/test_gallery.py). Everything a script writes goes to `--out`
(default out/NAME, ignored by git), its figure too (NAME.png there) unless `--figure` names
another path; `--docs` writes the figure to docs/gallery/NAME.png, the one the gallery page
shows (what regenerating the docs' figures uses; a run without it leaves the repository
untouched). Scripts run from a clone without installing jaxnc.
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
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--figure", help=f"where the figure goes (default out/{name}/{name}.png)")
    where.add_argument("--docs", action="store_true",
                       help=f"write the figure to docs/gallery/{name}.png, the gallery page's "
                       f"(regenerating the docs' figures)")
    ap.add_argument("--out", default=f"out/{name}", help="folder for the other outputs")
    ap.set_defaults(gallery_name=name)
    return ap


def outputs(args) -> Path:
    """The `--out` folder, created; sets `args.figure` where no path was given (the `--out`
    folder, or docs/gallery/ with `--docs`)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.figure is None:
        folder = GALLERY if args.docs else out
        args.figure = str(folder / f"{args.gallery_name}.png")
    return out

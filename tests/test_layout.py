"""The house rules of docs/architecture.md, checked on the source: layers import only the
public names of the layers below them, no import cycle (imports inside functions included),
private internals of dependencies only in `jaxnc/runtime/`, no file above ~400 lines, no
function above ~80 lines without a stated reason, and tests, experiments and benchmarks on
public names only (the tests that must see internals live in `tests/internals/`)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jaxnc"

# The layers, lowest first: a package imports only from packages before it (and itself).
LAYERS = ("errors", "runtime", "geometry", "parameters", "protocol", "physics", "models",
          "solve", "data", "analysis", "fitting", "inference", "design", "plot", "papers",
          "cli")
# The one module allowed to reach into dependencies' private modules, with a test per
# internal it uses (tests/internals/test_dependency_internals.py).
INTERNALS = "jaxnc.runtime._internals"
THIRD_PARTY = ("jax", "jaxlib", "equinox", "diffrax", "lineax", "optimistix", "optax",
               "blackjax", "numpy", "matplotlib", "tqdm", "jaxtyping")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
REASON = "# Long:"  # the one-line reason a longer function carries (after its docstring)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(path: Path, name: str, known: dict[str, Path]):
    """Every module `path` imports (at any depth of its code), resolved to jaxnc module
    names where it is one of ours; `(line, module)` pairs, plus the names taken from it."""
    tree = ast.parse(path.read_text())
    package = name if _is_package(path) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = tuple(a.name for a in node.names)
            # `from pkg import sub` imports the submodule `pkg.sub` where there is one.
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
            if subs:
                for sub in subs:
                    yield node.lineno, sub, ()
                rest = tuple(n for n in names if f"{module}.{n}" not in known)
                if rest:
                    yield node.lineno, module, rest
            else:
                yield node.lineno, module, names


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private(name: str) -> bool:
    """`_x` is private; `__x__` (`__version__`, `__future__`) is not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_part(module: str) -> str | None:
    """The first private component of a dotted module name, or None."""
    return next((p for p in module.split(".") if _private(p)), None)


def test_no_module_imports_another_packages_private_module_or_name():
    known = _modules()
    bad = []
    for name, path in known.items():
        own = name if _is_package(path) else name.rpartition(".")[0]
        for line, module, names in _imports(path, name, known):
            if not module.startswith("jaxnc"):
                continue
            target_package = module.rpartition(".")[0] if module in known and not \
                _is_package(known[module]) else module
            private = _private_part(module) or next(
                (n for n in names if _private(n)), None)
            if private and target_package != own:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module} "
                           f"{list(names) or ''}")
    assert not bad, "cross-package private imports:\n" + "\n".join(bad)


def test_layers_import_only_the_layers_below_them():
    known = _modules()
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    bad = []
    for name, path in known.items():
        layer = _top(name)
        if layer not in rank:
            continue
        for line, module, names in _imports(path, name, known):
            target = _top(module) if module.startswith("jaxnc.") else None
            if target in rank and rank[target] > rank[layer]:
                bad.append(f"{path.relative_to(ROOT)}:{line} ({layer}) imports {module} "
                           f"({target}, a higher layer)")
            # The top-level package re-exports every layer's names (`jaxnc.sweep`, ...):
            # through it a low layer would reach a high one. Only its dunders may be taken.
            if module == "jaxnc" and (not names or any(not n.startswith("__") for n in names)):
                bad.append(f"{path.relative_to(ROOT)}:{line} ({layer}) imports the top-level "
                           f"package jaxnc {list(names)}: import the layer's own package")
    assert not bad, "\n".join(bad)
    # Every top-level package or module of jaxnc has its place in the list.
    tops = {_top(n) for n in known if _top(n) and not _top(n).startswith("__")}
    assert tops <= set(LAYERS), f"not placed in LAYERS: {sorted(tops - set(LAYERS))}"


def test_no_import_cycle():
    known = _modules()
    graph = {name: sorted({m for _, m, _ in _imports(path, name, known) if m in known} - {name})
             for name, path in known.items()}
    # A package's submodule importing its own package's __init__ is a cycle too (the
    # package imports its submodules); depth-first search for a back edge.
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for node in graph:
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_private_dependency_internals_only_in_the_runtime_internals_module():
    known = _modules()
    bad = []
    for name, path in known.items():
        if name == INTERNALS:
            continue
        for line, module, names in _imports(path, name, known):
            if module.split(".")[0] not in THIRD_PARTY:
                continue
            if _private_part(module) or any(_private(n) for n in names):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module} {list(names)}")
    assert not bad, f"private dependency internals outside {INTERNALS}:\n" + "\n".join(bad)


def test_files_and_functions_are_short_or_say_why():
    long_files = [f"{p.relative_to(ROOT)} ({n} lines)" for p in PACKAGE.rglob("*.py")
                  if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES]
    assert not long_files, "files above ~400 lines: " + ", ".join(long_files)
    long_functions = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.end_lineno - node.lineno + 1 <= MAX_FUNCTION_LINES:
                continue
            # The reason: a comment just above the `def` (decorators) or in the function.
            text = "\n".join(lines[max(node.lineno - 4, 0):node.end_lineno])
            if REASON not in text:
                long_functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} "
                                      f"({node.end_lineno - node.lineno + 1} lines)")
    assert not long_functions, ("functions above ~80 lines without a '# Long:' reason:\n"
                                + "\n".join(long_functions))


def test_tests_experiments_and_benchmarks_use_public_names():
    """Only tests/internals/ may import private jaxnc modules or names."""
    known = _modules()
    bad = []
    folders = [ROOT / "tests", ROOT / "experiments", ROOT / "benchmarks"]
    for folder in folders:
        for path in folder.rglob("*.py"):
            if "internals" in path.relative_to(ROOT).parts:
                continue
            for line, module, names in _imports(path, "scripts.x", known):
                if not module.startswith("jaxnc"):
                    continue
                if _private_part(module) or any(_private(n) for n in names):
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {module} "
                               f"{list(names) or ''}")
    assert not bad, "private jaxnc names outside tests/internals/:\n" + "\n".join(bad)


def test_no_document_cites_a_file_outside_the_repository():
    """The design brief the project started from is not in the repository: the README, the
    docs and the code's docstrings say where things are in it instead (docs/model.md for the
    model's equations), never "DESIGN §N"."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
             *sorted(PACKAGE.rglob("*.py")), *sorted((ROOT / "experiments").glob("*.py"))]
    cited = [str(p.relative_to(ROOT)) for p in texts
             if re.search(r"DESIGN(\.md| ?§|'s)", p.read_text())]
    assert not cited, f"files citing the design brief outside the repository: {cited}"

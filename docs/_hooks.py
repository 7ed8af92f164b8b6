"""MkDocs hooks (`hooks:` in mkdocs.yml): pages generated from the code, and math rendered to
MathML at build time.

- `<!-- jaxnc:cli -->` (docs/cli.md) becomes the help of `jaxnc` and of every command, from
  the argument parsers themselves (`jaxnc.cli.build_parser`), so the reference cannot drift
  from the code.
- `<!-- jaxnc:parameters -->` (docs/model.md) becomes the table of every parameter of
  `Parameters.hashimoto2024()`: name (unit in the name), value, meaning, kind of source and
  the source itself (`jaxnc.parameters`).
- `$...$` and `$$...$$` (pymdownx.arithmatex, generic mode) are converted to MathML with
  latex2mathml, so formulas render in any current browser with no script and no network; a
  formula latex2mathml cannot read fails the build, naming the page.
"""

from __future__ import annotations

import argparse
import html
import os
import re

_CLI = "<!-- jaxnc:cli -->"
_PARAMETERS = "<!-- jaxnc:parameters -->"
# argparse wraps at $COLUMNS; fixed, so the page does not depend on the terminal
_HELP_COLUMNS = "100"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if _CLI in markdown:
        markdown = markdown.replace(_CLI, cli_reference())
    if _PARAMETERS in markdown:
        markdown = markdown.replace(_PARAMETERS, parameter_table())
    return markdown


def on_page_content(content: str, page, config, files) -> str:
    try:
        return _MATH.sub(_mathml, content)
    except Exception as e:  # latex2mathml's own errors name no page
        raise ValueError(f"{page.file.src_path}: a formula could not be converted: {e}") from e


def cli_reference() -> str:
    """Markdown: `jaxnc --help`, then each command's `--help`, as argparse prints them."""
    from jaxnc.cli import build_parser

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = _HELP_COLUMNS
    try:
        parser = build_parser()
        (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parts = ["## `jaxnc`", "", "```text", parser.format_help().rstrip(), "```", ""]
        for name, command in sub.choices.items():
            parts += [f"## `jaxnc {name}`", "", "```text", command.format_help().rstrip(),
                      "```", ""]
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before
    return "\n".join(parts)


def parameter_table() -> str:
    """Markdown: every parameter of the default set with its value, meaning and source."""
    from jaxnc.parameters import (
        HASHIMOTO2024_SOURCE_KINDS,
        HASHIMOTO2024_SOURCES,
        PARAMETER_INFO,
        Parameters,
    )

    values = Parameters.hashimoto2024().to_dict()
    rows = ["| parameter | value | meaning | kind | source |", "|---|---|---|---|---|"]
    for name, (_constraint, meaning) in PARAMETER_INFO.items():
        source = HASHIMOTO2024_SOURCES[name]
        kind = HASHIMOTO2024_SOURCE_KINDS[name].value
        cells = [f"`{name}`", f"{values[name]:.6g}", meaning, kind, source]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


# arithmatex (generic) writes \( \) inside <span class="arithmatex"> and \[ \] inside
# <div class="arithmatex">.
_MATH = re.compile(
    r'<(span|div) class="arithmatex">\s*\\([\(\[])(.*?)\\[\)\]]\s*</\1>', re.DOTALL)


def _mathml(match: re.Match) -> str:
    from latex2mathml.converter import convert

    display = "block" if match.group(2) == "[" else "inline"
    mathml = convert(html.unescape(match.group(3)), display=display)
    if display == "block":
        return f'<div class="math">{mathml}</div>'
    return mathml

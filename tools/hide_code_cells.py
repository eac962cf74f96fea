"""Give every chapter code cell an explicit ``#| echo: false`` (idempotent; outputs untouched).

The site hides code project-wide (``execute: echo: false`` in ``_quarto.yml``), which Quarto
applies to stored notebooks as to executed ones. This script is the fallback that
QUARTO-FACTS verified by rendering: per-cell ``#| echo: false``. It inserts the line at the
end of each code cell's option block (or as its first line), leaves cells that already set
``echo`` alone, and touches nothing else, so nbval's stored outputs stay byte-identical.

    python tools/hide_code_cells.py            # rewrite chapters/*.ipynb in place
    python tools/hide_code_cells.py --check    # exit 1 if a cell lacks an echo option
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

_OPTION = re.compile(r"^#\s*\| ?")
_ECHO = re.compile(r"^#\s*\|\s*echo\s*:")


def hide_code(source: str) -> str:
    """``source`` with ``#| echo: false`` added to its option block, unless echo is set.

    >>> hide_code("#| label: fig-x\\nshow(fig)")
    '#| label: fig-x\\n#| echo: false\\nshow(fig)'
    >>> hide_code("x = 1")
    '#| echo: false\\nx = 1'
    >>> hide_code(hide_code("x = 1")) == hide_code("x = 1")
    True
    """
    lines = source.split("\n")
    options = 0
    while options < len(lines) and _OPTION.match(lines[options]):
        if _ECHO.match(lines[options]):
            return source
        options += 1
    return "\n".join([*lines[:options], "#| echo: false", *lines[options:]])


def hide_code_in(path: Path, *, check: bool = False) -> int:
    """Cells of ``path`` that lacked an echo option (rewritten unless ``check``)."""
    raw = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(raw, as_version=4)
    changed = 0
    for cell in notebook.cells:
        if cell.cell_type == "code":
            new = hide_code(cell.source)
            if new != cell.source:
                changed += 1
                cell.source = new
    if changed and not check:
        path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    targets = args.notebooks or sorted((root / "chapters").glob("[0-9][0-9]-*.ipynb"))
    total = 0
    for path in targets:
        count = hide_code_in(path, check=args.check)
        total += count
        if count:
            print(f"{path.name}: {count} cell(s) {'lack' if args.check else 'given'} echo: false")
    return 1 if args.check and total else 0


if __name__ == "__main__":
    sys.exit(main())

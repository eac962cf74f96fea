"""Quarto post-render step: publish every chapter notebook beside the rendered site.

Pages show no code (``execute: echo: false`` in ``_quarto.yml``); analysts read it in one
place per page instead, the chapter's notebook with every cell and stored output. Quarto can
neither embed an ``.ipynb`` as a page's source (``code-tools`` keeps only text sources) nor
link to an input file without rewriting the link to its rendered page, so this step copies
``chapters/NN-slug.ipynb`` to ``<output-dir>/notebooks/slug.ipynb``, the path each chapter's
``code-links`` entry points at (checked by ``tests/quarto_rules.py``). The chapter number is
dropped so that the front matter holds no hand-typed digits (tests/test_prose_numbers.py).

Quarto runs it from the project directory after every render, with the output directory
in ``$QUARTO_PROJECT_OUTPUT_DIR`` (quarto-web ``docs/projects/scripts.qmd``). Standard
library only: Quarto runs it with whichever ``python`` is on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

#: Folder of the published notebooks inside the site (mirrors ``quarto_rules.NOTEBOOKS_DIR``).
NOTEBOOKS_DIR = "notebooks"


def published_name(chapter: str) -> str:
    """``01-data.ipynb`` -> ``data.ipynb``.

    >>> published_name("07-conclusions.ipynb")
    'conclusions.ipynb'
    """
    return re.sub(r"^\d+-", "", chapter)


def publish_notebooks(project_dir: Path, output_dir: Path) -> list[Path]:
    """Copy ``chapters/[0-9][0-9]-*.ipynb`` into ``output_dir/notebooks/``; return the copies."""
    dest = output_dir / NOTEBOOKS_DIR
    dest.mkdir(parents=True, exist_ok=True)
    copies = []
    for notebook in sorted((project_dir / "chapters").glob("[0-9][0-9]-*.ipynb")):
        copies.append(Path(shutil.copyfile(notebook, dest / published_name(notebook.name))))
    return copies


def main() -> int:
    project_dir = Path.cwd()
    output_dir = project_dir / os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_site")
    copies = publish_notebooks(project_dir, output_dir)
    print(f"published {len(copies)} notebooks to {output_dir / NOTEBOOKS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

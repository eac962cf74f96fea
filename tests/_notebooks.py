"""Chapter notebooks as plain JSON, for the fast tests.

A helper module, not a test module: test modules import it, never one another. Notebooks are
nbformat 4 JSON; reading and writing them with :mod:`json` spares the fast tests importing
``nbformat`` (whose schema validator costs seconds at import). The slow tests that execute or
render notebooks use ``nbformat`` itself.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_cells(path: str | Path) -> list[dict]:
    """A notebook's cells, each ``source`` joined into one string (as ``nbformat`` reads it)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return [{**cell, "source": "".join(cell["source"]) if isinstance(cell["source"], list)
             else cell["source"]} for cell in cells]


def write_notebook(path: str | Path, cells: list[dict]) -> Path:
    """Write an nbformat 4 notebook holding ``cells`` (see :func:`code_cell`)."""
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    Path(path).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return Path(path)


def code_cell(source: str, outputs: list[dict] | None = None, execution_count: int = 1) -> dict:
    """A code cell with its outputs (``execute_result`` dicts with ``data``)."""
    return {"cell_type": "code", "id": f"code-{execution_count}", "metadata": {},
            "execution_count": execution_count, "source": source,
            "outputs": [{"output_type": "execute_result", "execution_count": execution_count,
                         "metadata": {}, **output} for output in outputs or []]}


def markdown_cell(source: str) -> dict:
    """A Markdown cell."""
    return {"cell_type": "markdown", "id": f"md-{abs(hash(source)) % 10**8}", "metadata": {},
            "source": source}


def raw_cell(source: str) -> dict:
    """A raw cell (a chapter's YAML front matter is one)."""
    return {"cell_type": "raw", "id": f"raw-{abs(hash(source)) % 10**8}", "metadata": {},
            "source": source}

"""Executing chapter notebooks: the one way a chapter is built.

``python -m analysis.cli chapters`` and the chapter benchmark (:mod:`analysis.bench`) both run
chapters through :func:`execute_notebook`, so what the build stores is what the benchmark
times. It imports nothing else from ``analysis``: any module may use it.
"""

from __future__ import annotations

from pathlib import Path


def execute_notebook(path: Path, *, timeout: int = 600) -> None:
    """Run a chapter top to bottom in a fresh kernel and store its outputs in place.

    Stored outputs are what Quarto renders for ``.ipynb`` chapters and what nbval compares, so
    a chapter is "built" exactly when this has run on it. No timing metadata is kept: an
    unchanged chapter re-executes to a byte-identical file.

    Parameters
    ----------
    path : Path
        The notebook; its folder is the kernel's working directory.
    timeout : int, optional
        Seconds any one cell may run.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    for cell in notebook.cells:  # timestamps of an earlier run would make every run a diff
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)

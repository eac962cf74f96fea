"""Public names of a package imported from their module on first use (PEP 562).

:mod:`analysis.models` and :mod:`analysis.external` re-export names whose modules load
scikit-learn, XGBoost, pandera or Optuna; a reader that only wants the artifacts' accessors
should not pay for those. Both packages take their ``__getattr__`` and ``__dir__`` from
:func:`lazy_attributes`, so the rule (unknown name: :class:`AttributeError`; a loaded name is
cached in the package's namespace; ``dir()`` lists the lazy names too) is written once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, lazy: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose ``lazy`` names (name -> module
    inside the package) load on first use and are then kept in ``namespace`` (its globals).

    Examples
    --------
    >>> namespace = {"__name__": "collections"}
    >>> getattr_, dir_ = lazy_attributes("collections", {"Mapping": "abc"}, namespace)
    >>> dir_()
    ['Mapping', '__name__']
    >>> getattr_("Mapping").__module__, "Mapping" in namespace
    ('collections.abc', True)
    >>> getattr_("nothing")
    Traceback (most recent call last):
    AttributeError: module 'collections' has no attribute 'nothing'
    """

    def __getattr__(name: str):
        """Import a heavy public name from its module on first use (PEP 562)."""
        if name not in lazy:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{lazy[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(lazy))

    return __getattr__, __dir__

"""analysis.models (the package's __init__): the public API and the OpenMP default."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import pytest

import analysis.models as models
from analysis.paths import PROJECT_ROOT


def test_every_public_name_resolves():
    assert len(models.__all__) == len(set(models.__all__))
    for name in models.__all__:
        assert hasattr(models, name), name


def test_the_readme_api_is_there():
    """README: ``analysis.models.load("cold_start")`` and the Champion's three predictors."""
    assert models.load is models.load_champion
    for method in ("predict", "predict_interval", "predict_hit_probability"):
        assert callable(getattr(models.Champion, method))
    assert inspect.signature(models.Champion.predict_interval).parameters[
        "confidence"].default == 0.9


def test_openmp_waits_passively_before_any_library_loads():
    """The OMP_WAIT_POLICY default must be set before the first import that can load an
    OpenMP runtime (every submodule import runs after it: the package file runs first)."""
    tree = ast.parse(inspect.getsource(models))
    body = [node for node in tree.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    setdefault = next(i for i, node in enumerate(body)
                      if "OMP_WAIT_POLICY" in ast.unparse(node))
    before = [ast.unparse(node) for node in body[:setdefault]]
    assert before == ["from __future__ import annotations", "import os"]


@pytest.mark.slow
def test_importing_the_package_loads_no_modeling_library():
    """Chapters that only read artifacts import ``analysis.models`` without paying for
    scikit-learn, XGBoost, MAPIE or Optuna; the first heavy name used imports its module."""
    script = ("import sys, analysis.models as m\n"
              "heavy = ('sklearn', 'xgboost', 'mapie', 'optuna')\n"
              "print(sorted(h for h in heavy if h in sys.modules))\n"
              "m.make_model\n"
              "print(sorted(h for h in heavy if h in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True, cwd=PROJECT_ROOT).stdout.splitlines()
    assert out[0] == "[]" and "sklearn" in out[1]

"""The one reader of an XGBoost model's JSON dump.

Two consumers walk the champions' trees outside XGBoost: the float64 TreeSHAP port
(:mod:`analysis.trees.treeshap`) and the browser export (:mod:`analysis.export`). Both read
the same dump here, with the same refusals (boosters other than ``gbtree``, several outputs,
categorical splits), so a model one of them accepts is a model the other reads the same way.

Numbers are kept as the decimal text XGBoost wrote: the export parses each to the exact float32
XGBoost stores (:func:`analysis.export.compact_json.decimal_to_float32`), TreeSHAP to float64
with Python's ``float``; neither reading is imposed on the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["OBJECTIVE_LINKS", "BoosterDump", "TreeDump", "read_booster"]

#: Objective -> inverse link applied to the margin. Only objectives whose prediction is a
#: scalar function of a single margin are listed; anything else is refused rather than guessed.
OBJECTIVE_LINKS: dict[str, str] = {
    "reg:squarederror": "identity",
    "reg:squaredlogerror": "identity",
    "reg:absoluteerror": "identity",
    "reg:pseudohubererror": "identity",
    "reg:quantileerror": "identity",
    "binary:logitraw": "identity",
    "binary:logistic": "logistic",
    "reg:logistic": "logistic",
    "count:poisson": "exp",
    "reg:gamma": "exp",
    "reg:tweedie": "exp",
}


@dataclass(frozen=True)
class TreeDump:
    """One tree in XGBoost's own node numbering (a parent precedes its children).

    ``left`` and ``right`` are child node numbers (-1 at a leaf), ``split_indices`` feature
    indices, ``default_left`` 0/1 (where a missing value goes). ``split_conditions`` holds
    the split threshold at an internal node and the leaf value (learning rate included) at a
    leaf, ``sum_hessian`` each node's cover; both as XGBoost's decimal text (a ``str``, or an
    ``int`` for a token without fraction or exponent), which reads back to its float32.
    """

    left: list[int]
    right: list[int]
    split_indices: list[int]
    split_conditions: list[Any]
    default_left: list[int]
    sum_hessian: list[Any]


@dataclass(frozen=True)
class BoosterDump:
    """A single-output ``gbtree`` booster as its JSON dump describes it.

    Attributes
    ----------
    objective : str
        XGBoost's objective name, e.g. ``"reg:pseudohubererror"``.
    base_score : str
        ``base_score`` as stored (output space), decimal text.
    num_feature : int
    feature_names : list of str or None
        ``booster.feature_names`` (None for a booster trained on an unnamed matrix).
    trees : tuple of TreeDump
    """

    objective: str
    base_score: str
    num_feature: int
    feature_names: list[str] | None
    trees: tuple[TreeDump, ...]


def read_booster(booster: Any) -> BoosterDump:
    """Read ``booster``'s trees and learner parameters from ``booster.save_raw("json")``.

    Raises
    ------
    ValueError
        For a booster that is not ``gbtree`` (dart, gblinear), several classes or targets,
        native categorical features or categorical splits: their trees do not follow the
        numeric ``x < threshold`` walk both consumers implement.

    Examples
    --------
    >>> import numpy as np, xgboost as xgb
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> dump = read_booster(xgb.train({"max_depth": 1}, xgb.DMatrix(X, X[:, 0]), 2))
    >>> dump.objective, dump.num_feature, len(dump.trees), dump.trees[0].left[0] != -1
    ('reg:squarederror', 2, 2, True)
    """
    learner = json.loads(bytes(booster.save_raw("json")), parse_float=str)["learner"]
    gbm = learner["gradient_booster"]
    if gbm.get("name") != "gbtree":
        raise ValueError(f"only gbtree boosters are supported, not {gbm.get('name')!r}")
    params = learner["learner_model_param"]
    if int(params.get("num_class", "0")) > 1 or int(params.get("num_target", "1")) > 1:
        raise ValueError("multi-class and multi-target models are not supported")
    if "c" in (learner.get("feature_types") or []):
        raise ValueError(
            "native categorical features are not supported; one-hot encode them (0/1 columns)"
        )
    trees = []
    for t, tree in enumerate(gbm["model"]["trees"]):
        if any(tree.get("split_type", [])) or tree.get("categories_nodes"):
            raise ValueError(f"tree {t} has a categorical split; only numeric splits are supported")
        trees.append(TreeDump(
            left=tree["left_children"], right=tree["right_children"],
            split_indices=tree["split_indices"], split_conditions=tree["split_conditions"],
            default_left=tree["default_left"], sum_hessian=tree["sum_hessian"],
        ))
    names = booster.feature_names
    return BoosterDump(
        objective=learner["objective"]["name"],
        base_score=params["base_score"].strip("[]").split(",")[0].strip(),
        num_feature=int(params["num_feature"]),
        feature_names=None if names is None else list(names),
        trees=tuple(trees),
    )

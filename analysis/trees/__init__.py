"""XGBoost trees outside XGBoost: one reader of the model dump, and exact float64 TreeSHAP.

:mod:`analysis.trees.reader` reads a booster's JSON dump once, with one set of refusals;
:mod:`analysis.trees.treeshap` walks the trees for SHAP values and interactions (numba). The
explanations (:mod:`analysis.explain`) and the browser export (:mod:`analysis.export`) both
read the champions through here.
"""

from analysis.trees.reader import OBJECTIVE_LINKS, BoosterDump, TreeDump, read_booster
from analysis.trees.treeshap import (
    BIAS,
    IDENTITY_LINK_OBJECTIVES,
    ParsedTrees,
    interaction_values,
    parse_booster,
    tree_contributions,
    xgboost_contributions,
)

__all__ = [
    "BIAS",
    "IDENTITY_LINK_OBJECTIVES",
    "OBJECTIVE_LINKS",
    "BoosterDump",
    "ParsedTrees",
    "TreeDump",
    "interaction_values",
    "parse_booster",
    "read_booster",
    "tree_contributions",
    "xgboost_contributions",
]

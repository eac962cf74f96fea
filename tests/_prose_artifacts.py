"""Artifacts for the prose tests: a hand-built metrics.json, a cleaning summary, a genre finding.

A helper module, not a test module: test modules import it, never one another. The cached
explanations the prose reads are the committed ``models/shap/`` (read in milliseconds).
"""

from __future__ import annotations

import pandas as pd


def synthetic_metrics() -> dict:
    """A metrics.json with the fields the Drivers, Conclusions and front page read."""
    from analysis.genres import MACRO_GENRES
    from analysis.models import SCHEMA_VERSION

    def m(value, sd=0.01):
        return {"mean": value, "sd": sd, "folds": [value] * 5}

    def champion(r2):
        return {"label": "XGBoost (tuned)", "metrics": {
            "r2": m(r2), "mae": m(8.5), "rmse": m(11.0), "spearman": m(0.7), "hit_auc": m(0.86),
            "top1_precision": m(0.55)},
            "intervals": {"mondrian": {level: {
                "coverage": cover, "mean_width": width, "by_macro_genre": {
                    g: {"coverage": cover - 0.01 * (i % 3), "mean_width": width, "n": 10}
                    for i, g in enumerate(MACRO_GENRES)}}
                for level, cover, width in (("0.8", 0.801, 30.0), ("0.9", 0.902, 40.0))}},
            "error_analysis": {"by_popularity_band": {
                "0": {"n": 5, "mae": 20.0, "bias": 20.0}, "40-59": {"n": 5, "mae": 5.0,
                                                                     "bias": 0.5},
                "80-100": {"n": 0, "mae": None, "bias": None}},
                "zero_popularity": {"share_of_total_absolute_error": 0.3,
                                    "mae_without_zeros": 7.5}}}

    def hit_classifier(auc, top1):
        return {"metrics": {"hit_auc": m(auc), "top1_precision": m(top1), "hit_rate": m(0.12)}}
    return {
        "schema_version": SCHEMA_VERSION,
        "original_results": {"linear_regression": {"r2": 0.252, "mae": 14.17},
                             "random_forest": {"r2": 0.801, "mae": 4.86},
                             "xgboost": {"r2": 0.756, "mae": 5.92},
                             "xgboost_tuned": {"r2": 0.800, "mae": 5.11}},
        "hit_threshold": 60,
        "protocols": {
            "seed_replica": {"leaky": True, "models": {
                "random_forest": {"label": "Random Forest (300 trees)",
                                  "metrics": {"r2": {"mean": 0.789, "sd": None}}}}},
            "known_artist": {"leaky": False, "models": {"xgboost_tuned": champion(0.661)},
                             "triage": hit_classifier(0.93, 0.81)},
            "cold_start": {"leaky": False, "models": {"xgboost_tuned": champion(0.347)},
                           "triage": hit_classifier(0.91, 0.72)},
        },
        "findings": {"leak_audit": {"seed_replica": {
            "test_rows_whose_track_is_also_in_train": 0.21,
            "test_rows_feature_equals_label": 0.33}}},
        "champions": {p: {"model": "xgboost_tuned"} for p in ("known_artist", "cold_start")},
    }


#: The genre-mood finding the front page quotes (Kruskal–Wallis ε² of one feature).
KRUSKAL = pd.DataFrame({"feature": ["acousticness"], "epsilon_squared": [0.31],
                        "magnitude": ["large"]})

CLEANING_SUMMARY = {"input_rows": 114000, "genres": 114, "rows_repeating_a_track_id": 24259,
                    "tracks": 89740, "popularity_conflicts": 720,
                    "popularity_conflict_max_spread": 44}

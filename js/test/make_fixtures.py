"""Regenerate the parity fixtures that ``node --test js/test/`` checks ``predictor.js`` against.

Run from the project root::

    python js/test/make_fixtures.py            # rewrites js/test/fixtures/

Each fixture pairs an exported model with inputs, XGBoost's predictions and
``pred_contribs`` and shap's ``TreeExplainer`` values; ``js/test/parity.test.js`` reads every
``*.fixture.json`` it finds. The models here are small synthetic stand-ins for the champions
(kept small so the committed fixtures stay well under 300 KB). For the real check, write a
fixture for each champion on real tracks outside the repository and point Node at it::

    from analysis.export import write_parity_fixture
    write_parity_fixture(champion, X_tracks, feature_names=names,
                         path="/tmp/parity/popularity.fixture.json")
    # then: TRACK_ANALYTICS_JS_FIXTURES=/tmp/parity node --test js/test/
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
GENRES = ("pop", "rock", "jazz", "electronic", "classical")
NUMERIC = (
    "danceability", "energy", "loudness", "tempo", "duration_s",
    "acousticness", "valence", "speechiness",
)


def make_synthetic_tracks(n: int = 3000, *, random_state: int = 42) -> pd.DataFrame:
    """Track-like numeric frame: audio features with NaNs, 0/1 flags, a one-hot genre block.

    Values carry 3 decimals, so most are *not* float32-exact and the browser's float32
    rounding is exercised; ``popularity`` (0-100) and ``hit`` are the targets.
    """
    rng = np.random.default_rng(random_state)
    frame = pd.DataFrame({
        "danceability": rng.uniform(0, 1, n),
        "energy": rng.beta(2, 2, n),
        "loudness": rng.normal(-8, 4, n).clip(-40, 0),
        "tempo": rng.uniform(60, 200, n),
        "duration_s": rng.gamma(9, 25, n),
        "acousticness": rng.beta(0.5, 1.5, n),
        "valence": rng.uniform(0, 1, n),
        "speechiness": rng.beta(1, 12, n),
    }).round(3)
    for column in NUMERIC:  # ~8% missing, so default directions get used
        frame.loc[rng.random(n) < 0.08, column] = np.nan
    frame["explicit"] = (rng.random(n) < 0.2).astype(float)
    frame["mode"] = (rng.random(n) < 0.6).astype(float)
    genre = rng.integers(0, len(GENRES), n)
    for i, name in enumerate(GENRES):
        frame[f"genre_{name}"] = (genre == i).astype(float)
    d = frame.fillna(frame.median())
    popularity = (
        25 + 25 * d.danceability + 12 * d.energy - 0.8 * (d.loudness + 6).abs()
        + 10 * d.explicit * d.energy + np.array([12, 5, -6, 8, -10])[genre]
        - 0.02 * (d.duration_s - 220).abs() + rng.normal(0, 6, n)
    )
    frame["popularity"] = popularity.clip(0, 100).round()
    frame["hit"] = (frame.popularity >= 55).astype(int)
    return frame


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Model inputs of a synthetic frame, in training order."""
    return [c for c in frame.columns if c not in ("popularity", "hit")]


def make_synthetic_models(*, random_state: int = 42) -> dict[str, tuple]:
    """Small regressor (early-stopped) and logistic classifier on synthetic tracks.

    Returns ``{name: (model, X_holdout, feature_names, metadata)}``.
    """
    import xgboost as xgb

    frame = make_synthetic_tracks(random_state=random_state)
    names = feature_columns(frame)
    train, valid, hold = frame.iloc[:2000], frame.iloc[2000:2600], frame.iloc[2600:]
    regressor = xgb.XGBRegressor(
        n_estimators=60, max_depth=5, learning_rate=0.15, min_child_weight=3,
        early_stopping_rounds=5, random_state=random_state, n_jobs=1,
    ).fit(train[names], train.popularity,
          eval_set=[(valid[names], valid.popularity)], verbose=False)
    classifier = xgb.XGBClassifier(
        n_estimators=25, max_depth=4, learning_rate=0.3, random_state=random_state, n_jobs=1,
    ).fit(train[names], train.hit)
    interval = {"alpha": 0.1, "lower_offset": 9.5, "upper_offset": 10.5, "clip": [0, 100],
                "by_group": {"rock": {"lower_offset": 8.0, "upper_offset": 9.0}}}
    return {
        "regression": (regressor, hold[names], names,
                       {"target": "popularity", "interval": interval}),
        "logistic": (classifier, hold[names], names, {"target": "hit"}),
    }


def main(out_dir: Path = FIXTURES_DIR, *, rows: int = 160) -> list[dict]:
    """Write ``<name>.fixture.json`` and ``<name>.model.json`` for each synthetic model."""
    from analysis.export import write_parity_fixture

    reports = []
    for name, (model, X, names, metadata) in make_synthetic_models().items():
        reports.append(write_parity_fixture(
            model, X.iloc[:rows], feature_names=names, metadata=metadata,
            path=Path(out_dir) / f"{name}.fixture.json",
        ))
    return reports


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the `analysis` package
    for report in main():
        print(
            f"{report['fixture']}: {report['rows']} rows, model {report['model']['bytes']:,} B"
            f" ({report['model']['gzip_bytes']:,} gzip), reference vs XGBoost "
            f"{report['max_abs_reference_vs_xgboost']:.2g}, shap vs pred_contribs "
            f"{report['max_abs_shap_vs_xgboost']:.2g}"
        )

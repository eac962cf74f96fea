"""analysis.models.design: the one design matrix and the evaluation designs."""

from __future__ import annotations

import numpy as np
import pytest
from _tiny_models import TINY, synthetic_data

from analysis.features import ARTIST_HISTORY_COLUMNS, ArtistHistory, make_features
from analysis.models.design import design_matrix, honest_design
from analysis.models.evaluation import fold_data


@pytest.fixture(scope="module")
def tracks():
    return synthetic_data()[0].tracks.reset_index(drop=True)


def test_cold_start_matrix_is_the_feature_contract(tracks):
    X = design_matrix(tracks, "cold_start")
    assert X.equals(make_features(tracks, protocol="cold_start"))
    with pytest.raises(ValueError, match="honest"):
        design_matrix(tracks, "seed_replica")


def test_known_artist_history_of_other_rows_comes_from_the_fit_rows(tracks):
    fit = np.arange(0, len(tracks), 2)
    rest = np.arange(1, len(tracks), 2)
    X = design_matrix(tracks, "known_artist", fit_rows=fit, n_splits=TINY.n_splits)
    expected = ArtistHistory.fit(tracks.iloc[fit]).transform(tracks.iloc[rest])
    got = X.iloc[rest][list(ARTIST_HISTORY_COLUMNS)].to_numpy()
    assert np.allclose(got, expected.to_numpy(), equal_nan=True)


def test_a_training_fold_sees_the_matrix_design_matrix_builds(tracks):
    design = honest_design(tracks, "known_artist", TINY.n_splits)
    data = fold_data(design, 0, TINY)
    X = design_matrix(tracks, "known_artist", fit_rows=data.train, n_splits=TINY.n_splits)
    assert data.columns == list(X.columns)
    assert np.array_equal(data.X_test, X.iloc[data.test].to_numpy(dtype="float64"),
                          equal_nan=True)
    assert not set(data.train) & set(data.test)

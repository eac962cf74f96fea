"""analysis.models.build: real tiny builds (determinism, resume, refit == OOF) and guards.

The builds are slow (tens of seconds each on a loaded machine): they run in ``make test``,
not in ``make test-fast``, which reads the committed copy of the same build instead
(``tests/fixtures/tiny_models``). One slow test checks that copy is what the code builds.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from _tiny_models import (
    TINY,
    TINY_MODELS_DIR,
    artifact_files,
    synthetic_data,
    without_timings,
)

from analysis import paths
from analysis.models import (
    RECIPE_MODELS,
    TUNED_OBJECTIVE,
    build_models,
    build_timings,
    load_metrics,
    load_oof,
    make_model,
    model_entry,
    model_names,
    protocol_names,
)
from analysis.models import build as build_module
from analysis.models.design import honest_design
from analysis.models.evaluation import fold_data
from analysis.prose.drivers import REFIT_TOLERANCE


def _same_build(first: Path, second: Path) -> None:
    """Two builds wrote the same metrics (wall times and thread counts aside) and the same
    OOF and champion bytes."""
    a, b = load_metrics(first), load_metrics(second)
    assert without_timings(a) == without_timings(b)
    assert artifact_files(first) == artifact_files(second)
    for name in artifact_files(first):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.fixture(scope="module")
def tiny_builds(tmp_path_factory):
    """Two independent tiny builds of the same data, the second with two threads, so its
    folds run side by side in worker processes."""
    data, raw = synthetic_data()
    first = tmp_path_factory.mktemp("build1")
    second = tmp_path_factory.mktemp("build2")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.DATA_DIR_ENV_VAR, str(tmp_path_factory.mktemp("data")))
        build_models(first, data=data, raw=raw, budget=TINY, verbose=False)
        build_models(second, data=data, raw=raw, budget=replace(TINY, n_jobs=2), verbose=False)
    return first, second, data


@pytest.mark.slow
def test_two_tiny_builds_are_identical_whatever_their_threads(tiny_builds):
    first, second, _ = tiny_builds
    _same_build(first, second)
    assert (first / "metrics.json").read_text().index('"timings"') > 0


@pytest.mark.slow
def test_committed_tiny_build_is_what_the_code_builds(tiny_builds):
    """If this fails after a change of model results, run
    ``python tests/fixtures/make_tiny_models.py`` and commit the fixture."""
    _same_build(tiny_builds[0], TINY_MODELS_DIR)


@pytest.mark.slow
def test_an_interrupted_build_resumes_to_the_same_artifacts(tiny_builds, tmp_path, monkeypatch):
    data, raw = synthetic_data()
    out = tmp_path / "models"
    monkeypatch.setenv(paths.DATA_DIR_ENV_VAR, str(tmp_path / "data"))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(build_module, "train_champion", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_models(out, data=data, raw=raw, budget=TINY, verbose=False)
    assert not out.exists()  # nothing written before everything is computed
    assert any(paths.build_checkpoints_dir().iterdir())
    build_models(out, data=data, raw=raw, budget=TINY, verbose=False)
    metrics = load_metrics(out)
    resumed = build_timings(metrics)["resumed_from_checkpoint"]
    assert len(resumed) == sum(len(model_names(metrics, p)) for p in protocol_names(metrics)) + 2
    assert not any(paths.build_checkpoints_dir().iterdir())  # removed once written
    _same_build(tiny_builds[0], out)


@pytest.mark.parametrize("build", [
    pytest.param(0, marks=pytest.mark.slow, id="fresh-1-thread"),
    pytest.param(1, marks=pytest.mark.slow, id="fresh-2-threads"),
    pytest.param(None, id="committed-tiny"),
])
def test_a_fold_model_refitted_from_its_record_is_the_scored_model(request, build):
    if build is None:
        folder, data = TINY_MODELS_DIR, synthetic_data()[0]
    else:
        tiny_builds = request.getfixturevalue("tiny_builds")
        folder, data = tiny_builds[build], tiny_builds[2]
    design = honest_design(data.tracks.reset_index(drop=True), "cold_start", TINY.n_splits)
    tuned = model_entry(load_metrics(folder), "cold_start", "xgboost_tuned")["fold_params"]
    for model in ("xgboost_tuned", *RECIPE_MODELS):  # a recipe model: the tuned parameters
        record = model_entry(load_metrics(folder), "cold_start", model)
        assert record["fold_params"] == tuned
        oof = load_oof("cold_start", model, folder).set_index("track_id")["y_pred"]
        for fold, params in enumerate(record["fold_params"]):
            assert params["objective"] == TUNED_OBJECTIVE
            data_fold = fold_data(design, fold, TINY, model)
            refit = make_model(model, params=params, n_jobs=1)
            pred = refit.fit(*data_fold.learned()[:2]).predict(data_fold.X_test)
            committed = oof.loc[design.ids.to_numpy()[data_fold.test]].to_numpy(dtype="float64")
            assert np.max(np.abs(committed - pred)) <= REFIT_TOLERANCE  # OOF files store 0.01


def test_build_refuses_bad_data_and_writes_nothing(tmp_path, monkeypatch):
    bad = tmp_path / "dataset.csv"
    bad.write_text("not,the,dataset\n1,2,3\n")
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(bad))
    monkeypatch.setenv(paths.DATA_DIR_ENV_VAR, str(tmp_path / "data"))
    out = tmp_path / "models"
    with pytest.raises(Exception, match="dataset.csv"):
        build_models(out, verbose=False)
    assert not out.exists()


def test_checkpoints_are_keyed_by_every_modeling_source_in_a_fixed_order(tmp_path, monkeypatch):
    sources = build_module.checkpoint_sources()
    package = [p.name for p in sources if p.parent.name == "models"]
    assert package == sorted(package) and {"build.py", "zoo.py", "__init__.py"} <= set(package)
    assert [f"{p.parent.name}/{p.name}" for p in sources[len(package):]] == [
        "analysis/protocols.py", "features/__init__.py", "features/history.py",
        "features/text.py"]
    monkeypatch.setenv(paths.DATA_DIR_ENV_VAR, str(tmp_path))
    key = build_module.checkpoint_dir(tmp_path, "0" * 64, TINY)
    assert key == build_module.checkpoint_dir(tmp_path, "0" * 64, TINY)
    assert key != build_module.checkpoint_dir(tmp_path, "1" * 64, TINY)
    assert key != build_module.checkpoint_dir(tmp_path, "0" * 64, replace(TINY, n_trials=3))


def test_forests_are_carried_over_only_from_a_build_of_the_same_folds():
    previous = json.loads((TINY_MODELS_DIR / "metrics.json").read_text())
    signature = previous["protocols"]["cold_start"]["fold_signature"]
    entry, timing = build_module._carry_over(previous, "cold_start", "random_forest", signature)
    assert entry["reused_from_previous_build"] is True and "fit_seconds" in timing
    assert build_module._carry_over(previous, "cold_start", "random_forest", "other") is None
    assert build_module._carry_over(None, "cold_start", "random_forest", signature) is None

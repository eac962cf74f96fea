"""Export XGBoost models to a compact JSON that the browser predictor evaluates.

Two layers, kept apart:

* the generic tree format, any single-output XGBoost model as data
  (:mod:`~analysis.export.trees_json`: :func:`export_xgboost`, the reference evaluator
  :func:`predict_exported`, :func:`load_exported`), its sha256 manifest
  (:mod:`~analysis.export.manifest`) and the cross-language parity fixtures that
  ``node --test js/test/`` checks the JavaScript with (:mod:`~analysis.export.parity`);
* the predictor page's exports (:mod:`~analysis.export.predictor_page`): the selectable
  champions with the metadata the page's controls, interval, presets and model card need, the
  reference tracks and the manifest, written by :func:`export_champions`;
* the triage page's rules as data (:mod:`~analysis.export.triage_spec`, ``models/triage/``)
  and the catalogues its parity test and benchmark read (:mod:`~analysis.export.triage_data`,
  written from the real data into the gitignored ``data/triage_web/``).

The exports' JSON text (exact float32 numbers, compact arrays) is written by
:mod:`~analysis.export.compact_json`; the trees are read by :mod:`analysis.trees`.
"""

from analysis.export.manifest import (
    MANIFEST_FORMAT,
    MANIFEST_VERSION,
    ExportIntegrityError,
    read_manifest,
    write_manifest,
)
from analysis.export.parity import FIXTURE_FORMAT, FIXTURE_VERSION, write_parity_fixture
from analysis.export.predictor_page import (
    PAGE_FORMAT,
    PAGE_VERSION,
    REFERENCE_FILE,
    SELECTABLE_MODELS,
    champion_matrix,
    export_champions,
    load_export_manifest,
)
from analysis.export.trees_json import (
    FORMAT,
    FORMAT_VERSION,
    export_xgboost,
    load_exported,
    predict_exported,
)

__all__ = [
    "FIXTURE_FORMAT",
    "FIXTURE_VERSION",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_FORMAT",
    "MANIFEST_VERSION",
    "PAGE_FORMAT",
    "PAGE_VERSION",
    "REFERENCE_FILE",
    "SELECTABLE_MODELS",
    "ExportIntegrityError",
    "champion_matrix",
    "export_champions",
    "export_xgboost",
    "load_export_manifest",
    "load_exported",
    "predict_exported",
    "read_manifest",
    "write_manifest",
    "write_parity_fixture",
]

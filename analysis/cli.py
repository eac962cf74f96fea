"""Build verbs: ``python -m analysis.cli <verb>`` (the Makefile calls these).

Each verb is a thin shell over library functions so that what the build does is also what the
tests exercise. Heavy imports happen inside the verbs: ``data`` should not pay for xgboost.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from analysis import paths
from analysis.notebooks import execute_notebook


def _data(args: argparse.Namespace) -> None:
    from analysis.data import load_tracks

    start = time.perf_counter()
    result = load_tracks(args.path, refresh=args.refresh)
    s = result.summary
    print(
        f"verified {s['input_rows']:,} rows (sha256 {result.sha256[:12]}…) -> "
        f"{s['tracks']:,} tracks in {time.perf_counter() - start:.2f} s"
    )


def _models(args: argparse.Namespace) -> None:
    from analysis.models import build_models

    build_models(out_dir=paths.MODELS_DIR, skip_random_forest=args.skip_random_forest)


def _explain(args: argparse.Namespace) -> None:
    from analysis.explain import build_explanations

    build_explanations(models_dir=paths.MODELS_DIR)


def _export(args: argparse.Namespace) -> None:
    from analysis.export import export_champions

    export_champions(models_dir=paths.MODELS_DIR)


def _external(args: argparse.Namespace) -> None:
    from analysis.external import build_external, set_counts, set_names

    start = time.perf_counter()
    report = build_external(paths.MODELS_DIR, external_dir=args.external_dir)
    for name in set_names(report):
        c = set_counts(report, name)
        print(f"{name}: read {c['read']:,}, rejected {c['rejected']:,}, duplicates "
              f"{c['duplicates']:,}, in training {c['overlap_dropped']:,}, scored {c['scored']:,}")
    print(f"external evaluation in {time.perf_counter() - start:.1f} s")


def _transfer(args: argparse.Namespace) -> None:
    from analysis.external.comparison import build_transfer

    start = time.perf_counter()
    report = build_transfer(paths.MODELS_DIR, external_dir=args.external_dir)
    for role in ("popularity_model", "hit_classifier"):
        chosen = report["selection"][role]
        print(f"{role}: {chosen['chosen']} by {chosen['measure']} "
              f"({chosen['measure_source']}); keeps the recipe it had: "
              f"{chosen['keeps_current']}")
    print(f"transfer comparison in {time.perf_counter() - start:.1f} s")


def _chapters(args: argparse.Namespace) -> None:
    targets = [Path(p) for p in args.notebooks] or sorted(paths.CHAPTERS_DIR.glob("*.ipynb"))
    for notebook in targets:
        start = time.perf_counter()
        execute_notebook(notebook)
        print(f"executed {notebook.name} in {time.perf_counter() - start:.1f} s")


def _site_assets(args: argparse.Namespace) -> None:
    from analysis.plots import ensure_plotly_js
    from analysis.tables import ensure_table_assets

    print(f"plotly.js at {ensure_plotly_js()}")
    print(f"DataTables bundle at {ensure_table_assets()}")


def _bench(args: argparse.Namespace) -> None:
    from analysis.bench import run_benchmarks

    run_benchmarks(only=args.only, repeat=args.repeat)


def _triage(args: argparse.Namespace) -> int:
    from analysis.triage.cli import main as triage_main

    return triage_main(args)


VERBS: dict[str, tuple[Callable[[argparse.Namespace], None], str]] = {
    "data": (_data, "locate or download the raw file, verify it, build the processed cache"),
    "models": (_models, "retrain every protocol x model and write models/"),
    "explain": (_explain, "compute SHAP and permutation importances for the champions (cached)"),
    "export": (_export, "export the champion models for the browser predictor"),
    "external": (_external, "score the champions on the external crawls into "
                            "models/external.json"),
    "transfer": (_transfer, "compare model recipes on the external crawls and apply the "
                            "selection rule into models/transfer.json"),
    "chapters": (_chapters, "execute chapter notebooks in place"),
    "site-assets": (_site_assets, "copy plotly.js and the DataTables bundle into assets/"),
    "bench": (_bench, "print the performance figures the issues set targets for"),
    "triage": (_triage, "rank a catalogue file by hit probability (see triage --help)"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``track-analytics`` / ``python -m analysis.cli``."""
    parser = argparse.ArgumentParser(prog="track-analytics", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    for name, (_, help_text) in VERBS.items():
        sub = verbs.add_parser(name, help=help_text)
        if name == "data":
            sub.add_argument("--path", help="explicit raw file (plain or gzip CSV)")
            sub.add_argument("--refresh", action="store_true", help="rebuild the cache")
        if name == "models":
            sub.add_argument("--skip-random-forest", action="store_true",
                             help="leave out the 300-tree forests (the original's cost)")
        if name in ("external", "transfer"):
            sub.add_argument("--external-dir",
                             help="folder holding the external crawls' files (default: "
                                  f"${paths.EXTERNAL_ENV_VAR}, the shared copies, data/external/,"
                                  " else download)")
        if name == "chapters":
            sub.add_argument("notebooks", nargs="*", help="default: every chapters/*.ipynb")
        if name == "bench":
            sub.add_argument("--only", choices=("triage",),
                             help="only this section (the others take minutes)")
            sub.add_argument("--repeat", type=int, default=1,
                             help="runs of each triage figure; the median is printed")
        if name == "triage":
            from analysis.triage.cli import add_arguments

            sub.description = "Rank a catalogue by hit probability: a ranked file and a " \
                "rejects file, streamed in chunks."
            add_arguments(sub)
    args = parser.parse_args(argv)
    if args.verb == "triage":
        return VERBS["triage"][0](args)
    from analysis.data import DatasetError
    from analysis.schema import TrackDataError

    try:
        VERBS[args.verb][0](args)
    except (DatasetError, TrackDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m analysis.cli triage INPUT``: a catalogue file in, a ranked file and a rejects
file out, streamed in chunks with bounded memory.

The file is read in chunks (:func:`analysis.triage.reader.read_catalogue`); each chunk is
validated, scored and filtered with the pieces of :func:`analysis.triage.triage`, its rejects
appended to a temporary rejects file and its scored rows spilled to a temporary Arrow file.
Only what ranking needs stays in memory (hit probability, prediction, line, the filter
verdict: 25 bytes a track, plus 88 for "sounds like"). The ranking is then written in blocks
of rank (:data:`WRITE_BLOCK_ROWS`), each gathered from the spill, so memory stays bounded
however long the catalogue. Outputs are written under temporary names beside their
destination and renamed at the end; on any error nothing is left behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.schema import RAW_COLUMNS, TrackDataError
from analysis.triage.core import (
    LikeTrackError,
    TriageFilters,
    add_reasons,
    check_genres,
    explain_rows,
    filter_mask,
    no_valid_row,
    rank_order,
    rejects_frame,
)
from analysis.triage.reader import DEFAULT_CHUNK_ROWS, read_catalogue
from analysis.triage.scoring import (
    OUTPUT_COLUMNS,
    REASON_COLUMNS,
    like_matrix,
    like_scale,
    load_context,
    score_rows,
)

__all__ = ["EXAMPLES", "WRITE_BLOCK_ROWS", "add_arguments", "main", "run_triage"]

#: Ranked rows gathered from the spill per pass when writing (bounds the writer's memory).
WRITE_BLOCK_ROWS = 250_000

EXAMPLES = """\
examples:
  # rank a catalogue; writes catalogue.ranked.csv and catalogue.rejects.csv beside it
  python -m analysis.cli triage catalogue.csv.gz

  # the 100 likeliest hits among energetic Pop and Latin tracks of 2 to 4 minutes,
  # with reasons for the first 20, as Parquet
  python -m analysis.cli triage catalogue.parquet --top 100 --explain 20 \\
      --macro-genre Pop --macro-genre Latin --energy 0.7:1 --duration-min 2:4 \\
      --output shortlist.parquet

  # 25 clean tracks that sound like a given track, scored by the known-artist model
  python -m analysis.cli triage catalogue.csv --model known_artist \\
      --like 4LRPiXqCikLlN15c3yImP7 --neighbours 25 --no-explicit

exit codes: 0 written; 2 bad input (a file-level problem, no valid row, a bad option:
the message names the file, line and column); 1 internal error.
"""


@dataclass
class _Keys:
    """What ranking needs, per accepted row, in spill order."""

    p_hit: list
    prediction: list
    line: list
    keep: list
    like: list
    is_like: list


def run_triage(
    source: str | os.PathLike,
    *,
    output: str | os.PathLike | None = None,
    rejects: str | os.PathLike | None = None,
    model: str = "cold_start",
    top: int | None = None,
    explain: int = 0,
    filters: TriageFilters | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = True,
    context=None,
) -> dict:
    """Triage a file into a ranked file and a rejects file (see the module docstring).

    Returns
    -------
    dict
        ``n_read``, ``n_accepted``, ``n_out_of_distribution``, ``n_rejected`` (distinct
        lines), ``n_passed`` (after filters), ``n_written``, ``seconds``, ``output``,
        ``rejects``.
    """
    start = time.perf_counter()
    source = Path(source)
    filters = TriageFilters.of(filters)
    output = Path(output) if output is not None else _default_output(source)
    rejects = Path(rejects) if rejects is not None else _default_rejects(output)
    context = context or _context(model)
    name = os.fspath(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    rejects.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".triage-", dir=output.parent))
    try:
        summary = _stream(source, name, context, filters, chunk_rows, work, progress)
        summary.update(_write_ranked(summary.pop("state"), context, filters, top, explain,
                                     work / f"ranked{output.suffix}", output.suffix))
        _finish_rejects(work / "rejects.arrow", work / f"rejects{rejects.suffix}")
        os.replace(work / f"ranked{output.suffix}", output)
        os.replace(work / f"rejects{rejects.suffix}", rejects)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary.update(output=os.fspath(output), rejects=os.fspath(rejects),
                   seconds=time.perf_counter() - start)
    return summary


@cache
def _context(model: str):
    """The scoring context, loaded once per process (the champion is hash-checked then)."""
    return load_context(model)


def _default_output(source: Path) -> Path:
    stem = source.name.split(".")[0] or "catalogue"
    return source.with_name(f"{stem}.ranked.csv")


def _default_rejects(output: Path) -> Path:
    stem = output.name.removesuffix(output.suffix).removesuffix(".ranked")
    suffix = ".parquet" if output.suffix == ".parquet" else ".csv"
    return output.with_name(f"{stem}.rejects{suffix}")


def _stream(source: Path, name: str, context, filters: TriageFilters, chunk_rows: int,
            work: Path, progress: bool) -> dict:
    import pyarrow as pa
    from tqdm import tqdm

    keys = _Keys([], [], [], [], [], [])
    spill_writer = rejects_writer = None
    batch_rows: list[int] = []
    present: list[str] | None = None
    n_read = n_accepted = n_rejected = n_ood = 0
    like_vector = None
    scale = like_scale(context) if filters.like is not None else None
    bar = tqdm(desc="triage", unit=" tracks", disable=not progress, file=sys.stderr,
               mininterval=0.5)
    try:
        for chunk in read_catalogue(source, name=name, chunk_rows=chunk_rows):
            valid, problems = check_genres(chunk.valid, chunk.problems, name=name)
            n_read += chunk.n_read
            n_rejected += len({p.row for p in problems})
            if problems:
                table = pa.Table.from_pandas(rejects_frame(problems), preserve_index=False)
                if rejects_writer is None:
                    rejects_schema = table.schema
                    rejects_writer = pa.ipc.new_file(work / "rejects.arrow", rejects_schema)
                rejects_writer.write_table(table.cast(rejects_schema))
            bar.update(chunk.n_read)
            if valid.empty:
                continue
            if present is None:
                present = [c for c in RAW_COLUMNS if c in valid.columns]
            n_accepted += len(valid)
            scored = score_rows(valid, context, name=name)
            n_ood += int(scored["out_of_distribution"].sum())
            keys.p_hit.append(scored["p_hit"].to_numpy())
            keys.prediction.append(scored["predicted_popularity"].to_numpy())
            keys.line.append(scored["line"].to_numpy())
            keys.keep.append(filter_mask(scored, filters))
            if filters.like is not None:
                coordinates = like_matrix(valid, scale)
                ids = (valid["track_id"].astype("str").to_numpy(dtype=object, na_value="")
                       if "track_id" in valid.columns else np.full(len(valid), "", object))
                is_like = ids == filters.like
                if like_vector is None and is_like.any():
                    like_vector = coordinates[np.flatnonzero(is_like)[0]]
                keys.like.append(coordinates.astype(np.float64))
                keys.is_like.append(is_like)
            table = _spill_table(scored, valid)
            if spill_writer is None:
                spill_schema = table.schema
                spill_writer = pa.ipc.new_file(work / "scored.arrow", spill_schema)
            if not table.schema.equals(spill_schema):
                table = table.cast(spill_schema)
            spill_writer.write_table(table)
            batch_rows.append(len(table))
    finally:
        bar.close()
        for writer in (spill_writer, rejects_writer):
            if writer is not None:
                writer.close()
    if rejects_writer is None:
        table = pa.Table.from_pandas(rejects_frame([]), preserve_index=False)
        with pa.ipc.new_file(work / "rejects.arrow", table.schema) as writer:
            writer.write_table(table)
    if n_accepted == 0:
        raise no_valid_row(name, n_read, _read_problems(work / "rejects.arrow", name))
    if filters.like is not None and like_vector is None:
        raise LikeTrackError(f"track {filters.like!r} is not among the catalogue's accepted "
                             "rows (rejected or absent)")
    state = {"keys": keys, "batch_rows": batch_rows, "present": present,
             "spill": work / "scored.arrow", "like_vector": like_vector}
    return {"n_read": n_read, "n_accepted": n_accepted, "n_rejected": n_rejected,
            "n_out_of_distribution": n_ood, "state": state}


def _spill_table(scored: pd.DataFrame, valid: pd.DataFrame):
    import pyarrow as pa

    extra = valid[[c for c in valid.columns if c in RAW_COLUMNS and c not in scored.columns]]
    frame = pd.concat([scored, extra.set_axis(scored.index)], axis=1)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _read_problems(path: Path, name: str):
    import pyarrow as pa

    from analysis.schema import Problem

    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    frame = table.to_pandas()
    return [Problem(name, int(r.line), r.column or None, r.reason)
            for r in frame.head(1000).itertuples()]


def _write_ranked(state: dict, context, filters: TriageFilters, top: int | None,
                  explain: int, path: Path, suffix: str) -> dict:
    import pyarrow as pa

    keys: _Keys = state["keys"]
    p_hit = np.concatenate(keys.p_hit)
    prediction = np.concatenate(keys.prediction)
    line = np.concatenate(keys.line)
    keep = np.concatenate(keys.keep)
    if filters.like is not None:
        coordinates = np.concatenate(keys.like)
        is_like = np.concatenate(keys.is_like)
        distance = np.sqrt(((coordinates - state["like_vector"]) ** 2).sum(axis=1))
        candidates = np.flatnonzero(keep & ~is_like)
        nearest = candidates[np.lexsort((line[candidates], distance[candidates]))]
        keep = np.zeros(len(keep), dtype=bool)
        keep[nearest[:filters.neighbours]] = True
    selected = np.flatnonzero(keep)
    order = selected[rank_order({"p_hit": p_hit[selected], "line": line[selected],
                                 "predicted_popularity": prediction[selected]})]
    if top is not None:
        order = order[:top]
    offsets = np.concatenate([[0], np.cumsum(state["batch_rows"])])
    columns = list(OUTPUT_COLUMNS) + (list(REASON_COLUMNS) if explain else [])
    writer = None
    # Read, not memory-mapped: mapped pages would count in the process's resident memory.
    with pa.OSFile(str(state["spill"])) as source:
        spill = pa.ipc.open_file(source)
        for block_start in range(0, max(len(order), 1), WRITE_BLOCK_ROWS):
            block = order[block_start:block_start + WRITE_BLOCK_ROWS]
            frame = _gather(spill, offsets, block)
            frame.insert(0, "rank", np.arange(block_start + 1, block_start + len(block) + 1,
                                              dtype=np.int64))
            if explain:
                n = max(0, min(explain - block_start, len(frame)))
                raw = frame.iloc[:n][state["present"]].set_index(frame["line"].iloc[:n])
                if "explicit" in raw.columns:  # validated: never missing
                    raw["explicit"] = raw["explicit"].astype(bool)
                reasons = explain_rows(raw, context)
                frame = add_reasons(frame, reasons)
            table = pa.Table.from_pandas(frame[columns], preserve_index=False)
            writer = writer or _writer(path, suffix, table.schema)
            writer.write_table(table)
    writer.close()
    return {"n_passed": int(keep.sum()), "n_written": int(len(order))}


def _gather(spill, offsets: np.ndarray, positions: np.ndarray) -> pd.DataFrame:
    """Rows at spill ``positions``, in that order (one read of each batch they fall in)."""
    import pyarrow as pa

    batch_of = np.searchsorted(offsets, positions, side="right") - 1
    parts, where = [], []
    for batch in np.unique(batch_of).tolist():
        mine = np.flatnonzero(batch_of == batch)
        local = positions[mine] - offsets[batch]
        parts.append(spill.get_batch(batch).take(pa.array(local)))
        where.append(mine)
    if not parts:
        schema = spill.schema
        return pa.Table.from_batches([], schema=schema).to_pandas()
    table = pa.Table.from_batches(parts)
    row_of = np.empty(len(positions), dtype=np.int64)  # table row holding positions[i]
    row_of[np.concatenate(where)] = np.arange(len(positions))
    return table.take(pa.array(row_of)).to_pandas()


def _writer(path: Path, suffix: str, schema):
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema, compression="zstd")
    import pyarrow.csv as pacsv

    return pacsv.CSVWriter(path, schema)


def _finish_rejects(arrow_path: Path, path: Path) -> None:
    import pyarrow as pa

    with pa.memory_map(str(arrow_path)) as source:
        reader = pa.ipc.open_file(source)
        writer = _writer(path, path.suffix, reader.schema)
        for i in range(reader.num_record_batches):
            writer.write_batch(reader.get_batch(i))
        writer.close()


# --- the verb ----------------------------------------------------------------------------------


def _range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX, got {text!r}") from None
    if low > high:
        raise argparse.ArgumentTypeError(f"MIN must not exceed MAX, got {text!r}")
    return low, high


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``triage`` verb's options (``--help`` shows :data:`EXAMPLES`)."""
    from analysis.genres import MACRO_GENRES

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXAMPLES
    parser.add_argument("input", help="catalogue: CSV (plain or gzip) or Parquet, in the raw "
                        "dataset's columns (audio features and duration required)")
    parser.add_argument("--model", default="cold_start", choices=("cold_start", "known_artist"),
                        help="champion (default: cold_start, for new artists)")
    parser.add_argument("--output", help="ranked file, .csv or .parquet "
                        "(default: INPUT's name + .ranked.csv, beside it)")
    parser.add_argument("--rejects", help="rejects file, .csv or .parquet "
                        "(default: beside the output, .rejects.csv)")
    parser.add_argument("--top", type=int, metavar="N", help="keep the first N of the ranking")
    parser.add_argument("--explain", type=int, default=0, metavar="N",
                        help="reasons (top three TreeSHAP drivers) for the first N rows")
    parser.add_argument("--macro-genre", action="append", default=[], metavar="NAME",
                        choices=MACRO_GENRES, help="keep this macro-genre (repeatable): "
                        + ", ".join(MACRO_GENRES))
    for name in ("energy", "valence", "danceability"):
        parser.add_argument(f"--{name}", type=_range, metavar="MIN:MAX",
                            help=f"keep {name} in [MIN, MAX] (0 to 1)")
    parser.add_argument("--tempo", type=_range, metavar="MIN:MAX", help="keep tempo, BPM")
    parser.add_argument("--duration-min", type=_range, metavar="MIN:MAX",
                        help="keep durations in minutes")
    explicit = parser.add_mutually_exclusive_group()
    explicit.add_argument("--explicit", dest="explicit", action="store_true", default=None,
                          help="explicit tracks only")
    explicit.add_argument("--no-explicit", dest="explicit", action="store_false",
                          help="clean tracks only")
    parser.add_argument("--like", metavar="TRACK_ID",
                        help="keep the tracks that sound most like this track of the catalogue")
    parser.add_argument("--neighbours", type=int, default=20, metavar="K",
                        help="how many, with --like (default 20)")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, metavar="N",
                        help=f"rows read per chunk (default {DEFAULT_CHUNK_ROWS:,})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Run the verb; print a summary, or the error, and return the exit code."""
    try:
        duration = args.duration_min
        filters = TriageFilters.of({
            "macro_genres": tuple(args.macro_genre), "energy": args.energy,
            "valence": args.valence, "danceability": args.danceability, "tempo": args.tempo,
            "duration_ms": None if duration is None else (duration[0] * 60_000,
                                                          duration[1] * 60_000),
            "explicit": args.explicit, "like": args.like, "neighbours": args.neighbours})
        if not Path(args.input).is_file():
            raise FileNotFoundError(f"{args.input}: no such file")
        summary = run_triage(args.input, output=args.output, rejects=args.rejects,
                             model=args.model, top=args.top, explain=args.explain,
                             filters=filters, chunk_rows=args.chunk_rows,
                             progress=not args.quiet)
    except (TrackDataError, LikeTrackError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - the exit code must say "internal", with the trace
        traceback.print_exc()
        print("error: internal error (see the trace above); nothing was written",
              file=sys.stderr)
        return 1
    rate = summary["n_read"] / summary["seconds"] if summary["seconds"] else float("nan")
    print(f"read {summary['n_read']:,} rows: {summary['n_accepted']:,} accepted "
          f"({summary['n_out_of_distribution']:,} out of distribution), "
          f"{summary['n_rejected']:,} rejected, {summary['n_passed']:,} passed the filters; "
          f"wrote {summary['n_written']:,} ranked rows to {summary['output']} and the rejects "
          f"to {summary['rejects']} in {summary['seconds']:.1f} s ({rate:,.0f} tracks/s)")
    return 0


def _argv_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.cli triage")
    add_arguments(parser)
    return main(parser.parse_args(argv))

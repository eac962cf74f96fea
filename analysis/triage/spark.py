"""Triage on Spark, for catalogues beyond one machine: the same scoring, per partition.

:func:`triage_spark` takes a Spark DataFrame in the raw dataset's columns and a ``line``
column (:func:`with_lines` numbers the rows of Parquet files as the command line does: row
position + 2, files in path order), validates and scores each partition with
``mapInPandas`` and the very pieces :func:`analysis.triage.triage` uses
(:func:`~analysis.triage.core.partition`, :func:`~analysis.triage.scoring.score_rows`,
:func:`~analysis.triage.core.filter_mask`), then lets Spark rank globally (``p_hit``
descending, ``predicted_popularity`` descending, ``line`` ascending), cut the shortlist and
apply "sounds like". Reasons, when asked for, are computed on the driver for the first rows
only. Rejects come back as a second DataFrame.

Entry point (reads and writes Parquet)::

    spark-submit --py-files analysis.zip -m analysis.triage.spark IN.parquet OUT.parquet
    python -m analysis.triage.spark IN.parquet OUT.parquet --master local[2]

Each executor loads the champion once per Python worker (hash-checked, from the ``models/``
folder shipped beside the package: see the README's "Triage on a cluster").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd

from analysis.triage.core import REJECT_COLUMNS, TriageFilters

__all__ = ["main", "ranked_schema", "rejects_schema", "triage_spark", "with_lines"]


def _spark_types():
    from pyspark.sql import types as T

    return T


def ranked_schema(*, reasons: bool = False):
    """Spark schema of the ranked output (the contract of :data:`OUTPUT_COLUMNS`)."""
    T = _spark_types()
    string, double = T.StringType(), T.DoubleType()
    fields = [T.StructField("rank", T.LongType()), T.StructField("line", T.LongType())]
    fields += [T.StructField(c, string) for c in ("track_id", "track_name", "artists",
                                                  "album_name", "track_genre", "macro_genre")]
    fields += [T.StructField(c, double) for c in ("p_hit", "predicted_popularity", "lower_80",
                                                  "upper_80", "lower_90", "upper_90")]
    fields += [T.StructField("out_of_distribution", T.BooleanType()),
               T.StructField("ood_reason", string)]
    fields += [T.StructField(c, double) for c in ("energy", "valence", "danceability",
                                                  "tempo")]
    fields += [T.StructField("duration_ms", T.LongType()),
               T.StructField("explicit", T.BooleanType())]
    if reasons:
        fields += [T.StructField(f"reason_{i}", string) for i in (1, 2, 3)]
    return T.StructType(fields)


def rejects_schema():
    T = _spark_types()
    return T.StructType([T.StructField("line", T.LongType()),
                         *(T.StructField(c, T.StringType()) for c in REJECT_COLUMNS[1:])])


def _scored_schema(like: bool):
    T = _spark_types()
    fields = [f for f in ranked_schema().fields if f.name != "rank"]
    fields.append(T.StructField("_keep", T.BooleanType()))
    if like:
        fields += [T.StructField("_distance", T.DoubleType()),
                   T.StructField("_is_like", T.BooleanType())]
    return T.StructType(fields)


@cache
def _context(model: str, models_dir: str | None):
    from analysis.triage.scoring import load_context

    return load_context(model, models_dir=models_dir)


def with_lines(spark, path: str):
    """Read Parquet file(s) with a ``line`` column: each row's position + 2, counting across
    the files in path order (the command line's numbering for a single file)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frame = spark.read.parquet(path).select("*", F.col("_metadata.file_path").alias("_file"),
                                            F.col("_metadata.row_index").alias("_row"))
    counts = frame.groupBy("_file").count()
    offsets = counts.select(
        "_file", (F.sum("count").over(Window.orderBy("_file")) - F.col("count")).alias("_offset"))
    return (frame.join(F.broadcast(offsets), "_file")
            .withColumn("line", F.col("_offset") + F.col("_row") + 2)
            .drop("_file", "_row", "_offset"))


def triage_spark(
    frame,
    *,
    model: str = "cold_start",
    shortlist: int | None = None,
    explain: int = 0,
    filters: TriageFilters | dict | None = None,
    source: str = "<spark>",
    models_dir: str | None = None,
):
    """Rank a Spark DataFrame (raw columns + ``line``); returns ``(ranked, rejects)``.

    ``ranked`` is a Spark DataFrame ordered by rank (collect or write it); reasons, when
    ``explain`` is set, are added on the driver (``ranked`` is then the first ``explain``
    rows' pandas-backed DataFrame joined back). ``rejects`` has :data:`REJECT_COLUMNS`.

    Raises
    ------
    analysis.triage.NoValidRowError, analysis.triage.LikeTrackError
        As :func:`analysis.triage.triage` does (checked with two small Spark jobs).
    """
    from pyspark.sql import functions as F

    from analysis.triage.core import LikeTrackError, no_valid_row
    from analysis.triage.scoring import like_scale

    chosen = TriageFilters.of(filters)
    context = _context(model, models_dir)  # load and check on the driver first
    like = chosen.like
    reference = None
    if like is not None:
        scale = like_scale(context)
        reference = _like_reference(frame, like, source, model, models_dir, scale)
        if reference is None:
            raise LikeTrackError(f"track {like!r} is not among the catalogue's accepted rows "
                                 "(rejected or absent)")
    else:
        scale = None
    columns = [c for c in frame.columns if c != "line"]

    def score(batches):
        from analysis.triage.core import filter_mask, partition
        from analysis.triage.scoring import like_matrix, score_rows

        ctx = _context(model, models_dir)
        for batch in batches:
            if batch.empty:
                continue
            lines = batch["line"].to_numpy(dtype=np.int64)
            valid, problems = partition(batch[columns], name=source, lines=lines)
            if valid.empty:
                continue
            scored = score_rows(valid, ctx, name=source)
            scored["_keep"] = filter_mask(scored, chosen)
            if reference is not None:
                coords = like_matrix(valid, scale)
                scored["_distance"] = np.sqrt(((coords - reference) ** 2).sum(axis=1))
                ids = (valid["track_id"].astype("str").to_numpy(dtype=object, na_value="")
                       if "track_id" in valid.columns else np.full(len(valid), "", object))
                scored["_is_like"] = ids == like
            yield scored.reset_index(drop=True)

    def rejects(batches):
        from analysis.triage.core import partition, rejects_frame

        for batch in batches:
            if batch.empty:
                continue
            lines = batch["line"].to_numpy(dtype=np.int64)
            _, problems = partition(batch[columns], name=source, lines=lines)
            if problems:
                yield rejects_frame(problems)

    scored = frame.mapInPandas(score, schema=_scored_schema(like is not None)).cache()
    rejected = frame.mapInPandas(rejects, schema=rejects_schema())
    if scored.count() == 0:  # also fills the cache: every later stage reads it
        n_read = frame.count()
        problems = [_problem(source, r) for r in rejected.orderBy("line").limit(1000).collect()]
        raise no_valid_row(source, n_read, problems)
    kept = scored.where(F.col("_keep"))
    if like is not None:
        kept = (kept.where(~F.col("_is_like"))
                .orderBy(F.col("_distance").asc(), F.col("line").asc()).limit(chosen.neighbours))
    ordered = kept.orderBy(F.col("p_hit").desc(), F.col("predicted_popularity").desc(),
                           F.col("line").asc())
    if shortlist is not None:
        ordered = ordered.limit(shortlist).coalesce(1).sortWithinPartitions(
            F.col("p_hit").desc(), F.col("predicted_popularity").desc(), F.col("line").asc())
    ranked = _number(ordered).select(*ranked_schema().fieldNames())
    if explain:
        ranked = _with_reasons(frame, ranked, explain, context, columns, source)
    return ranked, rejected


def _number(ordered):
    """``rank`` 1, 2, ... along a globally sorted DataFrame, without moving it to one
    partition: each row's position in its (range) partition plus the rows of the partitions
    before it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    tagged = (ordered.withColumn("_part", F.spark_partition_id())
              .withColumn("_id", F.monotonically_increasing_id()))
    tagged = tagged.withColumn("_pos", F.col("_id") - F.shiftleft(F.col("_part").cast("long"),
                                                                     33)).cache()
    sizes = tagged.groupBy("_part").count()
    offsets = sizes.select("_part", (F.sum("count").over(Window.orderBy("_part"))
                                     - F.col("count")).alias("_offset"))
    return (tagged.join(F.broadcast(offsets), "_part")
            .withColumn("rank", F.col("_offset") + F.col("_pos") + 1)
            .drop("_part", "_id", "_pos", "_offset"))


def _problem(source, row):
    from analysis.schema import Problem

    return Problem(source, int(row["line"]), row["column"] or None, row["reason"])


def _like_reference(frame, like, source, model, models_dir, scale):
    """The standardised coordinates of the first accepted row with ``track_id == like``."""
    from pyspark.sql import functions as F

    from analysis.triage.core import partition
    from analysis.triage.scoring import like_matrix

    if "track_id" not in frame.columns:
        return None
    rows = frame.where(F.col("track_id") == like).orderBy("line").toPandas()
    if rows.empty:
        return None
    lines = rows["line"].to_numpy(dtype=np.int64)
    valid, _ = partition(rows.drop(columns="line"), name=source, lines=lines)
    if valid.empty:
        return None
    return like_matrix(valid, scale)[0]


def _with_reasons(frame, ranked, explain, context, columns, source):
    """Reasons for the first ``explain`` ranks, computed on the driver."""
    from pyspark.sql import functions as F

    from analysis.triage.core import add_reasons, explain_rows, partition

    head = ranked.where(F.col("rank") <= explain).orderBy("rank").toPandas()
    raw = frame.join(F.broadcast(ranked.where(F.col("rank") <= explain).select("line")), "line")
    raw = raw.toPandas()
    lines = raw["line"].to_numpy(dtype=np.int64)
    valid, _ = partition(raw[columns], name=source, lines=lines)
    reasons = explain_rows(valid.loc[head["line"].to_numpy()], context)
    head = add_reasons(head, reasons.reset_index(drop=True))
    spark = frame.sparkSession
    explained = spark.createDataFrame(head, schema=ranked_schema(reasons=True))
    rest = ranked.where(F.col("rank") > explain)
    for column in ("reason_1", "reason_2", "reason_3"):
        rest = rest.withColumn(column, F.lit(""))
    return explained.unionByName(rest).orderBy("rank")


def _session(master: str | None):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("track-analytics-triage")
    if master:
        builder = builder.master(master)
        if master.startswith("local"):
            # Workers run this interpreter (its packages), and a handful of shuffle
            # partitions suits one machine better than Spark's 200.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = builder.config("spark.sql.shuffle.partitions", str(4 * os.cpu_count()))
    return (builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit`` entry point: Parquet in, ranked Parquet (+ ``_rejects``) out."""
    parser = argparse.ArgumentParser(prog="analysis.triage.spark", description=main.__doc__)
    parser.add_argument("input", help="Parquet file or folder (raw dataset's columns)")
    parser.add_argument("output", help="ranked Parquet folder; rejects go to OUTPUT_rejects")
    parser.add_argument("--model", default="cold_start", choices=("cold_start", "known_artist"))
    parser.add_argument("--top", type=int)
    parser.add_argument("--explain", type=int, default=0)
    parser.add_argument("--macro-genre", action="append", default=[])
    parser.add_argument("--explicit", dest="explicit", action="store_true", default=None)
    parser.add_argument("--no-explicit", dest="explicit", action="store_false")
    parser.add_argument("--like")
    parser.add_argument("--neighbours", type=int, default=20)
    parser.add_argument("--models-dir", help="the models/ folder (default: the package's)")
    parser.add_argument("--master", help="e.g. local[2] (default: spark-submit's)")
    args = parser.parse_args(argv)
    from analysis.schema import TrackDataError
    from analysis.triage.core import LikeTrackError

    spark = _session(args.master)
    try:
        frame = with_lines(spark, args.input)
        ranked, rejects = triage_spark(
            frame, model=args.model, shortlist=args.top, explain=args.explain,
            filters={"macro_genres": tuple(args.macro_genre), "explicit": args.explicit,
                     "like": args.like, "neighbours": args.neighbours},
            source=os.path.basename(args.input.rstrip("/")), models_dir=args.models_dir)
        ranked.orderBy("rank").write.mode("overwrite").parquet(args.output)
        rejects.orderBy("line").write.mode("overwrite").parquet(
            args.output.rstrip("/") + "_rejects")
    except (TrackDataError, LikeTrackError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    return 0


def _as_pandas(path: str) -> pd.DataFrame:
    """A Spark output folder as one pandas frame (for tests and notebooks)."""
    return pd.read_parquet(path)


if __name__ == "__main__":
    # Run from the imported module, not from __main__: the functions shipped to the Python
    # workers refer to this module's globals (_context), which a worker finds by importing
    # analysis.triage.spark; in __main__ (pyspark's daemon there) they do not exist.
    from analysis.triage.spark import main as _main

    sys.exit(_main())

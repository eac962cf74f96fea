"""Reading the external crawls: every quirk rejected with its reason and counted, none repaired.

The crawls carry known quirks (``?`` for an unknown tempo, ``-1`` for an unknown duration,
the placeholder artist ``empty_field``, empty rows, a date that is not a date, Billboard
tracks listed both as hit and as flop). Fixing them would mean inventing values a model then
scores; dropping them silently would hide how much of a crawl is usable. So each row is
judged and every failed check is kept as a *reject* ``(file, line, column, value, reason)``;
a row with any reject is left out, and the counts go into ``models/external.json``.

Two kinds of bad input are told apart:

* a **quirk** in a cell is a reject, counted (:class:`ReadResult`);
* a file that cannot be read as the table at all (not CSV, broken gzip, a required column
  missing) raises :class:`analysis.schema.TrackDataError` naming file, line and column,
  through :func:`analysis.schema.read_text_table`, before anything is written.

Every field is read as text (nothing is guessed to be missing), converted by explicit rules,
then checked by a pandera schema with ``lazy=True`` so that every failure of every row is
reported. Encodings that are not repairs: music_genre ``key`` note names become pitch classes
(C = 0 … B = 11) and ``mode`` Major / Minor becomes 1 / 0, as in the main dataset.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from analysis.schema import UNIT_INTERVAL_COLUMNS, read_text_table

__all__ = [
    "BILLBOARD_COLUMNS",
    "CONFLICTING_TARGET",
    "EMPTY_ROW",
    "KEY_NAMES",
    "MUSIC_GENRE_COLUMNS",
    "MUSIC_GENRES",
    "REJECT_COLUMNS",
    "ReadResult",
    "read_billboard",
    "read_music_genre",
    "reject_summary",
]

#: Columns of a reject record.
REJECT_COLUMNS: tuple[str, ...] = ("file", "line", "column", "value", "reason")

#: Reason of a row whose every field is blank (one reject, not one per column).
EMPTY_ROW = "empty row (every field blank)"

#: Reason of every row of a Billboard uri listed once as a hit and once as a flop.
CONFLICTING_TARGET = "same uri listed as hit and flop"

#: music_genre's ``key`` spelling -> pitch class, the main dataset's encoding.
KEY_NAMES: dict[str, int] = {
    name: i for i, name in enumerate(
        ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"))
}
_MODE_WORDS: dict[str, int] = {"Major": 1, "Minor": 0}

#: The ten genres of music_genre, 5,000 rows each in the original.
MUSIC_GENRES: tuple[str, ...] = ("Alternative", "Anime", "Blues", "Classical", "Country",
                                 "Electronic", "Hip-Hop", "Jazz", "Rap", "Rock")

#: Columns music_genre must have (``instance_id`` is the crawl's row id, not used).
MUSIC_GENRE_COLUMNS: tuple[str, ...] = (
    "artist_name", "track_name", "popularity", "acousticness", "danceability", "duration_ms",
    "energy", "instrumentalness", "key", "liveness", "loudness", "mode", "speechiness",
    "tempo", "obtained_date", "valence", "music_genre",
)

#: Columns a Billboard hit-predictor file must have (``chorus_hit`` and ``sections`` are not
#: used).
BILLBOARD_COLUMNS: tuple[str, ...] = (
    "track", "artist", "uri", "danceability", "energy", "key", "loudness", "mode",
    "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
    "duration_ms", "time_signature", "target",
)

_MG_NUMBERS = ("popularity", "duration_ms", "tempo", "loudness", *UNIT_INTERVAL_COLUMNS)
_BB_NUMBERS = ("target", "duration_ms", "tempo", "loudness", "key", "mode", "time_signature",
               *UNIT_INTERVAL_COLUMNS)


# --- checks ------------------------------------------------------------------------------------

def _finite(values: pd.Series) -> np.ndarray:
    return np.isfinite(values.to_numpy(dtype="float64"))


def _whole(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.isfinite(array) & (array == np.round(array))


def _check(test, reason: str) -> pa.Check:
    return pa.Check(lambda s: pd.Series(test(s), index=s.index), error=reason)


def _number(checks: list[pa.Check]) -> pa.Column:
    """A converted number column: a cell that was not a number is null (reason below)."""
    return pa.Column(float, checks, nullable=False)


def _unit(column: str) -> pa.Column:
    return _number([_check(lambda s: s.between(0, 1), f"{column} must be between 0 and 1")])


_DURATION = _number([_check(lambda s: _whole(s) & (s > 0),
                            "duration_ms must be a whole number > 0 (-1 = unknown)")])
_TEMPO = _number([_check(lambda s: _finite(s) & (s >= 0), "tempo must be a number >= 0")])
_LOUDNESS = _number([_check(_finite, "loudness must be a finite number")])
_TITLE = pa.Column(str, _check(lambda s: s.str.strip() != "", "title is blank"))


def _in(values: tuple, reason: str) -> pa.Column:
    return _number([_check(lambda s: s.isin(values), reason)])


MUSIC_GENRE_SCHEMA = pa.DataFrameSchema({
    "artist_name": pa.Column(str, [
        _check(lambda s: s != "empty_field", "artist is the placeholder 'empty_field'"),
        _check(lambda s: s.str.strip() != "", "artist is blank")]),
    "track_name": _TITLE,
    "popularity": _number([_check(lambda s: _whole(s) & s.between(0, 100),
                                  "popularity must be a whole number from 0 to 100")]),
    "duration_ms": _DURATION,
    "tempo": _TEMPO,
    "loudness": _LOUDNESS,
    "key": pa.Column(str, pa.Check.isin(list(KEY_NAMES),
                                        error="key must be a note name from C to B")),
    "mode": pa.Column(str, pa.Check.isin(list(_MODE_WORDS), error="mode must be Major or Minor")),
    "music_genre": pa.Column(str, pa.Check.isin(list(MUSIC_GENRES),
                                                error="music_genre is not one of the ten genres")),
    "obtained_date": pa.Column(str, pa.Check.str_matches(
        r"^\d{1,2}-Apr$", error="obtained_date is not a day of April like '4-Apr'")),
    **{c: _unit(c) for c in UNIT_INTERVAL_COLUMNS},
}, name="music_genre")

BILLBOARD_SCHEMA = pa.DataFrameSchema({
    "uri": pa.Column(str, pa.Check.str_matches(
        r"^spotify:track:[0-9A-Za-z]{22}$", error="uri must be spotify:track:<22-character id>")),
    "track": _TITLE,
    "artist": pa.Column(str, _check(lambda s: s.str.strip() != "", "artist is blank")),
    "target": _in((0.0, 1.0), "target must be 0 or 1"),
    "duration_ms": _DURATION,
    "tempo": _TEMPO,
    "loudness": _LOUDNESS,
    "key": _in(tuple(float(k) for k in range(-1, 12)), "key must be -1 to 11"),
    "mode": _in((0.0, 1.0), "mode must be 0 or 1"),
    "time_signature": _in(tuple(float(k) for k in range(8)), "time_signature must be 0 to 7"),
    **{c: _unit(c) for c in UNIT_INTERVAL_COLUMNS},
}, name="billboard")


# --- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadResult:
    """What reading a crawl gave: accepted rows, rejects, and what each file held.

    Attributes
    ----------
    rows : pandas.DataFrame
        Accepted rows, typed, with ``file`` (stem) and ``line`` (1-based, header = 1).
    rejects : pandas.DataFrame
        One record per failed check (:data:`REJECT_COLUMNS`), sorted by file and line; a row
        may have several.
    files : dict
        Per file (stem): ``read`` (data rows), ``rejected`` (rows), ``sha256`` (of the
        uncompressed bytes read).
    """

    rows: pd.DataFrame
    rejects: pd.DataFrame
    files: dict[str, dict]

    @property
    def read(self) -> int:
        """Data rows in all files (= accepted + rejected)."""
        return sum(f["read"] for f in self.files.values())


def _to_number(text: pd.Series) -> pd.Series:
    """Text to float; blank or non-numeric text becomes NaN (reported as 'not a number')."""
    stripped = text.str.strip()
    return pd.to_numeric(stripped.where(stripped != ""), errors="coerce").astype("float64")


def _read(source: str | os.PathLike | bytes | BinaryIO, name: str,
          columns: tuple[str, ...]) -> tuple[pd.DataFrame, str]:
    """The file as text (structural problems raise) and the SHA-256 of its plain bytes."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            data = handle.read()
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        data = source.read()
    raw = read_text_table(data, columns=columns, name=name)
    plain = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return raw, hashlib.sha256(plain).hexdigest()


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame, raw: pd.DataFrame,
              file: str) -> pd.DataFrame:
    """Every failed check of ``frame`` as reject records (empty when all pass)."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return _rejects_frame([])
    cases = cases[cases["index"].notna()]
    lines = cases["index"].astype("int64").to_numpy()
    columns = cases["column"].astype(str).to_numpy()
    reasons = [f"{column} is not a number" if check == "not_nullable" else str(check)
               for column, check in zip(columns, cases["check"], strict=True)]
    values = [raw.at[line, column] for line, column in zip(lines, columns, strict=True)]
    return _rejects_frame(list(zip([file] * len(lines), lines, columns, values, reasons,
                                   strict=True)))


def _rejects_frame(records: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(REJECT_COLUMNS))
    frame["line"] = frame["line"].astype("int64")
    return frame


def _sorted_rejects(parts: list[pd.DataFrame], files: list[str]) -> pd.DataFrame:
    """Rejects in reading order: files as given, then line, column and reason."""
    frame = pd.concat(parts, ignore_index=True).drop_duplicates(
        ["file", "line", "column", "reason"])
    order = frame["file"].map({f: i for i, f in enumerate(files)})
    return (frame.assign(_order=order)
            .sort_values(["_order", "line", "column", "reason"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def read_music_genre(
    source: str | os.PathLike | bytes | BinaryIO, *, name: str = "music_genre",
) -> ReadResult:
    """Read and judge the music_genre file (plain or gzip CSV).

    Parameters
    ----------
    source : path, bytes or binary file object
        The file.
    name : str
        Its stem, as rejects and counts name it (and errors, with the path if given).

    Returns
    -------
    ReadResult
        Accepted rows with ``artist_name``, ``track_name``, ``popularity``, ``duration_ms``,
        the eleven audio columns the crawl has (no ``time_signature``), ``music_genre``.

    Raises
    ------
    analysis.schema.TrackDataError
        If the file cannot be read as the table (see the module docstring).

    Examples
    --------
    >>> header = ",".join(["instance_id", *MUSIC_GENRE_COLUMNS])
    >>> good = "1,A,Song,40,0.1,0.5,200000,0.5,0,C#,0.1,-5,Major,0.05,120,4-Apr,0.5,Jazz"
    >>> quirk = "2,B,Other,30,0.1,0.5,-1,0.5,0,C,0.1,-5,Minor,0.05,?,4-Apr,0.5,Rap"
    >>> result = read_music_genre(f"{header}\\n{good}\\n{quirk}\\n".encode())
    >>> result.rows[["line", "key", "mode"]].to_numpy().tolist(), result.rows["tempo"].tolist()
    ([[2, 1, 1]], [120.0])
    >>> result.rejects[["line", "column", "value", "reason"]].values.tolist()
    [[3, 'duration_ms', '-1', 'duration_ms must be a whole number > 0 (-1 = unknown)'], \
[3, 'tempo', '?', 'tempo is not a number']]
    """
    label = os.fspath(source) if isinstance(source, str | os.PathLike) else name
    raw, sha256 = _read(source, label, MUSIC_GENRE_COLUMNS)
    stem = name
    empty = (raw[list(MUSIC_GENRE_COLUMNS)].apply(lambda s: s.str.strip()) == "").all(axis=1)
    rejects = [_rejects_frame([(stem, line, "", "", EMPTY_ROW) for line in raw.index[empty]])]
    judged = raw[~empty]
    frame = pd.DataFrame(index=judged.index)
    for column in ("artist_name", "track_name", "key", "mode", "music_genre", "obtained_date"):
        frame[column] = judged[column]
    for column in _MG_NUMBERS:
        frame[column] = _to_number(judged[column])
    rejects.append(_failures(MUSIC_GENRE_SCHEMA, frame, raw, stem))
    rejects = _sorted_rejects(rejects, [stem])
    ok = frame[~frame.index.isin(rejects["line"])]
    rows = pd.DataFrame({
        "file": stem, "line": ok.index.to_numpy(dtype="int64"),
        "artist_name": ok["artist_name"], "track_name": ok["track_name"],
        "popularity": ok["popularity"].astype("int64"),
        "duration_ms": ok["duration_ms"].astype("int64"),
        **{c: ok[c] for c in ("danceability", "energy")},
        "key": ok["key"].map(KEY_NAMES).astype("int64"),
        "loudness": ok["loudness"],
        "mode": ok["mode"].map(_MODE_WORDS).astype("int64"),
        **{c: ok[c] for c in ("speechiness", "acousticness", "instrumentalness", "liveness",
                              "valence", "tempo")},
        "music_genre": ok["music_genre"],
    }).reset_index(drop=True)
    files = {stem: {"read": len(raw), "rejected": int(rejects["line"].nunique()),
                    "sha256": sha256}}
    return ReadResult(rows=rows, rejects=rejects, files=files)


def read_billboard(files: Mapping[str, str | os.PathLike | bytes]) -> ReadResult:
    """Read and judge the Billboard hit-predictor files (``{stem: file}``, in order).

    Each file is judged on its own; then a uri listed as a hit in one row and a flop in
    another (within a file or across decades) has all its rows rejected
    (:data:`CONFLICTING_TARGET`): its label is unknown. The decade is read from the stem
    (``hit_predictor_60s`` -> ``60s``).

    Returns
    -------
    ReadResult
        Accepted rows with ``decade``, ``track``, ``artist``, ``uri``, ``track_id`` (the
        22-character id), ``target``, ``duration_ms`` and the twelve audio columns; per file
        also ``hits`` and ``flops`` among the accepted rows.

    Raises
    ------
    analysis.schema.TrackDataError
        If a file cannot be read as the table.
    """
    parts, rejects, counts = [], [], {}
    for stem, source in files.items():
        label = os.fspath(source) if isinstance(source, str | os.PathLike) else stem
        raw, sha256 = _read(source, label, BILLBOARD_COLUMNS)
        frame = pd.DataFrame({c: raw[c] for c in ("uri", "track", "artist")}, index=raw.index)
        for column in _BB_NUMBERS:
            frame[column] = _to_number(raw[column])
        failed = _failures(BILLBOARD_SCHEMA, frame, raw, stem)
        rejects.append(failed)
        ok = frame[~frame.index.isin(failed["line"])]
        parts.append(ok.assign(file=stem, line=ok.index.to_numpy(dtype="int64"),
                               decade=stem.rsplit("_", 1)[-1],
                               target_text=raw.loc[ok.index, "target"]))
        counts[stem] = {"read": len(raw), "sha256": sha256}
    if not parts:
        raise ValueError("read_billboard needs at least one file")
    rows = pd.concat(parts, ignore_index=True)
    conflicting = (rows.groupby("uri")["target"].transform("nunique") > 1).to_numpy()
    clash = rows[conflicting]
    rejects.append(_rejects_frame([
        (file, line, "target", value, CONFLICTING_TARGET)
        for file, line, value in zip(clash["file"], clash["line"], clash["target_text"],
                                     strict=True)]))
    rejects = _sorted_rejects(rejects, list(files))
    rows = rows[~conflicting]
    for stem in counts:
        mine = rows[rows["file"] == stem]
        counts[stem] |= {"rejected": int(rejects.loc[rejects["file"] == stem, "line"].nunique()),
                         "hits": int((mine["target"] == 1).sum()),
                         "flops": int((mine["target"] == 0).sum())}
    out = pd.DataFrame({
        "file": rows["file"], "line": rows["line"], "decade": rows["decade"],
        "track": rows["track"], "artist": rows["artist"], "uri": rows["uri"],
        "track_id": rows["uri"].str.removeprefix("spotify:track:"),
        "target": rows["target"].astype("int64"),
        "duration_ms": rows["duration_ms"].astype("int64"),
        **{c: rows[c] for c in ("danceability", "energy")},
        "key": rows["key"].astype("int64"), "loudness": rows["loudness"],
        "mode": rows["mode"].astype("int64"),
        **{c: rows[c] for c in ("speechiness", "acousticness", "instrumentalness", "liveness",
                                "valence", "tempo")},
        "time_signature": rows["time_signature"].astype("int64"),
    }).reset_index(drop=True)
    return ReadResult(rows=out, rejects=rejects, files=counts)


def reject_summary(result: ReadResult, *, examples: int = 3) -> dict:
    """The counts ``models/external.json`` records for a crawl's reading.

    Returns
    -------
    dict
        ``read`` = ``accepted`` + ``rejected`` (rows); ``rejected_by_reason`` (rows per
        reason: a row with several reasons counts under each); ``rejected_with_several_reasons``;
        ``examples`` (per reason, the first few ``file``, ``line``, ``column``, ``value``);
        ``files`` (per file: read, rejected, and for Billboard hits and flops).

    Examples
    --------
    >>> rejects = pd.DataFrame([("f", 3, "tempo", "?", "tempo is not a number"),
    ...                         ("f", 3, "duration_ms", "-1", "duration_ms ..."),
    ...                         ("f", 5, "tempo", "?", "tempo is not a number")],
    ...                        columns=list(REJECT_COLUMNS))
    >>> result = ReadResult(pd.DataFrame({"x": range(8)}), rejects, {"f": {"read": 10}})
    >>> s = reject_summary(result, examples=1)
    >>> s["read"], s["accepted"], s["rejected"], s["rejected_by_reason"]
    (10, 8, 2, {'duration_ms ...': 1, 'tempo is not a number': 2})
    """
    rejects = result.rejects
    by_row = rejects.groupby(["file", "line"])["reason"].nunique()
    by_reason = rejects.groupby("reason", sort=True)
    return {
        "read": result.read,
        "accepted": len(result.rows),
        "rejected": int(len(by_row)),
        "rejected_by_reason": {reason: int(part[["file", "line"]].drop_duplicates().shape[0])
                               for reason, part in by_reason},
        "rejected_with_several_reasons": int((by_row > 1).sum()),
        "examples": {reason: part.head(examples)[["file", "line", "column", "value"]]
                     .to_dict("records") for reason, part in by_reason},
        "files": {stem: {k: v for k, v in info.items() if k != "sha256"}
                  for stem, info in result.files.items()},
    }
